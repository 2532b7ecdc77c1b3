"""Putting delivery jobs on Redis, after the rows they deliver are committed.

Job ids are chosen before the commit and stored on the rows (`app.services.lease`), so the
sweeper can tell a row whose job is alive from one whose job was lost (Redis flushed, enqueue
failed after commit). Many jobs go out in one pipeline: a group send of thousands is one round trip.

Enqueueing belongs to the services that commit the rows; the job function is named by its dotted
path, never imported, so services do not depend on `app.tasks` (tasks call services, not back).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from redis import Redis
from redis.exceptions import RedisError
from rq import Queue
from rq.queue import EnqueueData

log = logging.getLogger(__name__)

DELIVER_FUNC = "app.tasks.delivery.deliver_notifications"
FAILED_JOB_TTL = 7 * 24 * 3600  # failed jobs stay visible (and retryable) for a week


@dataclass(frozen=True, slots=True)
class DeliveryJob:
    job_id: str
    queue: str
    notification_ids: tuple[int, ...]
    at_front: bool = False  # ahead of what waits on its queue (a due retry)


def enqueue_jobs(redis: Redis, jobs: Iterable[DeliveryJob], *, timeout: int) -> bool:
    """Enqueue every job in one pipeline; False when Redis could not take them.

    Jobs run now: work for later waits in the database until the scheduler enqueues it
    (`app.services.scheduler`). Jobs put at the front keep their order among themselves.

    A failure here loses nothing: the rows are committed and the sweeper re-enqueues due work
    whose job is missing. So callers log and carry on rather than fail a committed send.
    """
    jobs = list(jobs)
    if not jobs:
        return True
    # Each job put at the front goes before the last one: push them last first.
    ordered = [job for job in jobs if not job.at_front] + [job for job in reversed(jobs) if job.at_front]
    by_queue: dict[str, list[EnqueueData]] = {}
    for job in ordered:
        ids = list(job.notification_ids)
        by_queue.setdefault(job.queue, []).append(
            Queue.prepare_data(
                DELIVER_FUNC,
                args=(ids,),
                job_id=job.job_id,
                timeout=timeout,
                result_ttl=0,
                failure_ttl=FAILED_JOB_TTL,
                description=f"deliver {len(ids)} notification(s)",
                at_front=job.at_front,
            )
        )
    try:
        with redis.pipeline() as pipe:
            for name, datas in by_queue.items():
                Queue(name, connection=redis).enqueue_many(datas, pipeline=pipe)
            pipe.execute()
    except RedisError:
        log.warning("could not enqueue %d delivery job(s); the sweeper will retry", len(jobs))
        return False
    return True
