"""The web servers do not announce their software or the Python version."""

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from app.webserver import SERVER_BANNER
from tests.conftest import TEST_SECRET_KEY

ROOT = Path(__file__).resolve().parent.parent


def test_the_development_server_names_only_the_product(live_server):
    response = requests.get(f"{live_server}/login", timeout=5)
    assert response.headers["Server"] == SERVER_BANNER
    assert "Werkzeug" not in response.headers["Server"] and "Python" not in response.headers["Server"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def gunicorn(app) -> Iterator[str]:
    """`gunicorn wsgi:app` as production starts it (from the project folder), on a free port."""
    port = free_port()
    env = dict(os.environ, SECRET_KEY=TEST_SECRET_KEY, DATABASE_URL=app.config["DATABASE_URL"],
               REDIS_URL=app.config["REDIS_URL"])
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--worker-class", "gthread", "--threads", "2", "--workers", "1",
         "--no-control-socket", "-b", f"127.0.0.1:{port}", "wsgi:app"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and process.poll() is None:
        try:
            requests.get(f"{url}/login", timeout=1)
            break
        except requests.RequestException:  # not listening yet, or its worker still booting
            time.sleep(0.1)
    yield url
    process.terminate()
    process.wait(timeout=15)


def test_gunicorn_names_only_the_product(gunicorn):
    response = requests.get(f"{gunicorn}/login", timeout=5)
    assert response.status_code == 200
    assert response.headers["Server"] == SERVER_BANNER
