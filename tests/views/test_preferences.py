"""Delivery preferences: the patient's own page, and staff setting them for a patient."""

from datetime import UTC, datetime, time

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models.audit_event import AuditAction, AuditEvent
from app.services import clinic_settings, preferences
from app.services.channel_choice import CHOOSABLE, CHOOSABLE_TYPES, SUGGESTED_DEFAULTS, same_for_every_type
from app.services.errors import ValidationError
from tests import factories
from tests.pages import field_error, one, text, texts


def boxes(**channels_by_type: list[str]) -> dict[str, str]:
    """The grid's ticked boxes: treatment_update=["sms"] ticks Treatment update by SMS."""
    return {f"{kind}-{channel}": "y" for kind, channels in channels_by_type.items() for channel in channels}


EMAIL_FOR_EVERYTHING = boxes(**{kind.value: ["email"] for kind in CHOOSABLE_TYPES})


def save(pages, path: str, expected_status: int = 302, grid: dict[str, str] = EMAIL_FOR_EVERYTHING, **fields):
    pages.get(path)
    data = {**grid, "quiet_start": "21:00", "quiet_end": "07:00", **fields}
    return pages.post(path, data=data, expected_status=expected_status)


def ticked(page) -> list[str]:
    return [str(box["name"]) for box in page.select(".channel-grid input[checked]")]


def test_a_patient_sets_channels_per_type_and_quiet_hours(client_request, patient):
    pages = client_request.login(patient)
    save(pages, "/inbox/preferences", grid=boxes(appointment_reminder=["sms", "email"], medication_reminder=["push"]))
    db.session.refresh(patient)
    assert patient.channel_choices["appointment_reminder"] == ["sms", "email"]
    assert patient.channel_choices["medication_reminder"] == ["push"]
    assert patient.channel_choices["treatment_update"] == []
    assert (patient.quiet_hours_start, patient.quiet_hours_end) == (time(21), time(7))
    assert ticked(pages.get("/inbox/preferences")) == ["appointment_reminder-sms", "appointment_reminder-email",
                                                      "medication_reminder-push"]


def test_the_next_send_of_a_type_follows_that_types_row(client_request, practitioner, patient):
    save(client_request.login(patient), "/inbox/preferences",
         grid=boxes(treatment_update=["sms"], progress_update=["email", "push"]))
    treatment = factories.create_send(sender=practitioner, recipients=[patient], channels=None)
    progress = factories.create_send(sender=practitioner, recipients=[patient], channels=None, type="progress_update")
    assert sorted(item.channel.value for item in treatment.items) == ["in_app", "sms"]
    assert sorted(item.channel.value for item in progress.items) == ["email", "in_app", "push"]


def test_a_patient_who_never_chose_sees_the_clinic_defaults_marked_as_such(client_request, practitioner):
    newcomer = factories.create_patient(practitioner=practitioner, preferred_channels=None)
    page = client_request.login(newcomer).get("/inbox/preferences")
    assert ticked(page) == [f"{kind.value}-{channel.value}" for kind in CHOOSABLE_TYPES for channel in CHOOSABLE
                            if channel in SUGGESTED_DEFAULTS[kind]]
    assert texts(page, ".channel-grid tbody th")[:2] == [
        "Appointment reminder (clinic default)", "Appointment confirmation (clinic default)"]


def test_types_left_as_they_were_keep_following_the_clinic(client_request, admin, practitioner):
    newcomer = factories.create_patient(practitioner=practitioner, phone="+919800000021", preferred_channels=None)
    pages = client_request.login(newcomer)
    page = pages.get("/inbox/preferences")
    grid = {name: "y" for name in ticked(page)} | boxes(medication_reminder=["sms"])
    grid.pop("medication_reminder-push")
    save(pages, "/inbox/preferences", grid=grid)
    db.session.refresh(newcomer)
    assert newcomer.channel_choices == {"medication_reminder": ["sms"]}
    clinic_settings.save_settings(admin, require_staff_two_factor=False, default_channels={"treatment_update": ["sms"]})
    result = factories.create_send(sender=practitioner, recipients=[newcomer], channels=None)
    assert sorted(item.channel.value for item in result.items) == ["in_app", "sms"]


def test_each_change_is_in_the_audit_log_by_whom_and_what(client_request, patient):
    save(client_request.login(patient), "/inbox/preferences", grid=boxes(treatment_update=["sms"]))
    [event] = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == AuditAction.PREFERENCES_CHANGED))
    assert (event.actor_id, event.patient_id) == (patient.id, patient.id)
    assert "treatment_update:sms" in event.detail and "medication_reminder:none" in event.detail
    assert "changed=channels,quiet_hours" in event.detail


def test_turning_every_channel_on_for_every_type_fits_the_audit_record(client_request, practitioner):
    patient = factories.create_patient(practitioner=practitioner, preferred_channels=[])
    everything = boxes(**{kind.value: [c.value for c in CHOOSABLE] for kind in CHOOSABLE_TYPES})
    save(client_request.login(patient), "/inbox/preferences", grid=everything)
    event = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == AuditAction.PREFERENCES_CHANGED)).one()
    assert "progress_update:sms.email.push" in event.detail


@pytest.mark.parametrize(("fields", "field", "message"), [
    ({"quiet_end": ""}, "quiet_end", "Give both ends of the quiet hours, or neither"),
    ({"quiet_start": "", "quiet_end": "06:00"}, "quiet_start", "Give both ends of the quiet hours, or neither"),
    ({"quiet_end": "21:00"}, "quiet_end", "Quiet hours end at a different time than they start"),
    ({"quiet_start": "25:99"}, "quiet_start", None),
])
def test_bad_preferences_are_refused_at_their_field_and_nothing_changes(client_request, patient, fields, field,
                                                                        message):
    before = dict(patient.channel_choices)
    page = save(client_request.login(patient), "/inbox/preferences", expected_status=422, **fields)
    assert message is None or field_error(page, field) == message
    db.session.refresh(patient)
    assert patient.channel_choices == before and patient.quiet_hours_start is None


@pytest.mark.parametrize("channels", [{"fax_reminder": ["sms"]}, {"treatment_update": ["pigeon"]}])
def test_an_unknown_type_or_channel_is_refused_and_nothing_changes(patient, channels):
    before = dict(patient.channel_choices)
    with pytest.raises(ValidationError) as refused:
        preferences.set_preferences(patient, patient.id, channels=channels, quiet_start=None, quiet_end=None)
    assert set(refused.value.errors) == {"channels"}
    db.session.refresh(patient)
    assert patient.channel_choices == before


def test_a_practitioner_sets_their_patients_preferences(client_request, practitioner, patient):
    save(client_request.login(practitioner), f"/patients/{patient.id}/preferences", grid={})
    db.session.refresh(patient)
    assert patient.channel_choices == same_for_every_type([])
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
