"""Delivery preferences: the patient's own page, and staff setting them for a patient."""

from datetime import UTC, datetime, time

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models.audit_event import AuditAction, AuditEvent
from tests import factories
from tests.pages import field_error, one, text


def save(pages, path: str, expected_status: int = 302, **fields):
    pages.get(path)
    data = {"channels": ["email"], "quiet_start": "21:00", "quiet_end": "07:00", **fields}
    return pages.post(path, data=data, expected_status=expected_status)


def test_a_patient_sets_their_own_channels_and_quiet_hours(client_request, patient):
    pages = client_request.login(patient)
    save(pages, "/inbox/preferences")
    db.session.refresh(patient)
    assert sorted(patient.preferred_channels) == ["email", "in_app"]
    assert (patient.quiet_hours_start, patient.quiet_hours_end) == (time(21), time(7))
    page = pages.get("/inbox/preferences")
    assert [box["value"] for box in page.select("input[name=channels][checked]")] == ["email"]


def test_the_next_send_by_preference_follows_the_change(client_request, practitioner, patient):
    save(client_request.login(patient), "/inbox/preferences", channels=["sms"])
    result = factories.create_send(sender=practitioner, recipients=[patient], channels=None)
    assert sorted(item.channel.value for item in result.items) == ["in_app", "sms"]


def test_each_change_is_in_the_audit_log_by_whom(client_request, patient):
    save(client_request.login(patient), "/inbox/preferences")
    [event] = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == AuditAction.PREFERENCES_CHANGED))
    assert (event.actor_id, event.patient_id) == (patient.id, patient.id)


@pytest.mark.parametrize(("fields", "field", "message"), [
    ({"quiet_end": ""}, "quiet_end", "Give both ends of the quiet hours, or neither"),
    ({"quiet_start": "", "quiet_end": "06:00"}, "quiet_start", "Give both ends of the quiet hours, or neither"),
    ({"quiet_end": "21:00"}, "quiet_end", "Quiet hours end at a different time than they start"),
    ({"channels": ["carrier_pigeon"]}, "channels", "Choose from: SMS, Email, Push"),
    ({"quiet_start": "25:99"}, "quiet_start", None),
])
def test_bad_preferences_are_refused_at_their_field_and_nothing_changes(client_request, patient, fields, field,
                                                                        message):
    page = save(client_request.login(patient), "/inbox/preferences", expected_status=422, **fields)
    assert message is None or field_error(page, field) == message
    db.session.refresh(patient)
    assert sorted(patient.preferred_channels) == ["email", "in_app", "push", "sms"]


def test_a_practitioner_sets_their_patients_preferences(client_request, practitioner, patient):
    save(client_request.login(practitioner), f"/patients/{patient.id}/preferences", channels=[])
    db.session.refresh(patient)
    assert patient.preferred_channels == ["in_app"]
    event = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == AuditAction.PREFERENCES_CHANGED)).one()
    assert (event.actor_id, event.patient_id) == (practitioner.id, patient.id)


def test_a_practitioner_cannot_reach_another_practitioners_patient(client_request, other_practitioner, patient):
    client_request.login(other_practitioner).get(f"/patients/{patient.id}/preferences", expected_status=404)


def test_staff_see_whose_preferences_they_change(client_request, admin, patient):
    page = client_request.login(admin).get(f"/patients/{patient.id}/preferences")
    assert text(one(page, "h1")) == "How the clinic reaches Priya Sharma"


def test_a_patient_who_replied_stop_is_told_how_sms_comes_back(client_request, patient):
    patient.sms_opted_out_at = datetime.now(UTC)
    db.session.commit()
    page = client_request.login(patient).get("/inbox/preferences")
    assert "reply START to turn it back on" in text(one(page, "form.preferences"))
