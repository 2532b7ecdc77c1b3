"""Sutra Notify: multi-channel notifications for Ayurveda clinics."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from dotenv import load_dotenv
from flask import Flask

from app.config import INSTANCE_DIR, PROJECT_ROOT, load_settings, secret_key_problem


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app from the environment and `.env`, or from `config` alone over the defaults.

    Tests pass `config`, so what a developer exported in their shell or wrote in `.env` never
    changes what a test runs with.
    """
    if config is None:
        load_dotenv(PROJECT_ROOT / ".env")
        settings = load_settings()
    else:
        settings = {**load_settings({}), **config}

    app = Flask(
        __name__,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
        instance_path=str(INSTANCE_DIR),
    )
    app.config.update(settings)
    _configure_secrets_and_db(app)
    _init_extensions(app)
    _register_blueprints(app)
    _register_cli(app)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return app


def _configure_secrets_and_db(app: Flask) -> None:
    problem = secret_key_problem(app.config["SECRET_KEY"])
    if problem:
        raise RuntimeError(problem)
    url = app.config["DATABASE_URL"]
    if url.startswith("postgres://"):
        url = "postgresql://" + url.removeprefix("postgres://")
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url.startswith("sqlite:"):
        _keep_sqlite_private(url)
    app.config["SQLALCHEMY_DATABASE_URI"] = url
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = _engine_options(url)
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    # The remember-me cookie signs in as surely as the session cookie: the same protections.
    app.config["REMEMBER_COOKIE_HTTPONLY"] = True
    app.config["REMEMBER_COOKIE_SAMESITE"] = app.config["SESSION_COOKIE_SAMESITE"]
    app.config["REMEMBER_COOKIE_SECURE"] = app.config["SESSION_COOKIE_SECURE"]


def _keep_sqlite_private(url: str) -> None:
    from sqlalchemy.engine import make_url

    from app.file_modes import private_directory, private_sqlite_database

    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database).resolve()
    if path.parent == INSTANCE_DIR:
        private_directory(INSTANCE_DIR)
    private_sqlite_database(path)


def _engine_options(url: str) -> dict[str, Any]:
    if url.startswith("sqlite"):
        # Web threads, the worker and the relay share one file: wait for locks instead of failing.
        return {"connect_args": {"timeout": 30}}
    return {"pool_pre_ping": True, "pool_size": 10, "max_overflow": 20}


def _init_extensions(app: Flask) -> None:
    from sqlalchemy import event
    from werkzeug.middleware.proxy_fix import ProxyFix

    from app import models  # noqa: F401  (registers every table)
    from app.extensions import babel, csrf, db, init_limiter, init_redis, login_manager, migrate, sock
    from app.models.types import render_migration_type
    from app.views.language import page_language, page_locale

    db.init_app(app)
    migrate.init_app(
        app,
        db,
        directory=str(PROJECT_ROOT / "migrations"),
        render_as_batch=True,  # SQLite can only ALTER tables by copying them
        compare_type=True,
        render_item=render_migration_type,
    )
    login_manager.init_app(app)
    csrf.init_app(app)
    sock.init_app(app)
    babel.init_app(app, locale_selector=page_locale)
    app.jinja_env.globals["page_language"] = page_language
    init_redis(app)
    init_limiter(app)
    if app.config["TRUSTED_PROXIES"]:
        # Behind N proxies, the client address and scheme come from their X-Forwarded-* headers.
        hops = app.config["TRUSTED_PROXIES"]
        # Flask's documented way to add WSGI middleware, which its type hints (a method) do not foresee.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        with app.app_context():
            event.listen(db.engine, "connect", _sqlite_pragmas)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    """WAL lets the inbox read while the worker writes; foreign keys are off by default."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _register_blueprints(app: Flask) -> None:
    from app.views import register_views

    register_views(app)


def _register_cli(app: Flask) -> None:
    from app.cli import register_cli

    register_cli(app)
