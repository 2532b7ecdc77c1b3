"""The delivery worker: an RQ worker that runs jobs in-process, plus the periodic sweeper.

Jobs run in the worker's own process (no fork per job): a fork costs more than a whole batch
of sends, and staying in one process keeps provider connections alive between jobs. Each job
gets a fresh app context, so no database session outlives its job.
"""

from __future__ import annotations

import logging
import threading

from flask import Flask
from redis import Redis
from rq import Queue, SimpleWorker

from app.channels.registry import close_providers
from app.extensions import get_redis
from app.services.delivery import shutdown_pool
from app.services.sweeper import sweep
from app.tasks.queues import ALL_QUEUES

log = logging.getLogger(__name__)

SWEEPER_LOCK = "sutra:sweeper-lock"


class AppWorker(SimpleWorker):
    """An RQ worker bound to the Flask app."""

    flask_app: Flask
    sweeper: Sweeper | None = None

    def execute_job(self, job, queue):
        with self.flask_app.app_context():
            return super().execute_job(job, queue)

    def _start_scheduler(self, burst=False, *args, **kwargs):
        super()._start_scheduler(burst, *args, **kwargs)
        # After the scheduler's fork, so the forked process inherits no sweeper thread state.
        if not burst and self.sweeper is None:
            self.sweeper = Sweeper(self.flask_app)
            self.sweeper.start()

    def teardown(self):
        if self.sweeper is not None:
            self.sweeper.stop()
        super().teardown()
        shutdown_pool(self.flask_app)
        close_providers(self.flask_app)


class Sweeper(threading.Thread):
    """Runs `sweep` every SWEEP_INTERVAL_SECONDS in one worker at a time (a Redis lock)."""

    def __init__(self, app: Flask):
        super().__init__(name="sweeper", daemon=True)
        self.app = app
        self.interval = app.config["SWEEP_INTERVAL_SECONDS"]
        self._stopped = threading.Event()

    def run(self) -> None:
        while not self._stopped.wait(self.interval):
            try:
                with self.app.app_context():
                    if get_redis().set(SWEEPER_LOCK, "1", nx=True, ex=max(1, int(self.interval * 0.9))):
                        sweep()
            except Exception:  # keep sweeping next time whatever went wrong this time
                log.exception("sweep failed")

    def stop(self) -> None:
        self._stopped.set()


def build_worker(app: Flask, connection: Redis | None = None) -> AppWorker:
    """A worker listening to every queue the product enqueues to, most urgent first."""
    connection = connection or app.extensions["redis"]
    queues = [Queue(name, connection=connection) for name in ALL_QUEUES]
    worker = AppWorker(queues, connection=connection)
    worker.flask_app = app
    return worker
