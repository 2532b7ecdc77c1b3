"""The web servers do not announce their software or the Python version, and log no query
strings (they carry what staff typed, such as patients' names)."""

import logging
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from app.webserver import SERVER_BANNER
from tests.conftest import child_environment

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
def gunicorn(app, tmp_path) -> Iterator[str]:
    """`gunicorn wsgi:app` as production starts it (from the project folder), on a free port,
    writing its access log to tmp_path/access.log."""
    port = free_port()
    env = child_environment(app.config)
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--worker-class", "gthread", "--threads", "2", "--workers", "1",
         "--no-control-socket", "--access-logfile", str(tmp_path / "access.log"), "-b", f"127.0.0.1:{port}",
         "wsgi:app"],
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


# --- the development server's access log -----------------------------------------------------


@pytest.fixture
def access_log(caplog) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG, logger="werkzeug")
    return caplog


def logged(caplog, path: str) -> logging.LogRecord:
    """The access log record for `path` (the server writes it just after answering)."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        for record in caplog.records:
            if record.name == "werkzeug" and f" {path}\"" in record.getMessage():
                return record
        time.sleep(0.01)
    raise AssertionError(f"nothing logged for {path}: {[r.getMessage() for r in caplog.records]}")


def test_a_request_is_logged_without_its_query_string(live_server, access_log):
    response = requests.get(f"{live_server}/login?next=/monitor%3Fpatient%3DPriya+Sharma&patient=Priya", timeout=5)
    assert response.status_code == 200
    record = logged(access_log, "/login")
    assert record.levelno == logging.INFO
    assert '"GET /login" 200' in record.getMessage()
    assert "Priya" not in record.getMessage() and "?" not in record.getMessage()


def test_a_successful_htmx_poll_is_logged_below_info(live_server, access_log):
    assert requests.get(f"{live_server}/login?poll=1", headers={"HX-Request": "true"}, timeout=5).status_code == 200
    assert logged(access_log, "/login").levelno == logging.DEBUG


def test_a_static_file_is_logged_below_info(live_server, access_log):
    assert requests.get(f"{live_server}/static/css/app.css", timeout=5).status_code == 200
    assert logged(access_log, "/static/css/app.css").levelno == logging.DEBUG


def test_a_failed_htmx_request_is_still_logged_at_info(live_server, access_log):
    response = requests.get(f"{live_server}/no-such-fragment?patient=Priya", headers={"HX-Request": "true"}, timeout=5)
    assert response.status_code == 404
    record = logged(access_log, "/no-such-fragment")
    assert record.levelno == logging.INFO and "Priya" not in record.getMessage()


def test_gunicorn_logs_paths_without_query_strings(gunicorn, tmp_path):
    assert requests.get(f"{gunicorn}/no-such-page?patient=Priya+Sharma", timeout=5).status_code == 404
    log = tmp_path / "access.log"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and "/no-such-page" not in (log.read_text() if log.exists() else ""):
        time.sleep(0.05)
    line = next(line for line in log.read_text().splitlines() if "/no-such-page" in line)
    assert '"GET /no-such-page" 404' in line and "Priya" not in line and "?" not in line
