"""Channel fallback: a message its channel cannot carry goes once on the next channel that can
reach the patient, in the clinic's order, with the inbox kept and the reason in both timelines."""

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from redis.exceptions import ConnectionError as RedisConnectionError

from app.extensions import db
from app.models import Notification
from app.models.notification import EventKind, NotificationEvent
from app.models.status import Status
from app.services import clinic_settings
from app.services.delivery import deliver_batch
from app.services.sweeper import sweep
from app.vocabulary import Channel
from tests import factories


@pytest.fixture
def providers(use_fake, fake_twilio, fake_sendgrid, fake_fcm):
    for fake in (fake_twilio, fake_sendgrid, fake_fcm):
        use_fake(fake)


@pytest.fixture
def reachable(practitioner):
    """A patient with a number, an address and a phone with the app, who wants push and SMS."""
    return factories.create_patient(practitioner=practitioner, phone="+919800000401", email="asha@clinic.test",
                                    preferred_channels=["push", "sms"], devices=1)


def rows_by_channel() -> dict[Channel, Notification]:
    db.session.expire_all()
    rows = db.session.scalars(sa.select(Notification).order_by(Notification.id)).all()
    assert len({row.channel for row in rows}) == len(rows), "a channel twice in one message"
    return {row.channel: row for row in rows}


def details(row: Notification, kind: EventKind) -> list[str]:
    return list(db.session.scalars(sa.select(NotificationEvent.detail).where(
        NotificationEvent.notification_id == row.id, NotificationEvent.kind == kind).order_by(NotificationEvent.id)))


def test_sms_refused_permanently_goes_once_by_email(run_worker, providers, fake_twilio, fake_sendgrid, practitioner):
    patient = factories.create_patient(practitioner=practitioner, phone="+919800000402", email="ravi@clinic.test",
                                       preferred_channels=["sms"])
    fake_twilio.fail_for(patient.phone, "permanent", code=21211)
    factories.create_send(sender=practitioner, recipients=[patient], channels=["in_app", "sms"])
    run_worker()
    run_worker(scheduled=True)
    rows = rows_by_channel()
    assert {channel: row.status for channel, row in rows.items()} == {
        Channel.IN_APP: Status.DELIVERED, Channel.SMS: Status.FAILED, Channel.EMAIL: Status.SENT}
    assert [mail["to"] for mail in fake_sendgrid.received] == ["ravi@clinic.test"]


def test_both_timelines_say_why_the_message_fell_back(run_worker, providers, fake_twilio, practitioner):
    patient = factories.create_patient(practitioner=practitioner, phone="+919800000403", preferred_channels=["sms"])
    fake_twilio.fail_for(patient.phone, "permanent", code=21211)
    factories.create_send(sender=practitioner, recipients=[patient], channels=["sms"])
    run_worker()
    rows = rows_by_channel()
    why = "SMS failed permanently: twilio error 21211 (http 400); falling back to email"
    assert details(rows[Channel.SMS], EventKind.FALLBACK) == [why]
    assert details(rows[Channel.EMAIL], EventKind.QUEUED) == [why]
    assert patient.phone not in why


def test_push_with_no_device_when_created_goes_by_sms(run_worker, providers, fake_twilio, practitioner):
    patient = factories.create_patient(practitioner=practitioner, phone="+919800000404", preferred_channels=None)
    result = factories.create_send(sender=practitioner, recipients=[patient], channels=None,
                                   type="medication_reminder")
    assert {(item.channel, item.status) for item in result.items} == {
        (Channel.IN_APP, Status.QUEUED), (Channel.PUSH, Status.SUPPRESSED), (Channel.SMS, Status.QUEUED)}
    run_worker()
    assert [message["to"] for message in fake_twilio.received] == ["+919800000404"]
    assert details(rows_by_channel()[Channel.PUSH], EventKind.FALLBACK) == [
        "Push cannot reach the patient: no push device; falling back to SMS"]


def test_an_unregistered_device_when_sent_falls_back_to_sms(run_worker, providers, fake_fcm, fake_twilio,
                                                            practitioner, reachable):
    fake_fcm.fail_for(f"device-{reachable.id}-0", "permanent", code="UNREGISTERED")
    factories.create_send(sender=practitioner, recipients=[reachable], channels=["push"], type="medication_reminder")
    run_worker()
    run_worker()
    rows = rows_by_channel()
    assert (rows[Channel.PUSH].status, rows[Channel.SMS].status) == (Status.FAILED, Status.SENT)
    assert len(fake_twilio.received) == 1


