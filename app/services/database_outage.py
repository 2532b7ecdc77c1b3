"""Riding out a database that is briefly gone (a restart, a failover).

The pool pings a connection before handing it out (`pool_pre_ping`), so a process needs no
restart once the database is back. What a worker already knows from a provider must not be
thrown away meanwhile: that message went, and throwing its outcome away would send it again.
So `committed` keeps trying a write, with backoff, until the database takes it or
DATABASE_OUTAGE_SECONDS have passed.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable
from typing import TypeVar

import sqlalchemy as sa
from flask import current_app

from app.extensions import db

log = logging.getLogger(__name__)

T = TypeVar("T")

FIRST_WAIT_SECONDS = 0.2
LONGEST_WAIT_SECONDS = 1.0  # short: a worker that waits longer than a lease is taken for dead


def is_outage(error: BaseException) -> bool:
    """Whether an error says the database could not be reached, rather than refused the write."""
    if isinstance(error, sa.exc.DBAPIError) and error.connection_invalidated:
        return True
    return isinstance(error, sa.exc.OperationalError)


def committed(write: Callable[[], T], *, what: str) -> T:
    """Run `write` (which commits) until the database takes it; return what it returned.

    Each try starts from a rolled-back session, so a try cut short leaves nothing half-written.
    Errors other than an outage, and an outage longer than DATABASE_OUTAGE_SECONDS, are raised.
    """
    give_up_at = time.monotonic() + current_app.config["DATABASE_OUTAGE_SECONDS"]
    wait = FIRST_WAIT_SECONDS
    since: float | None = None
    while True:
        try:
            result = write()
        except sa.exc.DBAPIError as error:
            with contextlib.suppress(sa.exc.DBAPIError):
                db.session.rollback()
            if not is_outage(error) or time.monotonic() >= give_up_at:
                raise
            if since is None:
                since = time.monotonic()
                log.warning("database unavailable; keeping %s until it is back", what)
            time.sleep(wait)
            wait = min(wait * 2, LONGEST_WAIT_SECONDS)
            continue
        if since is not None:
            log.warning("database back after %.1f s; %s written", time.monotonic() - since, what)
        return result
