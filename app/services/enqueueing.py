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
from datetime import datetime

from redis import Redis
from redis.exceptions import RedisError
from rq import Queue

from app.clock import utcnow

log = logging.getLogger(__name__)

DELIVER_FUNC = "app.tasks.delivery.deliver_notifications"
FAILED_JOB_TTL = 7 * 24 * 3600  # failed jobs stay visible (and retryable) for a week


@dataclass(frozen=True, slots=True)
class DeliveryJob:
    job_id: str
    queue: str
    notification_ids: tuple[int, ...]
    run_at: datetime | None = None  # None: now


def enqueue_jobs(redis: Redis, jobs: Iterable[DeliveryJob], *, timeout: int) -> bool:
    """Enqueue every job in one pipeline; False when Redis could not take them.

    A failure here loses nothing: the rows are committed and the sweeper re-enqueues due work
    whose job is missing. So callers log and carry on rather than fail a committed send.
    """
    jobs = list(jobs)
    if not jobs:
        return True
    now = utcnow()
    try:
        with redis.pipeline() as pipe:
            queues: dict[str, Queue] = {}
            immediate: dict[str, list] = {}
            for job in jobs:
                queue = queues.setdefault(job.queue, Queue(job.queue, connection=redis))
                ids = list(job.notification_ids)
                description = f"deliver {len(ids)} notification(s)"
                if job.run_at is None or job.run_at <= now:
                    immediate.setdefault(job.queue, []).append(
                        Queue.prepare_data(
                            DELIVER_FUNC,
                            args=(ids,),
                            job_id=job.job_id,
                            timeout=timeout,
                            result_ttl=0,
                            failure_ttl=FAILED_JOB_TTL,
                            description=description,
                        )
                    )
                else:
                    queue.enqueue_at(
                        job.run_at,
                        DELIVER_FUNC,
                        ids,
                        job_id=job.job_id,
                        job_timeout=timeout,
                        result_ttl=0,
                        failure_ttl=FAILED_JOB_TTL,
                        description=description,
                        pipeline=pipe,
                    )
            for name, datas in immediate.items():
                queues[name].enqueue_many(datas, pipeline=pipe)
            pipe.execute()
    except RedisError:
        log.warning("could not enqueue %d delivery job(s); the sweeper will retry", len(jobs))
        return False
    return True

