"""The pipeline driving the real provider SDKs against the local fakes: outcomes, retries, faults."""

import json
import time
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from app.channels.registry import get_provider
from app.extensions import db
from app.models import Device, Notification, NotificationEvent
from app.models.status import Status
from app.services.scheduler import enqueue_due
from app.vocabulary import Channel
from tests import factories
from tests.conftest import queued_job_ids


def the_row(channel: Channel | None = None) -> Notification:
    """The one notification (on `channel`: a failure's fallback may be another)."""
    db.session.expire_all()
    stmt = sa.select(Notification)
    [row] = db.session.scalars(stmt if channel is None else stmt.where(Notification.channel == channel)).all()
    return row


def kinds(row: Notification) -> list[str]:
    stmt = (
        sa.select(NotificationEvent.kind)
        .where(NotificationEvent.notification_id == row.id)
        .order_by(NotificationEvent.id)
    )
    return [k.value for k in db.session.scalars(stmt)]


@pytest.fixture
def twilio(fake_twilio, use_fake):
    use_fake(fake_twilio, SMS_PUSH_BODIES="full")
    return fake_twilio


def test_sms_goes_through_twilio_with_a_status_callback(run_worker, twilio, practitioner, patient):
    factories.create_send(sender=practitioner, recipients=[patient], channels=["sms"])
    run_worker()
    row = the_row()
    [received] = twilio.received
    assert (received["to"], received["body"]) == ("+919876543210", "Rest well after your session.")
    assert received["status_callback"] == f"http://localhost/webhooks/twilio/status?notification={row.public_id}"
    assert (row.status, row.provider, row.provider_message_id) == (Status.SENT, "twilio", received["sid"])


def test_a_server_error_is_retried_with_backoff_then_sent(run_worker, redis, twilio, practitioner, patient):
    twilio.fail_next("server_error")
    started = datetime.now(UTC)
    factories.create_send(sender=practitioner, recipients=[patient], channels=["sms"])
    run_worker()
    row = the_row()
    assert (row.status, row.attempts) == (Status.QUEUED, 1)
    assert started + timedelta(seconds=15) <= row.next_attempt_at <= datetime.now(UTC) + timedelta(seconds=31)
    assert row.job_id is None and queued_job_ids(redis)["default"] == [], "the retry waits for its time"
    run_worker(scheduled=True)
    row = the_row()
    assert (row.status, row.attempts) == (Status.SENT, 2)
    assert kinds(row) == ["queued", "retry", "sent"]
    assert len(twilio.received) == 1


def test_the_failed_attempt_is_logged_with_http_status_and_error(run_worker, twilio, practitioner, patient):
    twilio.fail_next("server_error")
    factories.create_send(sender=practitioner, recipients=[patient], channels=["sms"])
    run_worker()
    event = db.session.scalars(sa.select(NotificationEvent).where(NotificationEvent.kind == "retry")).one()
    assert (event.provider, event.http_status) == ("twilio", 500)
    assert "500" in event.error and event.latency_ms is not None


def test_a_429_waits_at_least_the_retry_after(run_worker, twilio, practitioner, patient):
    twilio.fail_next("rate_limited", retry_after=600)
    factories.create_send(sender=practitioner, recipients=[patient], channels=["sms"])
    run_worker()
    row = the_row()
    assert row.status is Status.QUEUED
    assert row.next_attempt_at >= datetime.now(UTC) + timedelta(seconds=590)


def test_a_timeout_is_retried(run_worker, twilio, use_settings, practitioner, patient):
    use_settings(PROVIDER_TIMEOUT_SECONDS=0.5)
    twilio.fail_next("timeout")
    factories.create_send(sender=practitioner, recipients=[patient], channels=["sms"])
    run_worker()
    assert (the_row().status, the_row().error_message) == (Status.QUEUED, "twilio timed out")


