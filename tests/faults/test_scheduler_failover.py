"""Scheduled work has no single point of failure: real `python worker.py` processes on a Redis
server this test starts (never the shared one), the one that schedules killed or Redis flushed,
and a scheduled send still goes out within seconds of its time."""

from __future__ import annotations

import signal
from datetime import UTC, datetime, timedelta

from redis import Redis

from app.models.status import Status
from app.services.scheduler import SCHEDULER_LOCK
from tests import factories
from tests.faults.servers import STARTUP_SECONDS, wait_for

LATENESS_BOUND = timedelta(seconds=15)  # lock lapse (2 s) + a tick + a job's pickup, with room for load


def holder_pid(redis: Redis) -> int | None:
    """The pid of the worker holding the scheduler lock (its token is host:pid:nonce)."""
    token = redis.get(SCHEDULER_LOCK)
    return int(token.decode().split(":")[1]) if token else None


def delivered_lateness(when: datetime) -> timedelta | None:
    [row] = [n for n in factories.notifications() if n.scheduled_at == when]
    return row.delivered_at - when if row.status is Status.DELIVERED else None


def schedule_in(practitioner, patient, seconds: float) -> datetime:
    when = (datetime.now(UTC) + timedelta(seconds=seconds)).replace(microsecond=0)
    factories.create_send(sender=practitioner, recipients=[patient], scheduled_at=when)
    return when


def test_a_killed_scheduler_is_replaced_and_a_scheduled_send_goes_out_seconds_late_at_most(
    own_redis, start_worker, practitioner, patient
):
    workers = {process.pid: process for process in (start_worker(), start_worker())}
    holder = wait_for(lambda: holder_pid(own_redis), STARTUP_SECONDS, "a worker holding the scheduler lock")
    assert holder in workers
    wait_for(lambda: own_redis.scard("rq:workers") == 2, STARTUP_SECONDS, "both workers up")

    when = schedule_in(practitioner, patient, 1)  # due before the dead holder's lock lapses
    workers[holder].send_signal(signal.SIGKILL)
    workers[holder].wait()

    lateness = wait_for(lambda: delivered_lateness(when), 60, "the scheduled send delivered")
    assert lateness < LATENESS_BOUND, f"delivered {lateness} after its time"
    successor = holder_pid(own_redis)
    assert successor in workers and successor != holder


def test_a_flush_before_a_scheduled_send_does_not_hold_it_back(own_redis, start_worker, practitioner, patient):
    start_worker()
    wait_for(lambda: holder_pid(own_redis), STARTUP_SECONDS, "the worker holding the scheduler lock")

    when = schedule_in(practitioner, patient, 3)
    own_redis.flushall()

    lateness = wait_for(lambda: delivered_lateness(when), 60, "the scheduled send delivered")
    assert lateness < LATENESS_BOUND, f"delivered {lateness} after its time"
