"""The lease: which job may deliver a notification, and until when.

A pending notification names the one job that may claim it (`job_id`), or none while it waits
for its time. The outbox grants each batch of a send for now to a new job; a send for later, a
retry and a deferral are granted to no job (`waiting`) until the scheduler grants them one when
they come due; a reschedule grants the row to another job or to none (the old job, if it is
still on Redis, then finds nothing to claim); a cancel grants it to none. A claim checks the
grant and starts the lease: while the row is `sending`, `lease_expires_at` says until when the
worker that claimed it is presumed alive. The deadline is short (LEASE_SECONDS) and the
worker renews it while the batch runs (`Renewal`), so the sweeper tells a dead worker from a
slow one within seconds, however long the batch. The sweeper takes back what has lapsed: a
`sending` row past its deadline (its worker died mid-delivery), and a pending row whose job is
missing from Redis, finished, failed, or started longer ago than a job may run.

This module says what a grant, a claim and a renewal write and when a lease has lapsed; the
statements that write them are in `transitions`.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar

import sqlalchemy as sa
from flask import current_app
from redis import Redis
from rq.job import Job, JobStatus
from rq.utils import utcparse

from app.models.notification import Notification
from app.models.status import PENDING

T = TypeVar("T")

# After RQ's own job timeout, the time a job may still need to write its outcomes.
OUTCOME_MARGIN = timedelta(seconds=60)
# Nothing is put in RQ's scheduled registry (work for later waits in the database), so a job
# found there belongs to an older release, and nothing moves it: it counts as lost.
LIVE_JOB_STATES = frozenset({JobStatus.QUEUED.value, JobStatus.STARTED.value})


def new_job_id() -> str:
    """The id of a job not yet on Redis: rows are granted to it before it is enqueued."""
    return "deliver-" + uuid.uuid4().hex


def grant_batches(items: Sequence[T], size: int) -> dict[str, list[T]]:
    """Split `items` into batches of `size`, each granted to a new job: {job id: its items}."""
    return {new_job_id(): list(items[start : start + size]) for start in range(0, len(items), size)}


def granted_to(job_id: str | None) -> dict[str, Any]:
    """The column values that give rows to `job_id` (None: to no job, e.g. when cancelled)."""
    return {"job_id": job_id}


def waiting() -> sa.ColumnElement[bool]:
    """Pending rows granted to no job: they wait for their time, and the scheduler's grant."""
    return sa.and_(Notification.status.in_(PENDING), Notification.job_id.is_(None))


def claim_terms(job_id: str | None, now: datetime) -> tuple[list[sa.ColumnElement[bool]], dict[str, Any]]:
    """What a claim checks (rows still granted to this job) and sets (the lease's deadline).

    A claim with no job (a direct call, not from a worker) takes whatever is pending.
    """
    where = [Notification.job_id == job_id] if job_id else []
    return where, {"lease_expires_at": deadline(now)}


def deadline(now: datetime) -> datetime:
    """Until when a claim or its latest renewal presumes the worker alive."""
    return now + timedelta(seconds=current_app.config["LEASE_SECONDS"])


class Renewal:
    """When a worker holding rows should renew their lease: a few times per lease, so a late
    renewal or two (a slow database, a busy machine) does not let it lapse under a live worker."""

    RENEWALS_PER_LEASE = 4

    def __init__(self) -> None:
        self.every = current_app.config["LEASE_SECONDS"] / self.RENEWALS_PER_LEASE
        self._last = time.monotonic()

    def due_in(self) -> float:
        """Seconds until the next renewal is due (0 when overdue)."""
        return max(0.0, self._last + self.every - time.monotonic())

    def done(self) -> None:
        self._last = time.monotonic()


def lapsed(now: datetime) -> sa.ColumnElement[bool]:
    """Claimed rows whose worker is presumed dead: their lease ran out."""
    return Notification.lease_expires_at < now


def job_lifetime() -> timedelta:
    """How long a job may hold what it claimed: RQ's job timeout plus time to write outcomes."""
    return timedelta(seconds=current_app.config["JOB_TIMEOUT_SECONDS"]) + OUTCOME_MARGIN


def dead_jobs(redis: Redis, job_ids: set[str], now: datetime) -> set[str]:
    """Job ids with no live job on Redis: missing, finished, failed, or started too long ago."""
    if not job_ids:
        return set()
    ordered = sorted(job_ids)
    with redis.pipeline(transaction=False) as pipe:
        for job_id in ordered:
            pipe.hmget(Job.key_for(job_id), "status", "started_at")
        answers = pipe.execute()
    lifetime = job_lifetime()
    dead = set()
    for job_id, (status, started_at) in zip(ordered, answers, strict=True):
        state = status.decode() if status else None
        overran = state == JobStatus.STARTED.value and started_at and _since(started_at, now) > lifetime
        if state not in LIVE_JOB_STATES or overran:
            dead.add(job_id)
    return dead


def _since(raw: bytes, now: datetime) -> timedelta:
    return now.replace(tzinfo=None) - utcparse(raw.decode()).replace(tzinfo=None)
