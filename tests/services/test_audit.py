"""The audit log: each audited change writes its record with it, records hold no patient data,
and nothing can change or delete a record once written."""

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import AuditEvent, Notification, User
from app.models.audit_event import AuditAction
from app.models.status import Status
from app.services import audit, clinic_settings, scheduling, two_factor, user_admin
from app.services.accounts import change_password
from app.services.errors import ValidationError
from app.services.provider_events import apply_inbound_sms, apply_sendgrid_events
from app.services.templates import install_default_templates
from tests import factories


def records() -> list[AuditEvent]:
    return list(db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id)))


def only_record(action: AuditAction) -> AuditEvent:
    found = [event for event in records() if event.action is action]
    assert len(found) == 1, [(event.action, event.detail) for event in records()]
    return found[0]


LATER = datetime.now(UTC) + timedelta(days=1)


def send_to(sender, patient, *, channels=("in_app",)) -> str:
    """A send still waiting for its time, so it can be cancelled or moved; returns its id."""
    return factories.create_send(sender=sender, recipients=[patient], channels=channels, scheduled_at=LATER).group_id


def waiting_notification(sender, patient, *, channel="in_app") -> Notification:
    return factories.create_notification(sender=sender, recipient=patient, channel=channel, scheduled_at=LATER)


MOVED_TO = datetime.now(UTC) + timedelta(days=2)


# Each audited service action, done as the product does it; returns (who, whose data).
def _send(w):
    send_to(w.practitioner, w.patient)
    return w.practitioner, w.patient


def _cancel_send(w):
    scheduling.cancel_group(w.practitioner, send_to(w.practitioner, w.patient))
    return w.practitioner, None


def _cancel_message(w):
    scheduling.cancel_message(w.practitioner, send_to(w.practitioner, w.patient), w.patient.id)
    return w.practitioner, w.patient


def _reschedule_message(w):
    scheduling.reschedule_message(w.practitioner, send_to(w.practitioner, w.patient), w.patient.id, MOVED_TO)
    return w.practitioner, w.patient


def _cancel_channel(w):
    scheduling.cancel_notification(w.practitioner, waiting_notification(w.practitioner, w.patient).public_id)
    return w.practitioner, w.patient


def _reschedule_channel(w):
    item = waiting_notification(w.practitioner, w.patient)
    scheduling.reschedule_notification(w.practitioner, item.public_id, MOVED_TO)
    return w.practitioner, w.patient


def _create_user(w):
    user_admin.create_account(w.admin, role="patient", name="Kavya Iyer", email=None, phone=None,
                              timezone="Asia/Kolkata", locale="en", practitioner_id=None, password=None)
    return w.admin, db.session.scalar(sa.select(User).where(User.name == "Kavya Iyer"))


def _deactivate(w):
    user_admin.set_active(w.admin, w.patient.id, False)
    return w.admin, w.patient


def _reactivate(w):
    user_admin.set_active(w.admin, w.patient.id, True)
    return w.admin, w.patient


def _assign_practitioner(w):
    user_admin.assign_practitioner(w.admin, w.patient.id, w.practitioner.id)
    return w.admin, w.patient


def _change_password(w):
    change_password(w.practitioner, current=factories.TEST_PASSWORD, new="a fresh long passphrase")
    return w.practitioner, None


def _enable_two_factor(w):
    factories.enrol_two_factor(w.practitioner)
    return w.practitioner, None


def _disable_two_factor(w):
    enrolment = factories.enrol_two_factor(w.practitioner)
    two_factor.disable(w.practitioner, enrolment.recovery_codes[0])
    return w.practitioner, None


def _wrong_code_to_disable_two_factor(w):
    factories.enrol_two_factor(w.practitioner)
    with pytest.raises(ValidationError):
        two_factor.disable(w.practitioner, "not-a-code")
    return w.practitioner, None


def _reset_two_factor(w):
    factories.enrol_two_factor(w.practitioner)
    user_admin.reset_two_factor(w.admin, w.practitioner.id)
    return w.admin, None


