"""Extensions, created unbound here and bound to the app in `create_app`."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from flask import Flask, current_app
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sock import Sock
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from redis import Redis
from sqlalchemy import MetaData, Table
from sqlalchemy.orm import DeclarativeBase

# Named constraints keep Alembic's autogenerate and SQLite batch migrations deterministic.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    # Every model maps one table (SQLAlchemy types it as any FROM clause).
    __table__: ClassVar[Table]


db = SQLAlchemy(model_class=Base)

# The models' base class. Flask-SQLAlchemy builds `db.Model` from Base at run time (adding what
# binds a model to the app), which a type checker cannot follow; to it, the models subclass Base.
if TYPE_CHECKING:
    Model = Base
else:
    Model = db.Model
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
sock = Sock()
# Message catalogues for the patient's pages (app/translations; `make` compiles them).
babel = Babel()
# No default limits: only routes that guess at secrets (sign-in) are limited, per client address.
limiter = Limiter(key_func=get_remote_address, default_limits=[])


def init_redis(app: Flask) -> None:
    """One connection pool per process, shared by views, jobs and the inbox relay."""
    url = app.config["REDIS_URL"]
    app.extensions["redis"] = Redis.from_url(url, health_check_interval=30) if url else None


def init_limiter(app: Flask) -> None:
    """Counters live in Redis so every web process shares them (in memory with no Redis)."""
    url = app.config["REDIS_URL"]
    if url and url.startswith("unix://"):
        url = "redis+unix://" + url.removeprefix("unix://")
    app.config.setdefault("RATELIMIT_STORAGE_URI", url or "memory://")
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    limiter.init_app(app)


def get_redis() -> Redis:
    redis = current_app.extensions["redis"]
    if redis is None:
        raise RuntimeError("REDIS_URL is not set and no embedded Redis is running (`make run`)")
    return redis