def test_a_fallback_that_fails_is_not_fallen_back_from(run_worker, providers, fake_fcm, fake_twilio, fake_sendgrid,
                                                       practitioner, reachable):
    fake_fcm.fail_for(f"device-{reachable.id}-0", "permanent", code="UNREGISTERED")
    fake_twilio.fail_for(reachable.phone, "permanent", code=21211)
    factories.create_send(sender=practitioner, recipients=[reachable], channels=["push"])
    run_worker()
    run_worker()
    rows = rows_by_channel()
    assert set(rows) == {Channel.PUSH, Channel.SMS}
    assert (rows[Channel.PUSH].status, rows[Channel.SMS].status) == (Status.FAILED, Status.FAILED)
    assert fake_sendgrid.received == []


def test_two_channels_failing_together_fall_back_once(run_worker, providers, fake_fcm, fake_twilio, fake_sendgrid,
                                                      practitioner, reachable):
    fake_fcm.fail_for(f"device-{reachable.id}-0", "permanent", code="UNREGISTERED")
    fake_twilio.fail_for(reachable.phone, "permanent", code=21211)
    factories.create_send(sender=practitioner, recipients=[reachable], channels=["push", "sms"])
    run_worker()
    run_worker()
    assert set(rows_by_channel()) == {Channel.PUSH, Channel.SMS, Channel.EMAIL}
    assert len(fake_sendgrid.received) == 1


def test_a_channel_the_patient_opted_out_of_is_skipped(practitioner):
    patient = factories.create_patient(practitioner=practitioner, phone="+919800000405", email="mina@clinic.test",
                                       preferred_channels=["push"])
    patient.sms_opted_out_at = datetime.now(UTC)
    db.session.commit()
    result = factories.create_send(sender=practitioner, recipients=[patient], channels=["push"])
    assert {(item.channel, item.status) for item in result.items} == {
        (Channel.PUSH, Status.SUPPRESSED), (Channel.EMAIL, Status.QUEUED)}


def test_with_no_channel_left_the_message_stays_as_it_was(practitioner):
    patient = factories.create_patient(practitioner=practitioner, phone=None, email="lone@clinic.test",
                                       preferred_channels=["push"])
    patient.email_opted_out_at = datetime.now(UTC)
    db.session.commit()
    result = factories.create_send(sender=practitioner, recipients=[patient], channels=["in_app", "push"])
    assert {(item.channel, item.status) for item in result.items} == {
        (Channel.IN_APP, Status.QUEUED), (Channel.PUSH, Status.SUPPRESSED)}
    assert details(rows_by_channel()[Channel.PUSH], EventKind.FALLBACK) == []


def test_a_channel_already_in_the_message_is_not_used_again(practitioner):
    patient = factories.create_patient(practitioner=practitioner, phone=None, email="both@clinic.test",
                                       preferred_channels=["push", "sms", "email"])
    result = factories.create_send(sender=practitioner, recipients=[patient], channels=["push", "sms", "email"])
    assert sorted((item.channel.value, item.status.value) for item in result.items) == [
        ("email", "queued"), ("push", "suppressed"), ("sms", "suppressed")]


def test_the_clinics_order_chooses_the_fallback(admin, practitioner):
    clinic_settings.save_settings(admin, require_staff_two_factor=False, fallback=["email", "sms", "push"])
    patient = factories.create_patient(practitioner=practitioner, phone="+919800000406", email="order@clinic.test",
                                       preferred_channels=["push"])
    result = factories.create_send(sender=practitioner, recipients=[patient], channels=["push"])
    assert {item.channel for item in result.items} == {Channel.PUSH, Channel.EMAIL}


