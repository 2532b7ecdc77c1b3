"""A provider's receipt that overtakes the send it reports on: both orders end alike."""

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import EarlyReceipt, Notification, NotificationEvent
from app.models.status import Status
from app.services.provider_events import forget_early_receipts
from tests import factories

STATUS_PATH = "/webhooks/twilio/status"
STATUS_URL = "http://localhost" + STATUS_PATH
ORDERS = ["receipt before the worker records the send", "receipt after"]


@pytest.fixture
def twilio(fake_twilio, use_fake):
    use_fake(fake_twilio)
    return fake_twilio


@pytest.fixture
def sendgrid(fake_sendgrid, use_fake):
    use_fake(fake_sendgrid, SENDGRID_WEBHOOK_PUBLIC_KEY=fake_sendgrid.public_key_b64)
    return fake_sendgrid


def send(sender, patient, channel):
    factories.create_send(sender=sender, recipients=[patient], channels=[channel])
    db.session.commit()  # the test's own session holds nothing while the worker and webhook write


def the_row() -> Notification:
    [row] = factories.notifications()
    return row


def kinds(row: Notification) -> list[str]:
    return [kind.value for kind in db.session.scalars(
        sa.select(NotificationEvent.kind).where(NotificationEvent.notification_id == row.id)
        .order_by(NotificationEvent.id))]


def kept_receipts() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(EarlyReceipt))


def report_sms(app, client, twilio, sid, status, **extra):
    """Twilio's signed status callback, posted with a context of its own (it may come from another thread)."""
    form, headers = twilio.status_callback_request(STATUS_URL, sid, status, **extra)
    with app.app_context():
        return client.post(STATUS_PATH, data=form, headers=headers)


def report_email(app, client, sendgrid, reference, event):
    payload, headers = sendgrid.signed_event_request([{"event": event, "notification": reference}])
    with app.app_context():
        return client.post("/webhooks/sendgrid/events", data=payload, headers=headers)


@pytest.mark.parametrize("order", ORDERS)
def test_an_sms_ends_delivered_with_its_attempt_whichever_comes_first(
    order, app, client, twilio, run_worker, practitioner, patient
):
    send(practitioner, patient, "sms")
    answers = []
    if order == ORDERS[0]:
        twilio.before_answering(lambda sent: answers.append(report_sms(app, client, twilio, sent["sid"], "delivered")))
    run_worker()
    if order == ORDERS[1]:
        answers.append(report_sms(app, client, twilio, the_row().provider_message_id, "delivered"))

    row = the_row()
    assert [answer.status_code for answer in answers] == [204]
    assert (row.status, row.attempts, row.provider_message_id) == (Status.DELIVERED, 1, twilio.received[0]["sid"])
    assert kinds(row)[-2:] == ["sent", "delivered"]
    assert kept_receipts() == 0


def test_an_sms_failure_reported_before_the_worker_records_the_send_fails_it(
    app, client, twilio, run_worker, practitioner, patient
):
    send(practitioner, patient, "sms")
    twilio.before_answering(lambda sent: report_sms(app, client, twilio, sent["sid"], "undelivered", ErrorCode="30003"))
    run_worker()

    row = the_row()
    assert (row.status, row.attempts, row.status_reason) == (
        Status.FAILED, 1, "twilio reported undelivered (error 30003)")
    assert kinds(row)[-2:] == ["sent", "failed"]


@pytest.mark.parametrize("order", ORDERS)
def test_an_email_ends_delivered_with_its_attempt_whichever_comes_first(
    order, app, client, sendgrid, run_worker, practitioner, patient
):
    send(practitioner, patient, "email")
    reference = the_row().public_id
    answers = []
    if order == ORDERS[0]:
        sendgrid.before_answering(lambda sent: answers.append(report_email(app, client, sendgrid, reference,
                                                                           "delivered")))
    run_worker()
    if order == ORDERS[1]:
        answers.append(report_email(app, client, sendgrid, reference, "delivered"))

    row = the_row()
    assert [answer.status_code for answer in answers] == [200]
    assert (row.status, row.attempts, row.provider_message_id) == (
        Status.DELIVERED, 1, sendgrid.received[0]["message_id"])
    assert kinds(row)[-2:] == ["sent", "delivered"]
    assert kept_receipts() == 0


def test_a_receipt_kept_while_the_worker_records_the_send_is_applied_by_the_webhook(
    app, client, twilio, practitioner, patient
):
    send(practitioner, patient, "sms")
    row = the_row()
    factories.put_in_status([row], Status.SENDING)
    sid = "SM" + "7" * 32

    def worker_commits_meanwhile(conn, cursor, statement, parameters, context, executemany):
        # The worker commits the send after the webhook missed it and before the webhook looks
        # again; the worker's own look came before the receipt was kept, so it found nothing.
        if "FROM early_receipts JOIN notifications" in statement and not committed:
            committed.append(True)
            with db.engine.begin() as worker:
                worker.execute(sa.update(Notification).where(Notification.id == row.id)
                               .values(status=Status.SENT, provider="twilio", provider_message_id=sid, attempts=1))

    committed: list[bool] = []
    sa.event.listen(db.engine, "before_cursor_execute", worker_commits_meanwhile)
    try:
        answer = report_sms(app, client, twilio, sid, "delivered")
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", worker_commits_meanwhile)

    assert committed and answer.status_code == 204
    assert the_row().status is Status.DELIVERED
    assert kept_receipts() == 0


def test_a_receipt_for_a_send_never_recorded_is_kept_for_an_hour(app, client, twilio):
    assert report_sms(app, client, twilio, "SM" + "8" * 32, "delivered").status_code == 204
    assert kept_receipts() == 1
    assert forget_early_receipts(now=datetime.now(UTC) + timedelta(minutes=59)) == 0
    assert forget_early_receipts(now=datetime.now(UTC) + timedelta(minutes=61)) == 1
    assert kept_receipts() == 0
