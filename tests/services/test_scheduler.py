"""Work for later waits in the database and goes on its queue when its time comes, from one
worker at a time."""

import time
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import LoginSession
from app.models.status import Status
from app.services.scheduler import SCHEDULER_LOCK, SchedulerThread, enqueue_due
from app.services.sign_in_sessions import start_session
from tests import factories
from tests.conftest import queued_job_ids


def scheduled_for(practitioner, patient, when: datetime):
    factories.create_send(sender=practitioner, recipients=[patient], scheduled_at=when)
    [row] = factories.notifications()
    return row


def test_work_is_enqueued_once_the_second_of_its_time_is_over_never_before(redis, practitioner, patient):
    when = (datetime.now(UTC) + timedelta(hours=1)).replace(microsecond=300_000)
    row = scheduled_for(practitioner, patient, when)
    assert enqueue_due(now=when) == 0
    assert enqueue_due(now=when.replace(microsecond=999_999)) == 0
    assert enqueue_due(now=when.replace(microsecond=0) + timedelta(seconds=1)) == 1
    assert queued_job_ids(redis)["default"] == [row.job_id]
    assert row.status is Status.SCHEDULED, "it stays scheduled until a worker claims it"


def test_due_work_is_enqueued_once(redis, practitioner, patient):
    when = datetime.now(UTC) + timedelta(minutes=5)
    row = scheduled_for(practitioner, patient, when)
    assert enqueue_due(now=when + timedelta(seconds=1)) == 1
    assert enqueue_due(now=when + timedelta(seconds=2)) == 0
    assert queued_job_ids(redis)["default"] == [row.job_id]


def test_a_flush_before_its_time_does_not_hold_a_scheduled_send_back(redis, run_worker, practitioner, patient):
    when = datetime.now(UTC) + timedelta(minutes=5)
    scheduled_for(practitioner, patient, when)
    redis.flushdb()
    assert enqueue_due(now=when + timedelta(seconds=1)) == 1
    run_worker()
    assert factories.notifications()[0].status is Status.DELIVERED


def test_a_due_retry_goes_ahead_of_new_work_on_its_queue(redis, run_worker, fake_twilio, use_fake, practitioner):
    use_fake(fake_twilio)
    fake_twilio.fail_next("server_error")
    patients = factories.create_patients(2, practitioner=practitioner, phone="+919800000081",
                                         preferred_channels=["sms"])
    factories.create_send(sender=practitioner, recipients=[patients[0]], channels=["sms"])
    run_worker()
    [retry] = factories.notifications()
    assert (retry.status, retry.attempts, retry.job_id) == (Status.QUEUED, 1, None)
    factories.create_send(sender=practitioner, recipients=[patients[1]], channels=["sms"])
    [new_job] = queued_job_ids(redis)["default"]

    assert enqueue_due(now=retry.next_attempt_at + timedelta(seconds=1)) == 1
    assert queued_job_ids(redis)["default"] == [factories.notifications()[0].job_id, new_job]


def wait_for(condition, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


@pytest.fixture
def schedulers(app, use_settings):
    """Three workers' scheduler threads on one Redis, stopped after the test."""
    use_settings(SCHEDULER_LOCK_SECONDS=2)
    threads = [SchedulerThread(app, tick=0.1) for _ in range(3)]
    for thread in threads:
        thread.start()
    yield threads
    for thread in threads:
        thread.stop()


def test_one_scheduler_of_many_holds_the_lock(schedulers, redis):
    assert wait_for(lambda: any(s.holding for s in schedulers))
    time.sleep(0.5)  # a few ticks of every thread
    [holder] = [s for s in schedulers if s.holding]
    assert redis.get(SCHEDULER_LOCK).decode() == holder.token


def test_a_scheduler_that_stops_hands_the_lock_over_at_once(schedulers, redis):
    assert wait_for(lambda: any(s.holding for s in schedulers))
    [holder] = [s for s in schedulers if s.holding]
    holder.stop()
    assert wait_for(lambda: any(s.holding for s in schedulers), seconds=1.0), "no other took over within a second"
    [successor] = [s for s in schedulers if s.holding]
    assert successor is not holder and redis.get(SCHEDULER_LOCK).decode() == successor.token


def test_the_holder_puts_due_work_on_its_queue_within_a_second_or_two(schedulers, redis, practitioner, patient):
    when = datetime.now(UTC) + timedelta(seconds=1)
    scheduled_for(practitioner, patient, when)
    assert wait_for(lambda: queued_job_ids(redis)["default"] != [])
    assert datetime.now(UTC) < when + timedelta(seconds=3)
    assert queued_job_ids(redis)["default"] == [factories.notifications()[0].job_id]


@pytest.fixture
def old_sign_in(patient) -> None:
    start_session(patient, client_address=None, user_agent=None)
    row = db.session.scalar(sa.select(LoginSession))
    row.ended_at = row.last_seen_at = datetime.now(UTC) - timedelta(days=400)
    db.session.commit()


def test_the_holder_forgets_old_sign_ins_when_it_sweeps(old_sign_in, schedulers):
    # Made before the threads start: a new holder sweeps at once, then every SWEEP_INTERVAL_SECONDS.
    def forgotten() -> bool:
        db.session.rollback()  # a fresh snapshot each look
        return db.session.scalar(sa.select(sa.func.count()).select_from(LoginSession)) == 0

    assert wait_for(forgotten)


def test_a_new_holder_leaves_lapsed_claims_alone_for_a_lease_then_recovers_them(app, practitioner, patient,
                                                                               monkeypatch):
    """It cannot know whether the database was away before it took over, when no worker could
    renew a lease: a live worker gets a lease's time to write what it sent (no second send)."""
    from app.services.transitions import claim

    factories.create_send(sender=practitioner, recipients=[patient])
    [row] = factories.notifications()
    claim([row.id], row.job_id, now=datetime.now(UTC) - timedelta(minutes=5))  # its lease lapsed long ago
    db.session.commit()
    clock = [1000.0]
    monkeypatch.setattr("app.services.scheduler.time.monotonic", lambda: clock[0])
    holder = SchedulerThread(app)
    try:
        holder._run_once()  # takes the lock, sweeps at once
        assert holder.holding and factories.notifications()[0].status is Status.SENDING
        clock[0] += app.config["LEASE_SECONDS"] + app.config["SWEEP_INTERVAL_SECONDS"]
        holder._run_once()
        assert factories.notifications()[0].status is Status.QUEUED
    finally:
        holder._let_go()
