"""`make run`'s supervisor: the product keeps delivering when its worker dies, and Ctrl-C stops it all."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from app.config import PROJECT_ROOT
from tests.conftest import TEST_SECRET_KEY

# Migrating, seeding and starting two processes takes seconds here but minutes on a loaded runner.
STARTUP_SECONDS = 180
pytestmark = pytest.mark.timeout(STARTUP_SECONDS + 60)


def children_of(pid: int) -> dict[int, str]:
    """{pid: command line} of the processes whose parent is `pid`."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, IndexError, ValueError):
            continue  # gone meanwhile
        if parent == pid:
            found[int(entry.name)] = command
    return found


def worker_pid(devserver: subprocess.Popen) -> int | None:
    workers = [pid for pid, command in children_of(devserver.pid).items() if "worker.py" in command]
    return workers[0] if workers else None


def wait_for(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    pytest.fail(f"timed out waiting for {what}")


@pytest.fixture
def devserver(tmp_path, redis_url, unused_port) -> Iterator[tuple[subprocess.Popen, str]]:
    env = dict(
        os.environ,
        PORT=str(unused_port),
        DATABASE_URL=f"sqlite:///{tmp_path / 'run.db'}",
        REDIS_URL=redis_url,
        SECRET_KEY=TEST_SECRET_KEY + "-long-enough-for-the-check",
    )
    process = subprocess.Popen([sys.executable, "-m", "app.devserver"], env=env, cwd=PROJECT_ROOT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{unused_port}"
    try:
        wait_for(lambda: _answers(f"{url}/login"), STARTUP_SECONDS, "the login page")
        yield process, url
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).status_code == 200
    except requests.RequestException:
        return False


def test_a_worker_that_dies_is_started_again(devserver):
    process, _ = devserver
    first = wait_for(lambda: worker_pid(process), 10, "the worker")

    os.kill(first, signal.SIGKILL)

    second = wait_for(lambda: (pid := worker_pid(process)) != first and pid, 15, "a new worker")
    assert second != first


def test_one_interrupt_stops_the_web_server_and_the_worker(devserver):
    process, url = devserver
    worker = wait_for(lambda: worker_pid(process), 10, "the worker")
    children = set(children_of(process.pid))

    process.send_signal(signal.SIGINT)

    assert process.wait(timeout=20) == 0
    assert worker in children
    assert not [pid for pid in children if Path(f"/proc/{pid}").exists()]
    assert not _answers(f"{url}/login")
