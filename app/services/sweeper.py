"""Recovering work that Redis lost or a dead worker dropped.

The database says what must be delivered; Redis only carries jobs. So, periodically:
- rows still `sending` long after any job could still be running belonged to a worker that
  died mid-delivery: they go back to `queued` with a new job;
- rows that are due but whose job is not alive on Redis (flushed, restarted, an enqueue that
  failed after its commit, a job that crashed) get a new job.
Rows whose job is merely waiting in a long queue are left alone, so a backlog is not doubled.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from redis import Redis
from rq.job import Job, JobStatus
from rq.utils import utcparse

from app.clock import utcnow
from app.extensions import db, get_redis
from app.models.enums import Priority
from app.models.notification import EventKind, Notification
from app.models.status import PENDING, Status
from app.services.transitions import change_status, reassign_job, record_events
from app.tasks.dispatch import DeliveryJob, chunked, enqueue_jobs, new_job_id
from app.tasks.queues import QUEUE_FOR_PRIORITY

log = logging.getLogger(__name__)

LIVE_JOB_STATES = {
    JobStatus.QUEUED.value,
    JobStatus.SCHEDULED.value,
    JobStatus.STARTED.value,
    JobStatus.DEFERRED.value,
}
SWEEP_LIMIT = 10_000  # rows looked at per sweep; the next sweep takes the rest


@dataclass
class SweepReport:
    recovered: int = 0  # claimed by a worker that died
    requeued: int = 0  # due, with no live job


def sweep(*, now: datetime | None = None) -> SweepReport:
    now = now or utcnow()
    config = current_app.config
    report = SweepReport()
    redis = get_redis()
    batch_size = config["DELIVERY_BATCH_SIZE"]
    jobs: list[DeliveryJob] = []

    stale_before = now - timedelta(seconds=config["JOB_TIMEOUT_SECONDS"] + 60)
    stale = db.session.execute(
        sa.select(Notification.id, Notification.priority)
        .where(Notification.status == Status.SENDING, Notification.updated_at < stale_before)
        .limit(SWEEP_LIMIT)
    ).all()
    for priority, ids in _by_priority(stale).items():
        for chunk in chunked(ids, batch_size):
            job_id = new_job_id()
            moved = change_status(
                chunk, Status.QUEUED, EventKind.RECOVERED, only_from=[Status.SENDING],
                where=[Notification.updated_at < stale_before],
                values={"job_id": job_id, "next_attempt_at": now},
                detail="the worker delivering this stopped; trying again", now=now,
            )
            report.recovered += len(moved)
            jobs.append(DeliveryJob(job_id, QUEUE_FOR_PRIORITY[priority], tuple(moved)))

    due_before = now - timedelta(seconds=config["SWEEP_GRACE_SECONDS"])
    due = db.session.execute(
        sa.select(Notification.id, Notification.priority, Notification.job_id)
        .where(Notification.status.in_(PENDING), Notification.next_attempt_at <= due_before)
        .order_by(Notification.next_attempt_at)
        .limit(SWEEP_LIMIT)
    ).all()
    dead = _dead_jobs(redis, {row.job_id for row in due if row.job_id}, now, config["JOB_TIMEOUT_SECONDS"])
    orphans = [row for row in due if row.job_id is None or row.job_id in dead]
    for priority, ids in _by_priority(orphans).items():
        for chunk in chunked(ids, batch_size):
            job_id = new_job_id()
            moved = reassign_job(chunk, job_id, now=now)
            record_events(
                [{"notification_id": nid, "kind": EventKind.REQUEUED, "detail": "its job was lost; queued again",
                  "created_at": now} for nid in moved]
            )
            report.requeued += len(moved)
            jobs.append(DeliveryJob(job_id, QUEUE_FOR_PRIORITY[priority], tuple(moved)))

    db.session.commit()
    enqueue_jobs(redis, [j for j in jobs if j.notification_ids], timeout=config["JOB_TIMEOUT_SECONDS"])
    if report.recovered or report.requeued:
        log.info("sweep: recovered %d, requeued %d", report.recovered, report.requeued)
    return report


def _by_priority(rows) -> dict[Priority, list[int]]:
    grouped: dict[Priority, list[int]] = defaultdict(list)
    for row in rows:
        grouped[Priority(row.priority)].append(row.id)
    return grouped


def _dead_jobs(redis: Redis, job_ids: set[str], now: datetime, job_timeout: int) -> set[str]:
    """Job ids with no live job on Redis: missing, finished, failed, or started too long ago."""
    if not job_ids:
        return set()
    ordered = sorted(job_ids)
    with redis.pipeline(transaction=False) as pipe:
        for job_id in ordered:
            pipe.hmget(Job.key_for(job_id), "status", "started_at")
        answers = pipe.execute()
    dead = set()
    for job_id, (status, started_at) in zip(ordered, answers, strict=True):
        state = status.decode() if status else None
        stuck = state == JobStatus.STARTED.value and started_at and _started_long_ago(started_at, now, job_timeout)
        if state not in LIVE_JOB_STATES or stuck:
            dead.add(job_id)
    return dead


def _started_long_ago(raw: bytes, now: datetime, job_timeout: int) -> bool:
    started = utcparse(raw.decode())
    return (now.replace(tzinfo=None) - started.replace(tzinfo=None)).total_seconds() > job_timeout + 60
