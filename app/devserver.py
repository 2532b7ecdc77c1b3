"""`make run`: the whole product on one machine with its embedded defaults.

Starts an embedded Redis when REDIS_URL is unset, migrates and seeds the database, then runs
the web server and one worker (with the scheduler) as child processes. A worker that exits is
started again (after a pause that grows while it keeps failing), as systemd does in production.
One Ctrl-C stops them all, and the embedded Redis with them.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from dotenv import dotenv_values, load_dotenv, set_key

from app.channels.web_push import new_key_pair
from app.config import EMBEDDED_REDIS_URL_FILE, INSTANCE_DIR, PROJECT_ROOT, load_settings
from app.embedded_redis import EmbeddedRedis
from app.file_modes import private_directory

STOP_GRACE_SECONDS = 6
# Pauses before starting a worker again, longer each time it exits soon after starting.
RESTART_DELAYS = (1, 2, 5, 10, 30)
# A worker that ran this long before exiting is starting afresh, not failing in a loop.
HEALTHY_RUN_SECONDS = 60


def main() -> int:
    _ensure_vapid_keys(PROJECT_ROOT / ".env")
    load_dotenv(PROJECT_ROOT / ".env")
    private_directory(INSTANCE_DIR)  # the SQLite database and the embedded Redis's address live here
    env = dict(os.environ, FLASK_APP="wsgi", PYTHONUNBUFFERED="1")
    port = str(load_settings()["PORT"])
    signal.signal(signal.SIGTERM, _raise_interrupt)
    embedded: EmbeddedRedis | None = None
    children: list[subprocess.Popen] = []
    try:
        if not env.get("REDIS_URL"):
            embedded = EmbeddedRedis.start(Path(tempfile.mkdtemp(prefix="sutra-redis-")))
            env["REDIS_URL"] = embedded.url
            EMBEDDED_REDIS_URL_FILE.write_text(embedded.url)
            print(f"Embedded Redis started ({embedded.url})", flush=True)
        flask = [sys.executable, "-m", "flask"]
        subprocess.run([*flask, "db", "upgrade"], env=env, check=True, cwd=PROJECT_ROOT)
        subprocess.run([*flask, "seed-demo"], env=env, check=True, cwd=PROJECT_ROOT)
        worker = _SupervisedWorker(env)
        children.append(worker.start())
        web = subprocess.Popen([sys.executable, "-m", "app.webserver", port], env=env, cwd=PROJECT_ROOT)
        children.append(web)
        print(f"\nSutra Notify is running: http://127.0.0.1:{port}/login  (Ctrl-C stops everything)\n", flush=True)
        while web.poll() is None:
            if worker.exited():
                children.remove(worker.process)
                children.append(worker.restart())
            time.sleep(0.5)
        return 1  # the web server stopped on its own: stop the rest and report it
    except KeyboardInterrupt:
        return 0
    except subprocess.CalledProcessError as exc:
        print(f"setup failed: {' '.join(map(str, exc.cmd))} exited with {exc.returncode}", file=sys.stderr)
        return exc.returncode
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the cleanup short
        _stop(children)
        if embedded is not None:
            embedded.stop()
            EMBEDDED_REDIS_URL_FILE.unlink(missing_ok=True)
        print("Stopped.", flush=True)


def _ensure_vapid_keys(env_file: Path) -> None:
    """Give the clinic its browser-push key pair the first time it runs, and keep it after:
    browsers subscribed with its public key, so a new pair would orphan every subscription."""
    if os.environ.get("VAPID_PRIVATE_KEY") or dotenv_values(env_file).get("VAPID_PRIVATE_KEY"):
        return
    public, private = new_key_pair()
    set_key(env_file, "VAPID_PUBLIC_KEY", public, quote_mode="never")
    set_key(env_file, "VAPID_PRIVATE_KEY", private, quote_mode="never")
    print("Browser push keys (VAPID) generated into .env", flush=True)


class _SupervisedWorker:
    """The delivery worker, started again whenever it exits."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.process: subprocess.Popen
        self.started_at = 0.0
        self.quick_exits = 0

    def start(self) -> subprocess.Popen:
        self.process = subprocess.Popen([sys.executable, "worker.py"], env=self.env, cwd=PROJECT_ROOT)
        self.started_at = time.monotonic()
        return self.process

    def exited(self) -> bool:
        return self.process.poll() is not None

    def restart(self) -> subprocess.Popen:
        ran = time.monotonic() - self.started_at
        self.quick_exits = 0 if ran >= HEALTHY_RUN_SECONDS else self.quick_exits + 1
        delay = RESTART_DELAYS[min(self.quick_exits, len(RESTART_DELAYS)) - 1] if self.quick_exits else 0
        print(f"The worker stopped (exit status {self.process.returncode}); starting it again"
              + (f" in {delay} s" if delay else ""), flush=True)
        time.sleep(delay)
        return self.start()


def _raise_interrupt(signum, frame):
    raise KeyboardInterrupt


def _stop(children: list[subprocess.Popen]) -> None:
    """Ask each child to stop (SIGTERM: honoured even where SIGINT is ignored), then insist."""
    for child in children:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE_SECONDS
    for child in children:
        try:
            child.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


if __name__ == "__main__":
    sys.exit(main())
