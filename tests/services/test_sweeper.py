"""Recovering lost work: nothing is lost while the database is up."""

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from app.extensions import db
from app.models import Notification, NotificationEvent
from app.models.status import Status
from app.services.sweeper import SweepReport, sweep
from app.services.transitions import claim, renew_lease
from tests import factories
from tests.conftest import queued_job_ids


def later(seconds: float = 120) -> datetime:
    return datetime.now(UTC) + timedelta(seconds=seconds)


def test_due_work_whose_job_was_flushed_from_redis_is_requeued(run_worker, redis, practitioner, patient):
    factories.create_send(sender=practitioner, recipients=[patient])
    redis.flushdb()
    report = sweep(now=later())
    assert report.requeued == 1
    run_worker()
    assert factories.notifications()[0].status is Status.DELIVERED


def test_requeued_work_gets_a_new_job_and_an_event(redis, practitioner, patient):
    factories.create_send(sender=practitioner, recipients=[patient])
    old_job = factories.notifications()[0].job_id
    redis.flushdb()
    sweep(now=later())
    [row] = factories.notifications()
    assert row.job_id != old_job
    assert queued_job_ids(redis)["default"] == [row.job_id]
    assert "requeued" in [e.kind.value for e in db.session.scalars(sa.select(NotificationEvent))]


def test_work_waiting_in_a_long_queue_is_left_alone(redis, practitioner, patient):
    factories.create_send(sender=practitioner, recipients=[patient])
    job_id = factories.notifications()[0].job_id
    assert sweep(now=later()).requeued == 0
    assert factories.notifications()[0].job_id == job_id
    assert queued_job_ids(redis)["default"] == [job_id]


def test_work_not_yet_past_the_grace_period_is_left_alone(redis, practitioner, patient):
    factories.create_send(sender=practitioner, recipients=[patient])
    redis.flushdb()
    assert sweep().requeued == 0


def test_work_whose_job_vanished_is_requeued_seconds_after_its_grant(redis, use_settings, practitioner, patient):
    use_settings(SWEEP_GRACE_SECONDS=5)
    factories.create_send(sender=practitioner, recipients=[patient])
    redis.flushdb()
    assert sweep(now=later(4)).requeued == 0  # its sender may still be enqueueing it
    assert sweep(now=later(6)).requeued == 1


def test_a_retry_long_due_but_just_granted_is_left_to_the_job_it_was_granted_to(redis, use_settings, practitioner,
                                                                                patient):
    use_settings(SWEEP_GRACE_SECONDS=5)
    factories.create_send(sender=practitioner, recipients=[patient])
    redis.flushdb()
    db.session.execute(sa.update(Notification).values(next_attempt_at=later(-3600), updated_at=later(3)))
    db.session.commit()
    assert sweep(now=later(6)).requeued == 0


def test_work_waiting_for_its_time_is_left_to_the_scheduler(redis, practitioner, patient):
    factories.create_send(sender=practitioner, recipients=[patient],
                          scheduled_at=datetime.now(UTC) + timedelta(hours=2))
    redis.flushdb()
    assert sweep(now=later(2 * 3600 + 60)).requeued == 0
    assert factories.notifications()[0].job_id is None


def test_work_a_dead_worker_claimed_is_recovered(app, run_worker, practitioner, patient):
    factories.create_send(sender=practitioner, recipients=[patient])
    [row] = factories.notifications()
    claim([row.id], row.job_id, now=datetime.now(UTC))  # and then the worker dies
    db.session.commit()
    assert sweep(now=later(app.config["LEASE_SECONDS"] - 1)).recovered == 0  # might still be running
    report = sweep(now=later(app.config["LEASE_SECONDS"] + 1))
    assert report.recovered == 1
    assert factories.notifications()[0].status is Status.QUEUED
    run_worker()
    assert factories.notifications()[0].status is Status.DELIVERED


