"""Delivering: claim by compare-and-set, one outcome per attempt, nothing sent twice."""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from rq.job import Job

from app.channels import dev_outbox
from app.extensions import db
from app.models import Notification, NotificationEvent
from app.models.status import Status
from app.services.delivery import deliver_batch
from app.services.scheduling import cancel_notification
from app.vocabulary import Channel
from tests import factories
from tests.conftest import queued_job_ids


def events_of(notification: Notification) -> list[tuple[str, str | None]]:
    stmt = (
        sa.select(NotificationEvent)
        .where(NotificationEvent.notification_id == notification.id)
        .order_by(NotificationEvent.id)
    )
    return [(e.kind.value, e.status.value if e.status else None) for e in db.session.scalars(stmt)]


def test_the_worker_delivers_every_channel(run_worker, redis, practitioner, patient):
    factories.create_send(sender=practitioner, recipients=[patient], channels=["in_app", "sms", "email", "push"])
    run_worker()
    by_channel = {n.channel: n for n in factories.notifications()}
    assert by_channel[Channel.IN_APP].status is Status.DELIVERED
    for channel in (Channel.SMS, Channel.EMAIL, Channel.PUSH):
        assert by_channel[channel].status is Status.SENT, channel
        assert by_channel[channel].provider == "console"
        assert by_channel[channel].provider_message_id.startswith("console-")
        assert by_channel[channel].attempts == 1
        assert by_channel[channel].sent_at is not None
    assert [e.to for e in dev_outbox.recent(redis, Channel.SMS)] == ["+919876543210"]
    assert [e.to for e in dev_outbox.recent(redis, Channel.EMAIL)] == ["priya@clinic.test"]


def test_each_attempt_is_an_event_with_provider_and_latency(run_worker, practitioner, patient):
    factories.create_send(sender=practitioner, recipients=[patient], channels=["email"])
    run_worker()
    [row] = factories.notifications()
    [created, sent] = db.session.scalars(
        sa.select(NotificationEvent).where(NotificationEvent.notification_id == row.id).order_by(NotificationEvent.id)
    ).all()
    assert created.kind.value == "queued"
    assert (sent.kind.value, sent.status, sent.provider) == ("sent", Status.SENT, "console")
    assert sent.latency_ms is not None and sent.latency_ms >= 0


def test_a_job_run_twice_sends_once(app, redis, practitioner, patient):
    factories.create_send(sender=practitioner, recipients=[patient], channels=["sms"])
    [row] = factories.notifications()
    first = deliver_batch([row.id], row.job_id)
    second = deliver_batch([row.id], row.job_id)
    assert (first.sent, second.sent, second.skipped) == (1, 0, 1)
    assert len(dev_outbox.recent(redis, Channel.SMS)) == 1


def test_a_job_only_claims_rows_still_meant_for_it(app, redis, practitioner, patient):
    factories.create_send(sender=practitioner, recipients=[patient], channels=["sms"])
    [row] = factories.notifications()
    report = deliver_batch([row.id], "deliver-some-older-job")
    assert report.claimed == 0
    assert factories.notifications()[0].status is Status.QUEUED


def test_a_cancelled_notification_is_never_sent(run_worker, redis, practitioner, patient):
    factories.create_send(sender=practitioner, recipients=[patient], channels=["sms"])
    [row] = factories.notifications()
    cancel_notification(practitioner, row.public_id)
    run_worker()
    assert factories.notifications()[0].status is Status.CANCELLED
    assert dev_outbox.recent(redis, Channel.SMS) == []


def test_a_job_for_a_deleted_notification_does_nothing(app, practitioner, patient):
    factories.create_send(sender=practitioner, recipients=[patient])
    [row] = factories.notifications()
    db.session.execute(sa.delete(NotificationEvent))
    db.session.execute(sa.delete(Notification))
    db.session.commit()
    report = deliver_batch([row.id], row.job_id)
    assert (report.claimed, report.skipped) == (0, 1)


def test_a_failed_job_argument_is_refused_clearly(app):
    import pytest

    from app.tasks.delivery import deliver_notifications

    with pytest.raises(TypeError):
        deliver_notifications(["1; drop table"])


