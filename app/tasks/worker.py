"""The delivery worker: an RQ worker that runs jobs in-process and starts the periodic sweeper.

Jobs run in the worker's own process (no fork per job): a fork costs more than a whole batch
of sends, and staying in one process keeps provider connections alive between jobs. Each job
gets a fresh app context, so no database session outlives its job.
"""

from __future__ import annotations

from flask import Flask
from redis import Redis
from rq import Queue, SimpleWorker

from app.channels.registry import close_providers
from app.services.delivery import shutdown_pool
from app.services.queues import ALL_QUEUES
from app.services.sweeper import SweeperThread


class AppWorker(SimpleWorker):
    """An RQ worker bound to the Flask app."""

    flask_app: Flask
    sweeper: SweeperThread | None = None

    def execute_job(self, job, queue):
        with self.flask_app.app_context():
            return super().execute_job(job, queue)

    def _start_scheduler(self, burst=False, *args, **kwargs):
        super()._start_scheduler(burst, *args, **kwargs)
        # After the scheduler's fork, so the forked process inherits no sweeper thread state.
        if not burst and self.sweeper is None:
            self.sweeper = SweeperThread(self.flask_app)
            self.sweeper.start()

    def teardown(self):
        if self.sweeper is not None:
            self.sweeper.stop()
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