def test_work_a_live_worker_renews_is_not_recovered_however_long_its_batch(app, practitioner, patient):
    factories.create_send(sender=practitioner, recipients=[patient])
    [row] = factories.notifications()
    claimed_at = datetime.now(UTC)
    claim([row.id], row.job_id, now=claimed_at)
    lease_seconds = app.config["LEASE_SECONDS"]
    for renewal in range(1, 10):  # a batch running for nine leases, renewed once per lease
        renew_lease([row.id], now=claimed_at + timedelta(seconds=renewal * lease_seconds - 1))
        db.session.commit()
        assert sweep(now=claimed_at + timedelta(seconds=renewal * lease_seconds)).recovered == 0
    assert factories.notifications()[0].status is Status.SENDING


def test_a_job_that_crashed_is_replaced(run_worker, redis, practitioner, patient):
    from rq.job import Job

    factories.create_send(sender=practitioner, recipients=[patient])
    job = Job.fetch(factories.notifications()[0].job_id, connection=redis)
    job.set_status("failed")
    assert sweep(now=later()).requeued == 1


def test_due_work_whose_job_waits_in_rqs_scheduled_registry_is_replaced(redis, practitioner, patient):
    from rq.job import Job

    factories.create_send(sender=practitioner, recipients=[patient])
    job = Job.fetch(factories.notifications()[0].job_id, connection=redis)
    job.set_status("scheduled")  # as an older release left it: nothing moves such a job any more
    assert sweep(now=later()).requeued == 1


def test_the_sweep_recovers_a_large_flushed_group(app, run_worker, redis, practitioner):
    app.config["DELIVERY_BATCH_SIZE"] = 10
    patients = factories.create_patients(35, practitioner=practitioner)
    factories.create_send(sender=practitioner, recipients=patients)
    redis.flushdb()
    assert sweep(now=later()).requeued == 35
    assert len(queued_job_ids(redis)["low"]) == 4
    run_worker()
    assert {r.status for r in factories.notifications()} == {Status.DELIVERED}


def sweep_while(change: dict) -> SweepReport:
    """Sweep, with `change` committed to the first row between the sweeper's look and its update."""
    first = factories.notifications()[0].id
    changed: list[bool] = []

    def change_first(conn, cursor, statement, parameters, context, executemany):
        if statement.startswith("UPDATE notifications SET job_id") and not changed:
            changed.append(True)
            with db.engine.begin() as other:
                other.execute(sa.update(Notification).where(Notification.id == first).values(**change))

    sa.event.listen(db.engine, "before_cursor_execute", change_first)
    try:
        report = sweep(now=later())
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", change_first)
    assert changed, "the sweeper never updated"
    return report


def requeued_events() -> list[int]:
    return list(db.session.scalars(sa.select(NotificationEvent.notification_id).where(
        NotificationEvent.kind == "requeued")))


def test_a_row_cancelled_while_the_sweeper_looks_is_not_requeued(redis, practitioner, patient, other_patient):
    factories.create_send(sender=practitioner, recipients=[patient, other_patient])
    cancelled, kept = factories.notifications()
    redis.flushdb()

    report = sweep_while({"status": Status.CANCELLED, "job_id": None})

    assert report.requeued == 1
    assert requeued_events() == [kept.id]
    assert [r.status for r in factories.notifications()] == [Status.CANCELLED, Status.QUEUED]
    assert queued_job_ids(redis)["low"] == [kept.job_id]


def test_a_row_a_worker_claims_while_the_sweeper_looks_is_not_requeued(redis, practitioner, patient, other_patient):
    factories.create_send(sender=practitioner, recipients=[patient, other_patient])
    claimed, kept = factories.notifications()
    claimed_job = claimed.job_id
    redis.flushdb()

    report = sweep_while({"status": Status.SENDING, "lease_expires_at": later(600)})

    assert report.requeued == 1
    assert requeued_events() == [kept.id]
    assert [r.status for r in factories.notifications()] == [Status.SENDING, Status.QUEUED]
    assert claimed.job_id == claimed_job, "the claimed row was given to another job"
    assert queued_job_ids(redis)["low"] == [kept.job_id]
