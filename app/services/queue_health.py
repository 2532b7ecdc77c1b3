"""Queue health: what waits on each RQ queue, who works on them, and what failed.

Read straight from Redis with RQ's own registries, except what waits for its time: that waits
in the database until the scheduler enqueues it, so it is counted there. Failed jobs are shown by id, description,
times and the headline of their exception only: job arguments are notification ids today
but could carry anything tomorrow, and tracebacks can quote data, so neither reaches the page.
Retrying is always safe for delivery jobs: a job run twice sends each notification once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from redis import Redis
from rq import Queue, Worker
from rq.exceptions import InvalidJobOperation, NoSuchJobError
from rq.job import Job
from rq.results import Result

from app.extensions import db
from app.models.notification import Notification
from app.services import lease
from app.services.errors import NotFound
from app.services.queues import ALL_QUEUES, QUEUE_FOR_PRIORITY

FAILED_SHOWN = 100
HEADLINE_MAX = 300


@dataclass(frozen=True)
class QueueCounts:
    name: str
    queued: int  # jobs
    scheduled: int  # notifications waiting for their time (scheduled sends, retries, deferrals)
    started: int
    failed: int


@dataclass(frozen=True)
class WorkerInfo:
    name: str
    state: str
    queues: list[str]
    current_job_id: str | None
    last_heartbeat: datetime | None


@dataclass(frozen=True)
class FailedJob:
    id: str
    queue: str
    description: str
    enqueued_at: datetime | None
    ended_at: datetime | None
    exception: str


@dataclass(frozen=True)
class QueueSummary:
    queues: list[QueueCounts]
    workers: list[WorkerInfo]


@dataclass(frozen=True)
class QueueOverview:
    summary: QueueSummary
    failed_jobs: list[FailedJob]


def summary(redis: Redis) -> QueueSummary:
    """Queue sizes and workers: what the queues page refreshes every few seconds. Failed jobs
    are only counted here; reading them (up to FAILED_SHOWN per queue) is for the page."""
    return QueueSummary(queues=queue_counts(redis), workers=workers(redis))


def overview(redis: Redis) -> QueueOverview:
    """Everything the queues page shows, read in one go."""
    return QueueOverview(summary=summary(redis), failed_jobs=failed_jobs(redis))


def queue_counts(redis: Redis) -> list[QueueCounts]:
    """Every queue the workers listen to, in their order, with its registries' sizes."""
    waiting: dict[str, int] = dict.fromkeys(ALL_QUEUES, 0)
    for priority, count in db.session.execute(
        sa.select(Notification.priority, sa.func.count()).where(lease.waiting()).group_by(Notification.priority)
    ):
        waiting[QUEUE_FOR_PRIORITY[priority]] += count
    counts = []
    for name in ALL_QUEUES:
        queue = Queue(name, connection=redis)
        counts.append(
            QueueCounts(
                name=name,
                queued=queue.count,
                scheduled=waiting[name],
                started=queue.started_job_registry.count,
                failed=queue.failed_job_registry.count,
            )
        )
    return counts


def workers(redis: Redis) -> list[WorkerInfo]:
    """The workers registered on this Redis (those that stopped cleanly have left)."""
    found = []
    for worker in Worker.all(connection=redis):
        found.append(
            WorkerInfo(
                name=worker.name,
                state=str(worker.get_state()),
                queues=worker.queue_names(),
                current_job_id=worker.get_current_job_id(),
                last_heartbeat=_aware(worker.last_heartbeat),
            )
        )
    return sorted(found, key=lambda w: w.name)


def failed_jobs(redis: Redis, limit: int = FAILED_SHOWN) -> list[FailedJob]:
    """The most recently failed jobs across every queue, newest first."""
    jobs: list[FailedJob] = []
    for name in ALL_QUEUES:
        registry = Queue(name, connection=redis).failed_job_registry
        ids = registry.get_job_ids(0, limit - 1, desc=True)
        for job in Job.fetch_many(ids, connection=redis):
            if job is not None:
                jobs.append(_failed_job(job, name))
    newest_first = sorted(jobs, key=lambda j: j.ended_at or datetime.min.replace(tzinfo=UTC), reverse=True)
    return newest_first[:limit]


def _failed_job(job: Job, queue: str) -> FailedJob:
    return FailedJob(
        id=job.id,
        queue=queue,
        description=_safe_description(job),
        enqueued_at=_aware(job.enqueued_at),
        ended_at=_aware(job.ended_at),
        exception=exception_headline(_exc_string(job)),
    )


def _safe_description(job: Job) -> str:
    """The description the product gave the job, or only its function's name.

    RQ's default description is the call with its arguments written out; ours never are.
    """
    description = job.description or ""
    try:
        func_name = job.func_name or ""
    except Exception:  # an unreadable payload: the description is all there is
        return description.split("(", 1)[0]
    if not description or description.startswith(f"{func_name}("):
        return func_name
    return description


def _exc_string(job: Job) -> str:
    result = job.latest_result()
    if result is not None and result.type == Result.Type.FAILED:
        return result.exc_string or ""
    return ""


def exception_headline(traceback: str) -> str:
    """The "Type: message" line of the exception that ended a traceback.

    Not simply the last line: some exceptions (SQLAlchemy's, for one) follow their headline
    with the statement and its parameters, which may be patients' data.
    """
    lines = traceback.rstrip().splitlines()
    last_frame = max((i for i, line in enumerate(lines) if line.startswith("  ")), default=-1)
    for line in lines[last_frame + 1:]:
        if line.strip():
            return line.strip()[:HEADLINE_MAX]
    return lines[-1].strip()[:HEADLINE_MAX] if lines else ""


def retry_failed_job(redis: Redis, job_id: str) -> str:
    """Put a failed job back on the queue it came from; return that queue's name.

    Raises:
        NotFound: no queue's failed list holds this job (retried already, or expired).
    """
    for name in ALL_QUEUES:
        registry = Queue(name, connection=redis).failed_job_registry
        if job_id in registry:
            try:
                registry.requeue(job_id)
            except (InvalidJobOperation, NoSuchJobError):
                break  # another admin retried it a moment ago, or it just expired
            return name
    raise NotFound("That job is no longer in the failed list: it was retried already or has expired")


def retry_all_failed(redis: Redis) -> int:
    """Requeue every failed job of every queue; return how many went back."""
    requeued = 0
    for name in ALL_QUEUES:
        registry = Queue(name, connection=redis).failed_job_registry
        for job_id in registry.get_job_ids():
            try:
                registry.requeue(job_id)
            except (InvalidJobOperation, NoSuchJobError):
                continue
            requeued += 1
    return requeued


def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value
