"""Recovering work that Redis lost or a dead worker dropped.

The database says what must be delivered; Redis only carries jobs. So, periodically (in the
worker that holds the scheduler lock, `app.services.scheduler`), the sweeper takes back every
lease that has lapsed (`app.services.lease`):
- rows still `sending` past their lease belonged to a worker that died mid-delivery: they go
  back to `queued` with a new job;
- rows that are due but whose job is not alive on Redis (flushed, restarted, an enqueue that
  failed after its commit, a job that crashed) get a new job.
A job is told vanished from merely waiting by asking Redis for it (one pipelined look per job,
`lease.dead_jobs`) once its rows have been granted to it for SWEEP_GRACE_SECONDS (5: time
enough for the process that granted them to enqueue it), so work lost to a flush or a restart
is queued again at the next sweep, seconds later. Rows whose job is on Redis, however long its
queue, are left alone, so a backlog is not doubled, and so are rows waiting for their time with
no job: they are the scheduler's, not lost.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app

from app.clock import utcnow
from app.extensions import db, get_redis
from app.models.notification import EventKind, Notification
from app.models.status import PENDING, Status
from app.services import lease
from app.services.enqueueing import DeliveryJob, enqueue_jobs
from app.services.queues import QUEUE_FOR_PRIORITY
from app.services.transitions import change_status, reassign_job, record_events
from app.vocabulary import Priority

log = logging.getLogger(__name__)

SWEEP_LIMIT = 10_000  # rows looked at per sweep; the next sweep takes the rest


@dataclass
class SweepReport:
    recovered: int = 0  # claimed by a worker that died
    requeued: int = 0  # due, with no live job


def sweep(*, now: datetime | None = None, recover_lapsed: bool = True) -> SweepReport:
    """Re-enqueue lost work; with `recover_lapsed` False, leave claimed rows alone (leases that
    lapsed while the database was unreachable say nothing about their workers)."""
    now = now or utcnow()
    config = current_app.config
    report = SweepReport()
    redis = get_redis()
    batch_size = config["DELIVERY_BATCH_SIZE"]
    jobs: list[DeliveryJob] = []

    lapsed = db.session.execute(
        sa.select(Notification.id, Notification.priority)
        .where(Notification.status == Status.SENDING, lease.lapsed(now))
        .limit(SWEEP_LIMIT)
    ).all() if recover_lapsed else []
    for priority, ids in _by_priority(lapsed).items():
        for job_id, batch in lease.grant_batches(ids, batch_size).items():
            moved = change_status(
                batch, Status.QUEUED, EventKind.RECOVERED, only_from=[Status.SENDING],
                where=[lease.lapsed(now)], values={**lease.granted_to(job_id), "next_attempt_at": now},
                detail="the worker delivering this stopped; trying again", now=now,
            )
            report.recovered += len(moved)
            jobs.append(DeliveryJob(job_id, QUEUE_FOR_PRIORITY[priority], tuple(moved)))

    granted_before = now - timedelta(seconds=config["SWEEP_GRACE_SECONDS"])
    due = db.session.execute(
        sa.select(Notification.id, Notification.priority, Notification.job_id)
        .where(Notification.status.in_(PENDING), Notification.job_id.is_not(None),
               Notification.next_attempt_at <= granted_before, Notification.updated_at <= granted_before)
        .order_by(Notification.next_attempt_at)
        .limit(SWEEP_LIMIT)
    ).all()
    dead = lease.dead_jobs(redis, {row.job_id for row in due}, now)
    orphans = [row for row in due if row.job_id in dead]
    for priority, ids in _by_priority(orphans).items():
        for job_id, batch in lease.grant_batches(ids, batch_size).items():
            moved = reassign_job(batch, job_id, now=now)
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


def _by_priority(rows: Sequence[sa.Row[*tuple[Any, ...]]]) -> dict[Priority, list[int]]:
    grouped: dict[Priority, list[int]] = defaultdict(list)
    for row in rows:
        grouped[Priority(row.priority)].append(row.id)
    return grouped
