"""Shared fixtures: the app, its database, Redis, logged-in users and the fake providers.

Tests run against real services: PostgreSQL and Redis when DATABASE_URL / REDIS_URL are set
(CI), else an SQLite file and an embedded redis-server. The schema is built from the
migrations, once per test process; every test starts from empty tables and an empty Redis.
"""

from __future__ import annotations

import contextvars
import os
import re
import subprocess
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from flask import Flask, has_app_context
from flask.testing import FlaskClient
from redis import Redis
from sqlalchemy.engine import make_url

from app import create_app
from app.clock import utcnow
from app.config import environment_spelling, setting_names
from app.embedded_redis import EmbeddedRedis
from app.extensions import db
from tests import factories
from tests.pages import ClientRequest

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

pytest_plugins = ["tests.fakes.plugin"]

TEST_SECRET_KEY = "test-secret-key-not-for-production"
TESTS = Path(__file__).resolve().parent
# Tests that start processes of their own (a browser, gunicorn, workers), or try hundreds of inputs.
SLOW_FOLDERS = {TESTS / "browser", TESTS / "faults"}
SLOW_MODULES = {TESTS / "test_web_server.py", TESTS / "test_devserver.py", TESTS / "api" / "test_schemathesis.py"}


def pytest_configure(config: pytest.Config) -> None:
    """Compile the message catalogues as `make` does, so a run started with plain `pytest` tests
    the patient's pages in every language. Once, in the process that starts the others."""
    if not hasattr(config, "workerinput"):
        subprocess.run(["make", "--silent", "translations"], cwd=TESTS.parent, check=True, stdout=subprocess.DEVNULL)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark what `make test-fast` leaves out: browser tests, server processes and fuzzing."""
    for item in items:
        path = Path(item.path)
        fuzzed = getattr(getattr(item, "obj", None), "is_hypothesis_test", False)
        if fuzzed or path in SLOW_MODULES or SLOW_FOLDERS & set(path.parents):
            item.add_marker(pytest.mark.slow)


def _worker_index(worker_id: str) -> int:
    return int(worker_id.removeprefix("gw")) if worker_id.startswith("gw") else 0


@pytest.fixture(scope="session")
def database_url(worker_id: str, testrun_uid: str, tmp_path_factory) -> Iterator[str]:
    base = os.environ.get("DATABASE_URL")
    if not base or not base.startswith("postgres"):
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
        return
    # One database per test process and run, created fresh, so neither the processes of one
    # run nor two runs on the same server (two checkouts, CI beside a developer) share rows.
    name = f"sutra_test_{testrun_uid[:12]}_{_worker_index(worker_id)}"
    server = make_url(base).set(drivername="postgresql+psycopg")
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    yield server.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def redis_url(worker_id: str) -> Iterator[str]:
    base = os.environ.get("REDIS_URL")
    if base:
        # One logical database per test process, so parallel runs do not flush each other.
        yield urlsplit(base)._replace(path=f"/{1 + _worker_index(worker_id)}").geturl()
        return
    server = EmbeddedRedis.start(Path(tempfile.mkdtemp(prefix="sutra-test-redis-")))
    yield server.url
    server.stop()


def base_settings(database_url: str, redis_url: str) -> dict:
    return {
        "TESTING": True,
        "SECRET_KEY": TEST_SECRET_KEY,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "PUBLIC_BASE_URL": "http://localhost",
        "SMS_PROVIDER": "console",
        "EMAIL_PROVIDER": "console",
        "PUSH_PROVIDER": "console",
        "RETRY_BASE_SECONDS": 30.0,
        "SWEEP_GRACE_SECONDS": 30.0,
        "DELIVERY_BATCH_SIZE": 50,
    }


def child_environment(settings: Mapping[str, Any]) -> dict[str, str]:
    """The environment of a process a test starts (a worker, gunicorn, a script).

    This process's environment without any product setting a developer exported, then every
    setting from `settings` (the test app's config), so the child runs as the test app does and
    its `.env` fills in nothing.
    """
    env = {name: value for name, value in os.environ.items() if name not in setting_names()}
    for name in setting_names():
        env[name] = environment_spelling(settings.get(name))
    return env


@pytest.fixture(scope="session")
def _app(database_url: str, redis_url: str) -> Iterator[Flask]:
    from flask_migrate import upgrade

    app = create_app(base_settings(database_url, redis_url))
    app.wsgi_app = _each_request_in_a_context_of_its_own(app.wsgi_app)
    with app.app_context():
        upgrade()
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def app(_app: Flask) -> Iterator[Flask]:
    """The app, with empty tables, an empty Redis, console providers and default settings."""
    saved = dict(_app.config)
    with _app.app_context():
        _empty_database()
        _app.extensions["redis"].flushdb()
        yield _app
        db.session.remove()
    _app.config.clear()
    _app.config.update(saved)
    _reset_providers(_app)


def _each_request_in_a_context_of_its_own(wsgi_app: WSGIApplication) -> WSGIApplication:
    """Serve each request in a fresh context, as a server's thread does.

    A test holds the app context open to call services and read rows between requests; Flask
    would otherwise run a request inside that open context. Here every request pushes its own,
    with its own `g` (Flask-Login's user, Flask-WTF's token) and database session, ended by its
    own teardown, exactly as in production. Afterwards the rows the test holds are re-read on
    next use, as another process would see what the request wrote.
    """

    def serve(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        try:
            return contextvars.Context().run(wsgi_app, environ, start_response)
        finally:
            if has_app_context():
                db.session.expire_all()

    return serve


def _empty_database() -> None:
    tables = [t for t in reversed(db.metadata.sorted_tables)]
    if db.engine.dialect.name == "postgresql":
        names = ", ".join(f'"{t.name}"' for t in tables)
        db.session.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    else:
        # The audit log's triggers refuse DELETE (TRUNCATE, above, fires no row trigger): lifted
        # for the emptying, then put back as the migrations made them.
        triggers = db.session.execute(sa.text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")).all()
        for name, _ in triggers:
            db.session.execute(sa.text(f'DROP TRIGGER "{name}"'))
        for table in tables:
            db.session.execute(table.delete())
        for _, sql in triggers:
            db.session.execute(sa.text(sql))
    db.session.commit()


def _reset_providers(app: Flask) -> None:
    from app.services.worker_resources import release_delivery_resources

    release_delivery_resources(app)


@pytest.fixture
def use_settings(app: Flask):
    """Change settings for one test (providers are rebuilt from them on next use)."""

    def apply(**settings) -> None:
        app.config.update(settings)
        _reset_providers(app)

    return apply


# Pipeline tests reach the fakes through the whole app, often on a loaded machine: the 0.5 s
# timeout the provider unit tests use would turn a slow moment into a retry and a flaky test.
PIPELINE_PROVIDER_TIMEOUT = 5.0


@pytest.fixture
def use_fake(use_settings):
    """Point the app's provider for a fake's channel at that fake."""

    def apply(fake, **extra) -> None:
        use_settings(**fake.settings(**{"PROVIDER_TIMEOUT_SECONDS": PIPELINE_PROVIDER_TIMEOUT, **extra}))

    return apply


@pytest.fixture
def redis(app: Flask) -> Redis:
    return app.extensions["redis"]


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def practitioner(app: Flask):
    return factories.create_practitioner(name="Dr. Vaidya Ramesh", email="ramesh@clinic.test")


@pytest.fixture
def other_practitioner(app: Flask):
    return factories.create_practitioner(name="Dr. Meera Nair", email="meera@clinic.test")


@pytest.fixture
def admin(app: Flask):
    return factories.create_admin(name="Asha Admin", email="admin@clinic.test")


@pytest.fixture
def patient(practitioner):
    return factories.create_patient(
        name="Priya Sharma", email="priya@clinic.test", phone="+919876543210", practitioner=practitioner,
        preferred_channels=["in_app", "email", "sms", "push"], devices=1,
    )


@pytest.fixture
def other_patient(practitioner):
    return factories.create_patient(
        name="Arjun Patel", email="arjun@clinic.test", phone="+919812345678", practitioner=practitioner
    )


@pytest.fixture
def templates(app: Flask) -> int:
    from app.services.templates import install_default_templates

    return install_default_templates()


def csrf_token_from(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'"X-CSRFToken": "([^"]+)"', html
    )
    assert match, "page has no CSRF token"
    return match.group(1)


def log_in(client: FlaskClient, user, password: str = factories.TEST_PASSWORD):
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    return client.post("/login", data={"email": user.email, "password": password, "csrf_token": token})


@pytest.fixture
def login(client: FlaskClient):
    """Sign `user` in on the test client and return the client."""

    def sign_in(user) -> FlaskClient:
        response = log_in(client, user)
        assert response.status_code == 302, response.get_data(as_text=True)
        return client

    return sign_in


@pytest.fixture
def client_request(client: FlaskClient) -> ClientRequest:
    """The test client as pages: each request checks its status and returns the parsed page."""
    return ClientRequest(client)


@pytest.fixture
def run_worker(app: Flask):
    """Run a real worker (burst) over every queue, like `python worker.py` would.

    `scheduled=True` first enqueues everything waiting for its time (retries, deferrals, sends
    for later) as the scheduler would once that time had come; delivery claims by job, not by
    clock, so this is how tests fast-forward.
    """
    from app.services.scheduler import enqueue_due
    from app.tasks.worker import build_worker

    def run(*, scheduled: bool = False) -> None:
        if scheduled:
            enqueue_due(now=utcnow() + timedelta(days=400))
        build_worker(app).work(burst=True, logging_level="WARNING")

    return run


def queued_job_ids(redis: Redis) -> dict[str, list[str]]:
    """Job ids waiting on each queue, in the order a worker takes them."""
    from rq import Queue

    from app.services.queues import ALL_QUEUES

    return {name: Queue(name, connection=redis).get_job_ids() for name in ALL_QUEUES}


@pytest.fixture
def live_server(app: Flask) -> Iterator[str]:
    """The app on the web server `make run` uses, for sockets and browsers; yields its URL."""
    import threading

    from app.webserver import make_web_server

    server = make_web_server(app, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture
def worker_process(app: Flask) -> Iterator[None]:
    """A real `python worker.py` on the test database and Redis, stopped after the test."""
    import signal
    import subprocess
    import sys

    root = Path(__file__).resolve().parent.parent
    process = subprocess.Popen([sys.executable, "worker.py"], cwd=root, env=child_environment(app.config))
    yield
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
