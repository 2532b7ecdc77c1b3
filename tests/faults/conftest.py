"""Fault tests: real `python worker.py` processes on a redis-server each test starts itself
(never the shared one), on the test database, with the fake providers; the test then breaks
something (kills a worker, restarts Redis) and checks that every notification ends final."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from redis import Redis

from tests.conftest import TEST_SECRET_KEY
from tests.faults.servers import PostgresCluster, RedisServer, spawn_worker

LOCK_SECONDS = 2


@pytest.fixture
def redis_server(tmp_path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.client.close()
    server.stop()


@pytest.fixture
def own_redis(redis_server: RedisServer) -> Redis:
    """A client of the test's own redis-server."""
    return redis_server.client


@pytest.fixture
def start_worker(app, redis_server: RedisServer, tmp_path, monkeypatch) -> Iterator[Callable[..., subprocess.Popen]]:
    """Start `python worker.py` processes on the test database and the test's own Redis;
    keyword arguments are settings for the worker (a fake provider's, say). The test's sends
    put their jobs on that Redis too, so a fault to it is a fault to the jobs."""
    monkeypatch.setitem(app.extensions, "redis", redis_server.client)
    started: list[subprocess.Popen] = []

    def start(**settings: object) -> subprocess.Popen:
        env = dict(
            os.environ,
            SECRET_KEY=TEST_SECRET_KEY,
            DATABASE_URL=app.config["DATABASE_URL"],
            REDIS_URL=redis_server.url,
            PUBLIC_BASE_URL=app.config["PUBLIC_BASE_URL"],
            SCHEDULER_LOCK_SECONDS=str(LOCK_SECONDS),
        )
        env.update({name: str(value) for name, value in settings.items()})
        process = spawn_worker(env, tmp_path / f"worker-{len(started)}.log")
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process in started:
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def postgres_cluster() -> Iterator[PostgresCluster]:
    # Not under pytest's own temporary directory: the postgres user may not enter that.
    cluster = PostgresCluster(Path(tempfile.mkdtemp(prefix="sutra-test-postgres-")))
    reason = cluster.available()
    if reason:
        pytest.skip(reason)
    try:
        cluster.create()
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(cluster.directory, ignore_errors=True)