def test_a_timeout_after_the_request_went_is_recorded_as_ambiguous(run_worker, twilio, use_settings, practitioner,
                                                                   patient):
    use_settings(PROVIDER_TIMEOUT_SECONDS=0.5)
    twilio.fail_next("timeout")
    factories.create_send(sender=practitioner, recipients=[patient], channels=["sms"])
    run_worker()
    [attempt] = [event for event in the_row().events if event.kind.value == "retry"]
    assert attempt.ambiguous
    assert "the provider may have it" in attempt.detail


def test_an_attempt_the_provider_answered_is_not_ambiguous(run_worker, twilio, practitioner, patient):
    twilio.fail_next("server_error")
    factories.create_send(sender=practitioner, recipients=[patient], channels=["sms"])
    run_worker()
    assert [event.ambiguous for event in the_row().events if event.provider] == [False]


def test_an_invalid_number_fails_at_once_without_retry(run_worker, redis, twilio, practitioner, patient):
    twilio.fail_for(patient.phone, "permanent", code=21211)
    factories.create_send(sender=practitioner, recipients=[patient], channels=["sms"])
    run_worker()
    row = the_row(Channel.SMS)
    assert row.status is Status.FAILED and row.failed_at is not None
    assert "21211" in row.status_reason
    assert patient.phone not in row.status_reason
    assert twilio.attempts == 1
    assert enqueue_due(now=datetime.now(UTC) + timedelta(days=1)) == 0, "nothing waits to be retried"


def test_retries_stop_after_the_last_attempt(app, run_worker, twilio, practitioner, patient):
    app.config["MAX_ATTEMPTS"] = 3
    twilio.fail_for(patient.phone, "server_error")
    factories.create_send(sender=practitioner, recipients=[patient], channels=["sms"])
    for _ in range(3):
        run_worker(scheduled=True)
    row = the_row(Channel.SMS)
    assert (row.status, row.attempts) == (Status.FAILED, 3)
    assert row.status_reason.startswith("gave up after 3 attempts")
    assert kinds(row) == ["queued", "retry", "retry", "failed", "fallback"]
    run_worker(scheduled=True)
    assert twilio.attempts == 3


def test_one_bad_number_in_a_group_does_not_hold_back_the_rest(run_worker, twilio, practitioner):
    patients = [factories.create_patient(practitioner=practitioner, phone=f"+9198000001{i:02d}",
                                         preferred_channels=["sms"]) for i in range(5)]
    twilio.fail_for(patients[2].phone, "permanent", code=21614)
    factories.create_send(sender=practitioner, recipients=patients, channels=["sms"])
    run_worker()
    statuses = {n.user_id: n.status for n in db.session.scalars(
        sa.select(Notification).where(Notification.channel == Channel.SMS))}
    assert statuses.pop(patients[2].id) is Status.FAILED
    assert set(statuses.values()) == {Status.SENT}


def test_a_batch_reuses_keep_alive_connections(app, run_worker, twilio, practitioner):
    patients = factories.create_patients(30, practitioner=practitioner, phone="+919800000200",
                                         preferred_channels=["sms"])
    factories.create_send(sender=practitioner, recipients=patients, channels=["sms"])
    factories.create_send(sender=practitioner, recipients=patients, channels=["sms"])
    run_worker()
    assert len(twilio.received) == 60
    assert twilio.connections <= app.config["DELIVERY_CONCURRENCY"]


def test_a_provider_that_raises_loses_nothing(app, run_worker, twilio, practitioner, patient, monkeypatch):
    provider = get_provider(app, Channel.SMS)

    def broken(message):
        raise RuntimeError("bug")

    monkeypatch.setattr(provider, "send", broken)
    factories.create_send(sender=practitioner, recipients=[patient], channels=["sms"])
    run_worker()
    row = the_row()
    assert (row.status, row.error_message) == (Status.QUEUED, "provider error: RuntimeError")


def test_email_goes_through_sendgrid_with_its_reference(run_worker, fake_sendgrid, use_fake, practitioner, patient):
    use_fake(fake_sendgrid)
    factories.create_send(sender=practitioner, recipients=[patient], channels=["email"])
    run_worker()
    row = the_row()
    [received] = fake_sendgrid.received
    assert received["to"] == "priya@clinic.test"
    assert received["custom_args"] == {"notification": row.public_id}
    assert "Rest well" in received["html"]
    assert (row.status, row.provider) == (Status.SENT, "sendgrid")


