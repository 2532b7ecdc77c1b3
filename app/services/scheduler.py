"""Putting work on its queue when its time comes, from the database, in one worker at a time.

Nothing waits on Redis for its time. A notification for later (a scheduled send, a retry
backing off, a delivery held back by quiet hours) waits in the database, pending and granted to
no job (`lease.waiting`). Every second `enqueue_due` gives what has come due a job and puts it
on its queue, retries at the front, ahead of new work of the same priority. A Redis flush or
restart therefore loses nothing that waits, and nothing goes early: a time within a second
counts as due only once that second is over (times are rounded up to the second).

Every worker process runs a `SchedulerThread`; the one holding a Redis lock schedules, and
sweeps for lost work (`app.services.sweeper`) every SWEEP_INTERVAL_SECONDS, writing then the
medication reminders that have come within their window (`medication.top_up_reminders`) and
forgetting what is past its retention (webhook receipts, early receipts, old sign-ins). The holder renews
the lock every second; if it dies, the lock lapses within SCHEDULER_LOCK_SECONDS and another
worker takes over at its next try. A holder stalled past the lock may overlap its successor
for a moment, which does no harm: a grant is a compare-and-set, and a job delivers only the
rows granted to it.

After a database outage the holder leaves claimed rows alone for a lease: no worker could renew
a lease while the database was gone, and a live one needs that long to renew it, or to write
the outcomes it kept, before its rows may be taken for a dead worker's. A new holder does the
same for its first lease, since it cannot know whether the database was away before it took over.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
import time
import uuid
from collections import defaultdict
from datetime import datetime

import sqlalchemy as sa
from flask import Flask, current_app
from redis.exceptions import LockError, RedisError
from redis.lock import Lock

from app.clock import utcnow
from app.extensions import db, get_redis
from app.models.notification import Notification
from app.services import lease, medication
from app.services.database_outage import is_outage
from app.services.enqueueing import DeliveryJob, enqueue_jobs
from app.services.provider_events import forget_early_receipts
from app.services.queues import QUEUE_FOR_PRIORITY
from app.services.sign_in_sessions import forget_old_sessions
from app.services.sweeper import sweep
from app.services.transitions import grant_waiting
from app.services.webhook_receipts import forget_expired_receipts
from app.vocabulary import Priority

log = logging.getLogger(__name__)

SCHEDULER_LOCK = "sutra:scheduler-lock"
TICK_SECONDS = 1.0
DUE_LIMIT = 10_000  # rows given jobs per tick; the next tick takes the rest


def enqueue_due(*, now: datetime | None = None) -> int:
    """Give every waiting notification whose time has come a job, and enqueue the jobs.

    Returns:
        How many notifications were enqueued.
    """
    now = now or utcnow()
    due_by = now.replace(microsecond=0)  # due at T.3 means due once T+1 has begun: never early
    rows = db.session.execute(
        sa.select(Notification.id, Notification.priority, Notification.attempts)
        .where(lease.waiting(), Notification.next_attempt_at <= due_by)
        .order_by(Notification.next_attempt_at)
        .limit(DUE_LIMIT)
    ).all()
    if not rows:
        db.session.commit()  # end the read: no connection waits in a transaction until the next tick
        return 0
    grouped: dict[tuple[Priority, bool], list[int]] = defaultdict(list)
    for row in rows:
        grouped[Priority(row.priority), row.attempts > 0].append(row.id)
    jobs: list[DeliveryJob] = []
    for (priority, is_retry), ids in grouped.items():
        for job_id, batch in lease.grant_batches(ids, current_app.config["DELIVERY_BATCH_SIZE"]).items():
            granted = grant_waiting(batch, job_id, now=now)
            if granted:
                jobs.append(DeliveryJob(job_id, QUEUE_FOR_PRIORITY[priority], tuple(granted), at_front=is_retry))
    db.session.commit()
    enqueue_jobs(get_redis(), jobs, timeout=current_app.config["JOB_TIMEOUT_SECONDS"])
    return sum(len(job.notification_ids) for job in jobs)


def holder_token() -> str:
    """What the holder writes in the lock: which process on which host, made unique."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class SchedulerThread(threading.Thread):
    """Runs in every worker process; schedules and sweeps while it holds the scheduler lock."""

    def __init__(self, app: Flask, *, tick: float = TICK_SECONDS):
        super().__init__(name="scheduler", daemon=True)
        self.app = app
        self.tick = tick
        self.sweep_interval = app.config["SWEEP_INTERVAL_SECONDS"]
        self.token = holder_token()
        self.holding = False
        self._lock: Lock | None = None
        self._next_sweep = 0.0
        self._redis_ok = True
        self._database_back_at = 0.0  # monotonic time the database last answered after an outage
        self._database_ok = True
        self._stopped = threading.Event()

    def run(self) -> None:
        while not self._stopped.is_set():
            with self.app.app_context():  # a fresh database session every tick
                self._run_once()
            self._stopped.wait(self.tick)
        self._let_go()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop, and hand the lock over at once rather than let it lapse."""
        self._stopped.set()
        if self.is_alive():
            self.join(timeout)

    def _run_once(self) -> None:
        try:
            if not self._hold():
                return
            enqueue_due()
            self._heard_from_database()
            if time.monotonic() >= self._next_sweep:
                settled = time.monotonic() - self._database_back_at >= current_app.config["LEASE_SECONDS"]
                sweep(recover_lapsed=settled)
                medication.top_up_reminders()
                forget_expired_receipts()
                forget_early_receipts()
                forget_old_sessions()
                self._next_sweep = time.monotonic() + self.sweep_interval
        except RedisError as error:
            if self._redis_ok:
                log.warning("Redis unavailable (%s): scheduling waits until it is back", type(error).__name__)
            self._redis_ok = False
        except sa.exc.DBAPIError as error:
            if not is_outage(error):
                log.exception("scheduling failed")
            elif self._database_ok:
                log.warning("database unavailable: scheduling waits until it is back")
                self._database_ok = False
        except Exception:  # keep scheduling next time whatever went wrong this time
            log.exception("scheduling failed")

    def _hold(self) -> bool:
        """Renew the lock if this thread holds it, else try to take it; whether it holds it now."""
        if self._lock is None:
            self._lock = Lock(get_redis(), SCHEDULER_LOCK, timeout=current_app.config["SCHEDULER_LOCK_SECONDS"],
                              thread_local=False)
        if self.holding:
            try:
                self._lock.reacquire()
            except LockError:
                self.holding = False
                log.warning("the scheduler lock lapsed; another worker may hold it now")
        if not self.holding and self._lock.acquire(blocking=False, token=self.token):
            self.holding = True
            self._next_sweep = 0.0  # a new holder sweeps at once: its predecessor may have died mid-job
            # ...but it cannot know whether the database was away just before (its predecessor
            # may have stalled on it), so it gives live workers a lease before taking their rows.
            self._database_back_at = time.monotonic()
            log.info("this worker now schedules and sweeps (%s)", self.token)
        self._heard_from_redis()
        return self.holding

    def _heard_from_database(self) -> None:
        if not self._database_ok:
            log.info("database is back: scheduling again")
            self._database_back_at = time.monotonic()
        self._database_ok = True

    def _heard_from_redis(self) -> None:
        if not self._redis_ok:
            log.info("Redis is back: scheduling again")
        self._redis_ok = True

    def _let_go(self) -> None:
        if self.holding and self._lock is not None:
            # Lapsed already, or Redis is gone: either way the lock is free within its time.
            with contextlib.suppress(LockError, RedisError):
                self._lock.release()
            self.holding = False
