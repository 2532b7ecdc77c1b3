"""`make run`: the whole product on one machine with its embedded defaults.

Starts an embedded Redis when REDIS_URL is unset, migrates and seeds the database, then runs
the web server and one worker (with the scheduler) as child processes. One Ctrl-C stops them
all, and the embedded Redis with them.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from dotenv import load_dotenv

from app.config import EMBEDDED_REDIS_URL_FILE, INSTANCE_DIR, PROJECT_ROOT, load_settings
from app.embedded_redis import EmbeddedRedis
from app.file_modes import private_directory

STOP_GRACE_SECONDS = 6


def main() -> int:
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
        children.append(subprocess.Popen([sys.executable, "worker.py"], env=env, cwd=PROJECT_ROOT))
        children.append(
            subprocess.Popen([sys.executable, "-m", "app.webserver", port], env=env, cwd=PROJECT_ROOT)
        )
        print(f"\nSutra Notify is running: http://127.0.0.1:{port}/login  (Ctrl-C stops everything)\n", flush=True)
        while all(child.poll() is None for child in children):
            time.sleep(0.5)
        return 1  # a child stopped on its own: stop the rest and report it
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
