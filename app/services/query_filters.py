"""Pieces every filtered listing shares: the viewer's days and patient search."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from app.models.notification import Notification
from app.models.user import User
from app.services.input_rules import as_id, has_control_characters


def day_range(first: date | None, last: date | None, zone: ZoneInfo) -> tuple[datetime | None, datetime | None]:
    """The UTC instants bounding whole local days `first`..`last` (both inclusive) in `zone`.

    Days are the viewer's: someone in Kolkata asking for 5 March means 5 March there, which
    begins at 18:30 UTC on the 4th.
    """
    starts = _local_midnight(first, zone) if first else None
    ends = _local_midnight(last + timedelta(days=1), zone) if last else None
    return starts, ends


def _local_midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time.min, tzinfo=zone).astimezone(UTC)


def recipient_matches(search: str) -> sa.ColumnElement[bool]:
    """Digits name a patient id; anything else is part of a name, whatever its case.

    A name is resolved as a subquery on the (small) users table, so the notifications side
    keeps using its own index instead of testing a LIKE on every joined row.
    """
    search = search.strip()
    if has_control_characters(search):
        return sa.false()  # no name holds one, and PostgreSQL refuses a NUL in a query
    if search.isascii() and search.isdigit():
        user_id = as_id(search)
        return Notification.user_id == user_id if user_id is not None else sa.false()
    return Notification.user_id.in_(sa.select(User.id).where(User.name.icontains(search, autoescape=True)))