def _clinic_settings(w):
    clinic_settings.save_settings(w.admin, require_staff_two_factor=True)
    return w.admin, None


def _install_templates(w):
    install_default_templates()
    return None, None


def _sms_stop(w):
    apply_inbound_sms("SM" + "1" * 32, w.patient.phone, "STOP", clinic="Sutra")
    return None, w.patient


def _sms_start(w):
    apply_inbound_sms("SM" + "1" * 32, w.patient.phone, "STOP", clinic="Sutra")
    apply_inbound_sms("SM" + "2" * 32, w.patient.phone, "START", clinic="Sutra")
    return None, w.patient


def _email_unsubscribe(w):
    item = waiting_notification(w.practitioner, w.patient, channel="email")
    apply_sendgrid_events([{"notification": item.public_id, "event": "unsubscribe"}])
    return None, w.patient


AUDITED = {
    AuditAction.SEND_CREATED: _send,
    AuditAction.SEND_CANCELLED: _cancel_send,
    AuditAction.MESSAGE_CANCELLED: _cancel_message,
    AuditAction.MESSAGE_RESCHEDULED: _reschedule_message,
    AuditAction.NOTIFICATION_CANCELLED: _cancel_channel,
    AuditAction.NOTIFICATION_RESCHEDULED: _reschedule_channel,
    AuditAction.USER_CREATED: _create_user,
    AuditAction.USER_DEACTIVATED: _deactivate,
    AuditAction.USER_REACTIVATED: _reactivate,
    AuditAction.PRACTITIONER_ASSIGNED: _assign_practitioner,
    AuditAction.PASSWORD_CHANGED: _change_password,
    AuditAction.TWO_FACTOR_ENABLED: _enable_two_factor,
    AuditAction.TWO_FACTOR_DISABLED: _disable_two_factor,
    AuditAction.TWO_FACTOR_FAILED: _wrong_code_to_disable_two_factor,
    AuditAction.TWO_FACTOR_RESET: _reset_two_factor,
    AuditAction.CLINIC_SETTINGS_CHANGED: _clinic_settings,
    AuditAction.TEMPLATES_INSTALLED: _install_templates,
    AuditAction.SMS_OPTED_OUT: _sms_stop,
    AuditAction.SMS_OPTED_IN: _sms_start,
    AuditAction.EMAIL_OPTED_OUT: _email_unsubscribe,
}


class World:
    def __init__(self, admin, practitioner, patient):
        self.admin, self.practitioner, self.patient = admin, practitioner, patient


@pytest.fixture
def world(admin, practitioner, patient) -> World:
    return World(admin, practitioner, patient)


@pytest.mark.parametrize("action", AUDITED, ids=str)
def test_each_audited_change_writes_its_record_naming_who_and_whose_data(world, action):
    actor, patient = AUDITED[action](world)
    event = only_record(action)
    assert event.actor_id == (actor.id if actor else None)
    assert event.patient_id == (patient.id if patient else None)
    assert abs(event.occurred_at - datetime.now(UTC)) < timedelta(minutes=1)


def test_a_send_records_its_id_type_and_counts_not_its_text(world):
    group_id = send_to(world.practitioner, world.patient, channels=("in_app", "email"))
    assert only_record(AuditAction.SEND_CREATED).detail == (
        f"send={group_id} type=treatment_update recipients=1 notifications=2 scheduled_for={LATER:%Y-%m-%dT%H:%M:%SZ}")


def test_a_group_send_is_one_record_with_no_single_patient(world, other_patient):
    factories.create_send(sender=world.practitioner, recipient_group="all_my_patients")
    event = only_record(AuditAction.SEND_CREATED)
    assert event.patient_id is None and "recipients=2" in event.detail