def test_in_app_items_are_delivered_at_once(run_worker, practitioner, patient):
    factories.create_send(sender=practitioner, recipients=[patient])
    run_worker()
    [row] = factories.notifications()
    assert row.status is Status.DELIVERED and row.delivered_at is not None
    assert events_of(row) == [("queued", "queued"), ("delivered", "delivered")]


def test_quiet_hours_defer_an_sms_to_the_end_of_the_window(run_worker, redis, practitioner):
    zone = ZoneInfo("Asia/Kolkata")
    local_now = datetime.now(zone)
    start = (local_now - timedelta(hours=1)).time().replace(second=0, microsecond=0)
    end = (local_now + timedelta(hours=2)).time().replace(second=0, microsecond=0)
    sleeper = factories.create_patient(practitioner=practitioner, phone="+919800000009",
                                       preferred_channels=["sms"], quiet_hours=(start, end))
    factories.create_send(sender=practitioner, recipients=[sleeper], channels=["sms"])
    run_worker()
    [row] = factories.notifications()
    assert row.status is Status.SCHEDULED
    assert row.attempts == 0
    assert row.next_attempt_at.astimezone(zone).time().replace(second=0) == end
    assert dev_outbox.recent(redis, Channel.SMS) == []
    assert events_of(row)[-1] == ("deferred", "scheduled")
    assert row.job_id is None and queued_job_ids(redis)["default"] == [], "it waits for the scheduler"


def test_health_alerts_ignore_quiet_hours(run_worker, redis, practitioner):
    sleeper = factories.create_patient(practitioner=practitioner, phone="+919800000010",
                                       preferred_channels=["sms"], quiet_hours=(time(0, 0), time(23, 59)))
    factories.create_send(sender=practitioner, recipients=[sleeper], type="health_alert", channels=["sms"])
    run_worker()
    assert factories.notifications()[0].status is Status.SENT


def test_quiet_hours_do_not_hold_back_the_inbox(run_worker, practitioner):
    sleeper = factories.create_patient(practitioner=practitioner, quiet_hours=(time(0, 0), time(23, 59)))
    factories.create_send(sender=practitioner, recipients=[sleeper])
    run_worker()
    assert factories.notifications()[0].status is Status.DELIVERED


def test_an_opt_out_after_creation_suppresses_at_send_time(run_worker, redis, practitioner, patient):
    factories.create_send(sender=practitioner, recipients=[patient], channels=["sms"])
    patient.sms_opted_out_at = datetime.now(UTC)
    db.session.commit()
    run_worker()
    [row] = [n for n in factories.notifications() if n.channel is Channel.SMS]
    assert (row.status, row.status_reason) == (Status.SUPPRESSED, "opted out of SMS")
    assert dev_outbox.recent(redis, Channel.SMS) == []


def test_a_group_send_is_delivered_in_batches(app, run_worker, practitioner):
    app.config["DELIVERY_BATCH_SIZE"] = 4
    patients = factories.create_patients(10, practitioner=practitioner, phone="+919800000011",
                                         preferred_channels=["in_app", "sms"])
    factories.create_send(sender=practitioner, recipients=patients, channels=["in_app", "sms"])
    assert len({n.job_id for n in factories.notifications()}) == 5
    run_worker()
    assert {n.status for n in factories.notifications()} == {Status.DELIVERED, Status.SENT}


def test_a_scheduled_send_waits_for_its_time(run_worker, redis, practitioner, patient):
    factories.create_send(sender=practitioner, recipients=[patient], channels=["sms"],
                          scheduled_at=datetime.now(UTC) + timedelta(hours=1))
    run_worker()
    assert factories.notifications()[0].status is Status.SCHEDULED
    run_worker(scheduled=True)
    assert factories.notifications()[0].status is Status.SENT


def test_a_delivery_job_result_is_not_kept(run_worker, redis, practitioner, patient):
    factories.create_send(sender=practitioner, recipients=[patient])
    job_id = factories.notifications()[0].job_id
    run_worker()
    assert not Job.exists(job_id, connection=redis)
