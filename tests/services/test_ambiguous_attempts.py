"""Honest outcomes after a timeout: an attempt the provider accepted but answered too late is
ambiguous, and the provider's receipt of delivery, when it comes, wins over our outcome."""

import time

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import Notification, NotificationEvent
from app.models.status import Status
from tests import factories

# Our timeout in these tests, and how long the fake takes to accept a message it answers too late.
TIMEOUT = 0.3
LATE = 1.0


@pytest.fixture
def twilio(fake_twilio, use_fake):
    use_fake(fake_twilio, PROVIDER_TIMEOUT_SECONDS=TIMEOUT)
    return fake_twilio


@pytest.fixture
def sendgrid(fake_sendgrid, use_fake):
    use_fake(fake_sendgrid, PROVIDER_TIMEOUT_SECONDS=TIMEOUT, SENDGRID_WEBHOOK_PUBLIC_KEY=fake_sendgrid.public_key_b64)
    return fake_sendgrid


def the_row() -> Notification:
    """The notification the send made (the fallback of its failure, if any, came after it)."""
    db.session.expire_all()
    return db.session.scalars(sa.select(Notification).order_by(Notification.id).limit(1)).one()


def accepted(fake, count: int = 1) -> list[dict]:
    """What the fake accepted, once it has (it records a late message after our timeout)."""
    deadline = time.monotonic() + 10
    while len(fake.received) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    return fake.received


def send(practitioner, patient, channel: str) -> None:
    factories.create_send(sender=practitioner, recipients=[patient], channels=[channel])
    db.session.commit()


def report_sms(app, client, twilio, message: dict, status: str):
    """Twilio's signed callback to the URL it was given with the message (our reference in it)."""
    url = message["status_callback"]
    form, headers = twilio.status_callback_request(url, message["sid"], status)
    with app.app_context():
        return client.post(url.removeprefix("http://localhost"), data=form, headers=headers)


def report_email(app, client, sendgrid, message: dict, event: str):
    payload, headers = sendgrid.signed_event_request([{"event": event, **message["custom_args"]}])
    with app.app_context():
        return client.post("/webhooks/sendgrid/events", data=payload, headers=headers)


def test_an_sms_given_up_on_after_an_ambiguous_attempt_ends_delivered_by_its_late_receipt(
    app, client, run_worker, use_settings, twilio, practitioner, patient
):
    use_settings(MAX_ATTEMPTS=1)
    twilio.fail_next("slow", delay=LATE)
    send(practitioner, patient, "sms")
    run_worker()
    assert the_row().status is Status.FAILED
    [message] = accepted(twilio)

    assert report_sms(app, client, twilio, message, "delivered").status_code == 204

    row = the_row()
    assert (row.status, row.status_reason, row.failed_at) == (Status.DELIVERED, None, None)
    assert "an attempt that timed out had reached twilio" in row.events[-1].detail


def test_a_retry_waiting_after_an_ambiguous_attempt_is_withdrawn_by_the_receipt_and_never_sent(
    app, client, run_worker, twilio, practitioner, patient
):
    twilio.fail_next("slow", delay=LATE)
    send(practitioner, patient, "sms")
    run_worker()
    assert the_row().status is Status.QUEUED
    [message] = accepted(twilio)

    report_sms(app, client, twilio, message, "delivered")
    run_worker(scheduled=True)

    row = the_row()
    assert (row.status, row.attempts, row.job_id) == (Status.DELIVERED, 1, None)
    assert len(twilio.received) == 1  # the retry was not sent


def test_a_receipt_for_an_ambiguous_attempt_during_its_retry_applies_once_the_retry_is_recorded(
    app, client, run_worker, twilio, practitioner, patient
):
    twilio.fail_next("slow", delay=LATE)
    send(practitioner, patient, "sms")
    run_worker()
    [first] = accepted(twilio)
    answers = []
    twilio.before_answering(lambda retry: answers.append(report_sms(app, client, twilio, first, "delivered")))

    run_worker(scheduled=True)

    assert [answer.status_code for answer in answers] == [204]
    row = the_row()
    assert (row.status, row.attempts) == (Status.DELIVERED, 2)
    assert len(twilio.received) == 2  # the one documented duplicate: a retry after an ambiguous timeout


def test_a_failure_receipt_for_an_unrecorded_attempt_does_not_fail_the_message_that_got_through(
    app, client, run_worker, twilio, practitioner, patient
):
    twilio.fail_next("slow", delay=LATE)
    send(practitioner, patient, "sms")
    run_worker()
    [first] = accepted(twilio)
    run_worker(scheduled=True)
    assert the_row().status is Status.SENT

    report_sms(app, client, twilio, first, "undelivered")

    assert the_row().status is Status.SENT


def test_a_delivered_receipt_does_not_revive_a_notification_whose_every_attempt_was_answered(
    app, client, run_worker, use_settings, twilio, practitioner, patient
):
    use_settings(MAX_ATTEMPTS=1)
    twilio.fail_next("server_error")
    send(practitioner, patient, "sms")
    run_worker()
    row = the_row()
    forged = {"sid": "SM" + "0" * 32, "status_callback": f"http://localhost/webhooks/twilio/status?notification="
              f"{row.public_id}"}

    report_sms(app, client, twilio, forged, "delivered")

    assert the_row().status is Status.FAILED


def test_an_email_given_up_on_after_an_ambiguous_attempt_ends_delivered_by_its_late_event(
    app, client, run_worker, use_settings, sendgrid, practitioner, patient
):
    use_settings(MAX_ATTEMPTS=1)
    sendgrid.fail_next("slow", delay=LATE)
    send(practitioner, patient, "email")
    run_worker()
    assert the_row().status is Status.FAILED
    [message] = accepted(sendgrid)

    assert report_email(app, client, sendgrid, message, "delivered").json["changed"] == 1

    assert the_row().status is Status.DELIVERED
    ambiguous = db.session.scalars(sa.select(NotificationEvent.ambiguous).where(NotificationEvent.kind == "failed"))
    assert list(ambiguous) == [True]


def test_a_callback_whose_reference_cannot_name_a_notification_is_acknowledged_and_changes_nothing(
    app, client, run_worker, use_settings, twilio, practitioner, patient
):
    use_settings(MAX_ATTEMPTS=1)
    twilio.fail_next("slow", delay=LATE)
    send(practitioner, patient, "sms")
    run_worker()
    [message] = accepted(twilio)
    garbled = {**message, "status_callback": "http://localhost/webhooks/twilio/status?notification=%00"}

    assert report_sms(app, client, twilio, garbled, "delivered").status_code == 204

    assert the_row().status is Status.FAILED
