"""The delivery worker: an RQ worker that runs jobs in-process and keeps time for the product.

Jobs run in the worker's own process (no fork per job): a fork costs more than a whole batch
of sends, and staying in one process keeps provider connections alive between jobs. Each job
gets a fresh app context, so no database session outlives its job. RQ's own scheduler is not
used: work for later waits in the database, and `app.services.scheduler` enqueues it when due.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from redis import Redis
from rq import Queue, SimpleWorker

from app.channels.registry import close_providers
from app.services.delivery import shutdown_pool
from app.services.queues import ALL_QUEUES
from app.services.scheduler import SchedulerThread


class AppWorker(SimpleWorker):
    """An RQ worker bound to the Flask app."""

    flask_app: Flask

    def execute_job(self, job, queue):
        with self.flask_app.app_context():
            return super().execute_job(job, queue)

    def work(self, burst: bool = False, **options: Any) -> bool:
        """Run jobs until stopped; a lasting worker also runs the scheduler thread, which
        schedules and sweeps while it holds the scheduler lock (one worker at a time)."""
        if burst:
            return super().work(burst=True, **options)
        scheduler = SchedulerThread(self.flask_app)
        scheduler.start()
        try:
            return super().work(burst=False, **options)
        finally:
            scheduler.stop()

    def teardown(self):
        super().teardown()
        shutdown_pool(self.flask_app)
        close_providers(self.flask_app)


def build_worker(app: Flask, connection: Redis | None = None) -> AppWorker:
    """A worker listening to every queue the product enqueues to, most urgent first."""
    connection = connection or app.extensions["redis"]
    queues = [Queue(name, connection=connection) for name in ALL_QUEUES]
    worker = AppWorker(queues, connection=connection)
    worker.flask_app = app
    return worker