def test_a_cancel_too_late_to_change_anything_is_still_recorded(world):
    group_id = factories.create_send(sender=world.practitioner, recipients=[world.patient], status=Status.SENT).group_id
    scheduling.cancel_message(world.practitioner, group_id, world.patient.id)
    assert only_record(AuditAction.MESSAGE_CANCELLED).detail == f"send={group_id} changed=0"


def test_a_refused_change_leaves_no_record(world):
    with pytest.raises(ValidationError):
        scheduling.reschedule_message(world.practitioner, send_to(world.practitioner, world.patient),
                                      world.patient.id, datetime(2020, 1, 1, tzinfo=UTC))
    assert not [e for e in records() if e.action is AuditAction.MESSAGE_RESCHEDULED]


def test_a_change_lands_only_with_its_record(world, monkeypatch):
    def failing_record(*args, **kwargs):
        raise RuntimeError("the audit log is unavailable")

    monkeypatch.setattr(audit, "record", failing_record)
    with pytest.raises(RuntimeError):
        user_admin.set_active(world.admin, world.patient.id, False)
    db.session.rollback()
    assert factories.reload(world.patient).active


def test_a_repeated_stop_is_recorded_once(world):
    _sms_stop(world)
    apply_inbound_sms("SM" + "3" * 32, world.patient.phone, "STOP", clinic="Sutra")
    only_record(AuditAction.SMS_OPTED_OUT)


def test_no_record_holds_a_patients_name_contact_details_or_message_text(world):
    for do in AUDITED.values():
        do(world)
    stored = " ".join(f"{e.detail} {e.client_address}" for e in records())
    for secret in ("Priya", "Sharma", "priya@clinic.test", "+919876543210", "9876543210", "Rest well", "Kavya"):
        assert secret not in stored


# --- the detail -------------------------------------------------------------------------------


def test_a_detail_is_key_value_pairs_of_ids_counts_times_and_names_of_things():
    at = datetime(2026, 12, 2, 7, 30, tzinfo=UTC)
    assert audit.detail_text({"send": "4f0c", "count": 3, "forced": True, "to": at, "filters": ["from", "patient"],
                              "page": None, "none_of": []}) == (
        "send=4f0c count=3 forced=yes to=2026-12-02T07:30:00Z filters=from,patient")


@pytest.mark.parametrize("value", ["Priya Sharma", "priya@clinic.test", "+919876543210", "Rest well.", "a" * 65,
                                   ["ok", "not ok"], 1.5])
def test_a_detail_refuses_what_could_be_free_text(value):
    with pytest.raises(ValueError):
        audit.detail_text({"value": value})


def test_a_record_made_outside_a_request_has_no_client_address(app, admin):
    assert audit.record_now(AuditAction.TEMPLATES_INSTALLED, actor_id=None).client_address is None


# --- append-only ------------------------------------------------------------------------------


@pytest.fixture
def written(admin) -> AuditEvent:
    return audit.record_now(AuditAction.CLINIC_SETTINGS_CHANGED, actor_id=admin.id, detail={"flag": True})


@pytest.mark.parametrize("statement", [
    "UPDATE audit_events SET detail = 'rewritten'",
    "UPDATE audit_events SET actor_id = NULL",
    "DELETE FROM audit_events",
])
def test_the_database_refuses_to_change_or_delete_a_record(written, statement):
    with pytest.raises(sa.exc.DBAPIError, match="append-only"):
        db.session.execute(sa.text(statement))
    db.session.rollback()
    assert [(e.id, e.actor_id, e.detail) for e in records()] == [(written.id, written.actor_id, "flag=yes")]


def test_the_orm_cannot_delete_a_record_either(written):
    db.session.delete(written)
    with pytest.raises(sa.exc.DBAPIError, match="append-only"):
        db.session.commit()
    db.session.rollback()
    assert len(records()) == 1


def test_a_user_with_records_cannot_be_deleted_from_under_them(written, admin):
    with pytest.raises(sa.exc.IntegrityError):
        db.session.execute(sa.delete(User).where(User.id == admin.id))
    db.session.rollback()