def test_a_retryable_failure_falls_back_only_once_the_retry_policy_gives_up(run_worker, providers, use_settings,
                                                                            fake_twilio, fake_sendgrid,
                                                                            practitioner):
    use_settings(MAX_ATTEMPTS=2)
    patient = factories.create_patient(practitioner=practitioner, phone="+919800000407", email="retry@clinic.test",
                                       preferred_channels=["sms"])
    fake_twilio.fail_for(patient.phone, "server_error")
    factories.create_send(sender=practitioner, recipients=[patient], channels=["sms"])
    run_worker()
    assert set(rows_by_channel()) == {Channel.SMS}, "a 500 is retried, not fallen back from"
    run_worker(scheduled=True)
    run_worker()
    rows = rows_by_channel()
    assert (rows[Channel.SMS].status, rows[Channel.EMAIL].status) == (Status.FAILED, Status.SENT)
    assert details(rows[Channel.SMS], EventKind.FALLBACK) == ["SMS failed after 2 attempts; falling back to email"]
    assert len(fake_sendgrid.received) == 1


def test_a_fallback_of_a_send_for_later_waits_for_the_same_time(practitioner):
    patient = factories.create_patient(practitioner=practitioner, phone="+919800000408", preferred_channels=["push"])
    later = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=3)
    factories.create_send(sender=practitioner, recipients=[patient], channels=["push"], scheduled_at=later)
    fallback = rows_by_channel()[Channel.SMS]
    assert (fallback.status, fallback.scheduled_at, fallback.job_id) == (Status.SCHEDULED, later, None)


def test_a_health_alert_already_on_every_channel_has_nothing_to_fall_back_to(practitioner):
    patient = factories.create_patient(practitioner=practitioner, phone="+919800000409")
    result = factories.create_send(sender=practitioner, recipients=[patient], channels=None, type="health_alert")
    assert sorted(item.channel.value for item in result.items) == ["email", "in_app", "push", "sms"]


def test_an_opt_out_after_creation_falls_back_when_sent(run_worker, providers, fake_twilio, fake_sendgrid,
                                                        practitioner):
    patient = factories.create_patient(practitioner=practitioner, phone="+919800000410", email="late@clinic.test",
                                       preferred_channels=["sms"])
    factories.create_send(sender=practitioner, recipients=[patient], channels=["sms"])
    patient.sms_opted_out_at = datetime.now(UTC)
    db.session.commit()
    run_worker()
    run_worker()
    rows = rows_by_channel()
    assert (rows[Channel.SMS].status, rows[Channel.EMAIL].status) == (Status.SUPPRESSED, Status.SENT)
    assert fake_twilio.received == [] and len(fake_sendgrid.received) == 1
    assert details(rows[Channel.EMAIL], EventKind.QUEUED) == [
        "SMS cannot reach the patient: opted out of SMS; falling back to email"]


def test_a_fallback_whose_job_redis_did_not_take_is_kept_for_the_sweeper(app, run_worker, providers, fake_twilio,
                                                                         fake_sendgrid, practitioner, monkeypatch):
    patient = factories.create_patient(practitioner=practitioner, phone="+919800000411", email="kept@clinic.test",
                                       preferred_channels=["sms"])
    fake_twilio.fail_for(patient.phone, "permanent", code=21211)
    factories.create_send(sender=practitioner, recipients=[patient], channels=["sms"])

    def refuse(*args, **kwargs):
        raise RedisConnectionError("down")

    monkeypatch.setattr(app.extensions["redis"], "pipeline", refuse)
    deliver_batch([rows_by_channel()[Channel.SMS].id])
    monkeypatch.undo()
    email = rows_by_channel()[Channel.EMAIL]
    assert (email.status, email.job_id is not None) == (Status.QUEUED, True), "committed with the failure"
    assert sweep(now=datetime.now(UTC) + timedelta(seconds=app.config["SWEEP_GRACE_SECONDS"] + 1)).requeued == 1
    run_worker()
    assert len(fake_sendgrid.received) == 1


def test_a_failure_after_an_attempt_that_timed_out_once_sent_does_not_fall_back(run_worker, providers, use_settings,
                                                                                fake_twilio, practitioner):
    use_settings(MAX_ATTEMPTS=1, PROVIDER_TIMEOUT_SECONDS=0.5)
    patient = factories.create_patient(practitioner=practitioner, phone="+919800000412", email="maybe@clinic.test",
                                       preferred_channels=["sms"])
    fake_twilio.fail_next("timeout")
    factories.create_send(sender=practitioner, recipients=[patient], channels=["sms"])
    run_worker()
    rows = rows_by_channel()
    assert set(rows) == {Channel.SMS} and rows[Channel.SMS].status is Status.FAILED, "Twilio may have it"
