"""Pieces every filtered listing shares: the viewer's days and searching for a person."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import QueryableAttribute

from app.extensions import db
from app.models.notification import Notification
from app.models.user import User
from app.services.input_rules import as_id, has_control_characters
from app.vocabulary import Role


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


def older_than(stmt: sa.Select, when: QueryableAttribute[datetime], key: QueryableAttribute[int],
               before: int | None) -> sa.Select:
    """`stmt`'s rows after row `before` in a newest-first order on (`when`, `key`): a keyset, so
    a page deep in a long listing is one index range, not a count of the rows before it."""
    if before is None:
        return stmt
    cursor_time = sa.select(when).where(key == before).scalar_subquery()
    return stmt.where(sa.tuple_(when, key) < sa.tuple_(cursor_time, before))


def recipient_matches(search: str) -> sa.ColumnElement[bool]:
    """Digits name a patient id; anything else is part of a name, whatever its case."""
    return person_matches(Notification.user_id, search)


def person_matches(user_id: QueryableAttribute[int | None], search: str, *,
                   by_email: bool = False) -> sa.ColumnElement[bool]:
    """Whether the user the `user_id` column names is the one `search` names: digits are a user
    id; anything else is part of a name (or, `by_email`, of an email), whatever its case.

    A name is resolved as a subquery on the (small) users table, so the other side keeps using
    its own index instead of testing a LIKE on every joined row.
    """
    search = search.strip()
    if has_control_characters(search):
        return sa.false()  # no name holds one, and PostgreSQL refuses a NUL in a query
    if names_an_id(search):
        found = as_id(search)
        return user_id == found if found is not None else sa.false()
    matches = User.name.icontains(search, autoescape=True)
    if by_email:
        matches = sa.or_(matches, User.email.icontains(search, autoescape=True))
    return user_id.in_(sa.select(User.id).where(matches))


def names_an_id(search: str | None) -> bool:
    """Whether a search box's text is meant as an id (digits) rather than part of a name."""
    text = (search or "").strip()
    return text.isascii() and text.isdigit()


def patient_searched(search: str | None) -> int | None:
    """The patient a search box names by id, when it names one that exists."""
    patient_id = as_id((search or "").strip()) if names_an_id(search) else None
    if patient_id is None:
        return None
    return db.session.scalar(sa.select(User.id).where(User.id == patient_id, User.role == Role.PATIENT))