def test_email_goes_through_smtp(run_worker, fake_smtp, use_fake, practitioner, patient):
    use_fake(fake_smtp)
    factories.create_send(sender=practitioner, recipients=[patient], channels=["email"])
    run_worker()
    row = the_row()
    assert (row.status, row.provider) == (Status.SENT, "smtp")
    assert [m["to"] for m in fake_smtp.received] == ["priya@clinic.test"]


def test_push_goes_to_every_valid_device(run_worker, fake_fcm, use_fake, practitioner):
    use_fake(fake_fcm)
    patient = factories.create_patient(practitioner=practitioner, preferred_channels=["push"], devices=2)
    factories.create_send(sender=practitioner, recipients=[patient], channels=["push"])
    run_worker()
    assert sorted(m["token"] for m in fake_fcm.received) == [f"device-{patient.id}-0", f"device-{patient.id}-1"]
    assert the_row().status is Status.SENT


def test_an_unregistered_device_is_invalidated_and_the_others_still_get_it(
    run_worker, fake_fcm, use_fake, practitioner
):
    use_fake(fake_fcm)
    patient = factories.create_patient(practitioner=practitioner, preferred_channels=["push"], devices=2)
    fake_fcm.fail_for(f"device-{patient.id}-0", "permanent", code="UNREGISTERED")
    factories.create_send(sender=practitioner, recipients=[patient], channels=["push"])
    run_worker()
    assert the_row().status is Status.SENT
    devices = {d.token: d.invalidated_at for d in db.session.scalars(sa.select(Device))}
    assert devices[f"device-{patient.id}-0"] is not None
    assert devices[f"device-{patient.id}-1"] is None


def test_push_to_only_gone_devices_fails_and_later_sends_are_suppressed(
    run_worker, fake_fcm, use_fake, practitioner
):
    use_fake(fake_fcm)
    patient = factories.create_patient(practitioner=practitioner, preferred_channels=["push"], devices=1)
    fake_fcm.fail_for(f"device-{patient.id}-0", "permanent", code="UNREGISTERED")
    factories.create_send(sender=practitioner, recipients=[patient], channels=["push"])
    run_worker()
    assert the_row(Channel.PUSH).status is Status.FAILED
    [later, _] = factories.create_send(sender=practitioner, recipients=[patient], channels=["push"]).items
    assert (later.status, later.reason) == (Status.SUPPRESSED, "no push device")


def test_an_outcome_arriving_after_the_row_was_recovered_is_not_recorded(app, run_worker, twilio, practitioner,
                                                                         patient, monkeypatch):
    provider = get_provider(app, Channel.SMS)
    real_send = provider.send

    def send_while_the_sweeper_recovers(message):
        with app.app_context(), db.engine.begin() as connection:  # another actor, on its own connection
            connection.execute(sa.update(Notification).values(
                status=Status.QUEUED, job_id="deliver-recovered", updated_at=datetime.now(UTC)))
        return real_send(message)

    monkeypatch.setattr(provider, "send", send_while_the_sweeper_recovers)
    factories.create_send(sender=practitioner, recipients=[patient], channels=["sms"])
    run_worker()
    row = the_row()
    assert (row.status, row.job_id) == (Status.QUEUED, "deliver-recovered")
    assert kinds(row) == ["queued"]


# --- while a provider answers ---------------------------------------------------------------------

IDLE_IN_TRANSACTION = sa.text(
    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
    "AND pid <> pg_backend_pid() AND state LIKE 'idle in transaction%'"
)


