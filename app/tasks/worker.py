"""The delivery worker: an RQ worker that runs jobs in-process and keeps time for the product.

Jobs run in the worker's own process (no fork per job): a fork costs more than a whole batch
of sends, and staying in one process keeps provider connections alive between jobs. Each job
gets a fresh app context, so no database session outlives its job. RQ's own scheduler is not
used: work for later waits in the database, and `app.services.scheduler` enqueues it when due.

A worker outlives Redis going away (a restart, a failover): it waits for Redis with backoff,
says so once, registers again when Redis is back and carries on. Only a stop request ends it.
"""

from __future__ import annotations

import contextlib
import logging
import time
from types import FrameType
from typing import Any

from flask import Flask
from redis import Redis
from redis.client import Pipeline
from redis.exceptions import RedisError
from rq import Queue, SimpleWorker
from rq.exceptions import StopRequested
from rq.job import Job

from app.services.queues import ALL_QUEUES
from app.services.scheduler import SchedulerThread
from app.services.worker_resources import release_delivery_resources

log = logging.getLogger(__name__)

REDIS_WAIT_FIRST_SECONDS = 0.5
REDIS_WAIT_MAX_SECONDS = 5.0


class _RedisOutage(logging.Filter):
    """Says once that Redis is gone, and once that it is back, however often RQ notices.

    As a filter on RQ's worker log it drops RQ's own lines about Redis (a retry line every few
    seconds while it dequeues, a traceback when its loop gives up) and notes the outage instead.
    """

    def __init__(self, worker_name: str) -> None:
        super().__init__()
        self.worker_name = worker_name
        self.since: float | None = None

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, RedisError):
            self.began(error)
            return False
        if "could not connect to Redis" in str(record.msg):
            self.began(None)
            return False
        return True

    def began(self, error: BaseException | None) -> None:
        if self.since is None:
            self.since = time.monotonic()
            reason = f" ({type(error).__name__})" if error else ""
            log.warning("worker %s: Redis unavailable%s; waiting for it", self.worker_name, reason)

    def ended(self) -> None:
        if self.since is not None:
            log.warning("worker %s: Redis is back after %.1f s", self.worker_name, time.monotonic() - self.since)
            self.since = None


class AppWorker(SimpleWorker):
    """An RQ worker bound to the Flask app."""

    flask_app: Flask

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._outage = _RedisOutage(self.name)
        self.log.addFilter(self._outage)
        self._stopping = False

    def execute_job(self, job: Job, queue: Queue) -> None:
        with self.flask_app.app_context():
            return super().execute_job(job, queue)

    def work(self, burst: bool = False, *args: Any, **options: Any) -> bool:
        """Run jobs until stopped; a lasting worker also runs the scheduler thread, which
        schedules and sweeps while it holds the scheduler lock (one worker at a time).

        RQ's loop ends on a stop request, and also when Redis fails it outside its own
        dequeue retries; then this waits for Redis and starts the loop again.
        """
        if burst:
            try:
                return super().work(True, *args, **options)
            finally:
                self._close_resources()
        scheduler = SchedulerThread(self.flask_app)
        scheduler.start()
        worked = False
        try:
            while True:
                worked = super().work(False, *args, **options) or worked
                if self._stopping or not self._wait_for_redis():
                    return worked
                log.info("worker %s: resuming after Redis came back", self.name)
        finally:
            scheduler.stop()
            self._close_resources()

    def heartbeat(self, timeout: int | None = None, pipeline: Pipeline | None = None) -> None:
        """Also registers the worker again when Redis lost it (restarted empty, failed over)."""
        if pipeline is None and not self.connection.exists(self.key):
            self._register_again()
        super().heartbeat(timeout, pipeline)
        if pipeline is None:
            self._outage.ended()

    def request_stop(self, signum: int, frame: FrameType | None) -> None:
        """Note the stop: RQ's loop ends the same way when Redis fails it, and then resumes."""
        self._stopping = True
        super().request_stop(signum, frame)

    def teardown(self) -> None:
        # Redis may be the reason the loop ended: its registration then lapses by itself.
        with contextlib.suppress(RedisError):
            super().teardown()

    def _wait_for_redis(self) -> bool:
        """Wait, with backoff, until Redis answers; False if a stop was asked for meanwhile."""
        delay = REDIS_WAIT_FIRST_SECONDS
        try:
            while not self._stopping:
                try:
                    # Its registration, if Redis kept it, would stop RQ's loop from starting again.
                    self.connection.delete(self.key)
                except RedisError as error:
                    self._outage.began(error)
                    time.sleep(delay)
                    delay = min(delay * 2, REDIS_WAIT_MAX_SECONDS)
                    continue
                self._outage.ended()
                return True
        except StopRequested:  # raised by RQ's signal handler while idle
            pass
        return False

    def _register_again(self) -> None:
        with contextlib.suppress(ValueError):  # registered by now after all
            self.register_birth()

    def _close_resources(self) -> None:
        release_delivery_resources(self.flask_app)


def build_worker(app: Flask, connection: Redis | None = None) -> AppWorker:
    """A worker listening to every queue the product enqueues to, most urgent first."""
    connection = connection or app.extensions["redis"]
    queues = [Queue(name, connection=connection) for name in ALL_QUEUES]
    worker = AppWorker(queues, connection=connection)
    worker.flask_app = app
    return worker