def test_no_database_connection_is_held_while_a_provider_answers(app, run_worker, twilio, practitioner, use_settings):
    # One send at a time: with more, a look could see the outcome of another send being written.
    use_settings(DELIVERY_CONCURRENCY=1)
    patients = factories.create_patients(3, practitioner=practitioner, phone="+919800000031",
                                         preferred_channels=["sms"])
    factories.create_send(sender=practitioner, recipients=patients, channels=["sms"])
    db.session.commit()  # this test's own session holds no connection either
    engine = db.engine
    seen: list[tuple[int, int | None]] = []

    def look_at_the_database(message):
        checked_out = engine.pool.checkedout()  # before the look below takes one itself
        idle_in_transaction = None
        if engine.dialect.name == "postgresql":
            with engine.connect() as connection:
                idle_in_transaction = connection.scalar(IDLE_IN_TRANSACTION)
        seen.append((checked_out, idle_in_transaction))

    twilio.before_answering(look_at_the_database)
    run_worker()
    assert len(seen) == 3
    expected = 0 if engine.dialect.name == "postgresql" else None
    assert seen == [(0, expected)] * 3, "a connection was held (idle in a transaction) across provider calls"
    assert {n.status for n in db.session.scalars(sa.select(Notification))} == {Status.SENT}


def test_inbox_items_go_live_before_the_batchs_sms_are_sent(run_worker, redis, twilio, practitioner, patient):
    factories.create_send(sender=practitioner, recipients=[patient], channels=["in_app", "sms"])
    in_app, sms = sorted(db.session.scalars(sa.select(Notification)), key=lambda n: n.channel != Channel.IN_APP)
    assert in_app.job_id == sms.job_id, "not one batch"
    in_app_id = in_app.id
    db.session.commit()
    inbox = redis.pubsub(ignore_subscribe_messages=True)
    inbox.subscribe(f"inbox:{patient.id}")
    announced: list[int] = []

    def listen_to_the_inbox(message):
        deadline = time.monotonic() + 2
        while not announced and time.monotonic() < deadline:
            item = inbox.get_message(timeout=0.1)  # None for the subscription's confirmation too
            if item is not None:
                announced.append(json.loads(item["data"])["notification_id"])

    twilio.before_answering(listen_to_the_inbox)
    try:
        run_worker()
    finally:
        inbox.close()
    assert announced == [in_app_id], "the inbox item was announced only after the SMS went"


# --- while a batch runs ---------------------------------------------------------------------------


def test_no_more_messages_are_sent_but_unrecorded_than_there_are_sending_slots(
    app, run_worker, twilio, practitioner, use_settings
):
    slots = 2
    use_settings(DELIVERY_CONCURRENCY=slots)
    twilio.set_latency(0.05)
    patients = factories.create_patients(8, practitioner=practitioner, phone="+919800000301",
                                         preferred_channels=["sms"])
    factories.create_send(sender=practitioner, recipients=patients, channels=["sms"])
    db.session.commit()
    engine = db.engine
    unrecorded: list[int] = []

    def count_sent_but_unrecorded(entry):
        with engine.connect() as connection:
            recorded = connection.scalar(
                sa.select(sa.func.count()).where(Notification.status == Status.SENT))
        unrecorded.append(len(twilio.received) - recorded)  # this message included

    twilio.before_answering(count_sent_but_unrecorded)
    run_worker()
    assert len(unrecorded) == 8
    assert max(unrecorded) <= slots


def test_a_slow_batch_keeps_renewing_the_lease_of_what_it_still_holds(
    app, run_worker, twilio, practitioner, use_settings
):
    use_settings(DELIVERY_CONCURRENCY=1, LEASE_SECONDS=1)
    twilio.set_latency(0.4)
    patients = factories.create_patients(4, practitioner=practitioner, phone="+919800000302",
                                         preferred_channels=["sms"])
    factories.create_send(sender=practitioner, recipients=patients, channels=["sms"])
    db.session.commit()
    engine = db.engine
    deadlines: list[datetime] = []

    def note_the_lease(entry):
        with engine.connect() as connection:
            deadlines.append(connection.scalar(
                sa.select(sa.func.max(Notification.lease_expires_at)).where(Notification.status == Status.SENDING)))

    twilio.before_answering(note_the_lease)
    run_worker()
    assert len(deadlines) == 4
    assert deadlines[-1] > deadlines[0]  # renewed while the batch ran, not fixed at the claim
    assert {n.status for n in factories.notifications()} == {Status.SENT}
