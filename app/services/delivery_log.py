"""The admin's delivery log: every notification event and provider attempt, newest first.

The log is a view over `notification_events` joined to its notification and recipient. One
function, `filtered_events`, builds the filtered query; the page and the CSV export both walk
it by event id (keyset, never OFFSET), so a page deep in a log of millions of events costs
the same as the first, and the export reads in bounded chunks while it streams.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from operator import attrgetter

import sqlalchemy as sa

from app.channels.registry import provider_names
from app.extensions import db
from app.models.notification import EventKind, Notification, NotificationEvent
from app.models.status import Status
from app.models.user import User
from app.services.csv_export import csv_in_chunks, inert
from app.services.query_filters import older_than, recipient_matches
from app.vocabulary import Channel, NotificationType

PAGE_SIZE = 50
CSV_CHUNK = 1000

CSV_HEADER = (
    "event_id", "time_utc", "notification", "patient_id", "patient", "channel", "type",
    "event", "status", "provider", "http_status", "latency_ms", "error", "detail", "scheduled_for_utc",
)


@dataclass(frozen=True)
class LogFilters:
    """What the admin narrowed the log to; None means "any"."""

    starts: datetime | None = None  # UTC, inclusive
    ends: datetime | None = None  # UTC, exclusive
    patient: str | None = None  # a user id, or part of a name
    channel: Channel | None = None
    provider: str | None = None
    status: Status | None = None
    kind: EventKind | None = None
    attempts_only: bool = False  # only events that record a call to a provider


@dataclass(frozen=True)
class LogRow:
    event_id: int
    created_at: datetime
    public_id: str
    patient_id: int
    patient_name: str
    channel: Channel
    type: NotificationType
    kind: EventKind
    status: Status | None
    provider: str | None
    http_status: int | None
    latency_ms: int | None
    error: str | None
    detail: str | None
    scheduled_for: datetime | None  # when the event set the notification to go, if it did


@dataclass(frozen=True)
class LogPage:
    rows: list[LogRow]
    next_before: int | None  # the cursor for the next (older) page, None on the last


_COLUMNS = (
    NotificationEvent.id.label("event_id"),
    NotificationEvent.created_at,
    Notification.public_id,
    User.id.label("patient_id"),
    User.name.label("patient_name"),
    Notification.channel,
    Notification.type,
    NotificationEvent.kind,
    NotificationEvent.status,
    NotificationEvent.provider,
    NotificationEvent.http_status,
    NotificationEvent.latency_ms,
    NotificationEvent.error,
    NotificationEvent.detail,
    NotificationEvent.scheduled_for,
)


def filtered_events(filters: LogFilters) -> sa.Select:
    """The log's rows matching `filters`, newest first: the one query the page and CSV share."""
    stmt = (
        sa.select(*_COLUMNS)
        .select_from(NotificationEvent)
        .join(Notification, Notification.id == NotificationEvent.notification_id)
        .join(User, User.id == Notification.user_id)
        # Newest first by time, ties by id: the (created_at, id) index serves this order with
        # or without a date range, so a week deep in a long log is one index range, not a scan.
        .order_by(NotificationEvent.created_at.desc(), NotificationEvent.id.desc())
    )
    if filters.starts is not None:
        stmt = stmt.where(NotificationEvent.created_at >= filters.starts)
    if filters.ends is not None:
        stmt = stmt.where(NotificationEvent.created_at < filters.ends)
    if filters.patient:
        stmt = stmt.where(recipient_matches(filters.patient))
    if filters.channel is not None:
        stmt = stmt.where(Notification.channel == filters.channel)
    if filters.provider:
        stmt = stmt.where(NotificationEvent.provider == filters.provider)
    if filters.status is not None:
        stmt = stmt.where(NotificationEvent.status == filters.status)
    if filters.kind is not None:
        stmt = stmt.where(NotificationEvent.kind == filters.kind)
    if filters.attempts_only:
        stmt = stmt.where(NotificationEvent.provider.is_not(None))
    return stmt


def log_page(filters: LogFilters, *, before: int | None = None, size: int = PAGE_SIZE) -> LogPage:
    """One page of the log: the `size` newest events older than event `before`."""
    rows = _chunk(filters, before, size + 1)
    next_before = rows[size - 1].event_id if len(rows) > size else None
    return LogPage(rows=rows[:size], next_before=next_before)


def _chunk(filters: LogFilters, before: int | None, limit: int) -> list[LogRow]:
    """Up to `limit` rows after event `before` in the log's order (keyset on time, then id)."""
    stmt = older_than(filtered_events(filters), NotificationEvent.created_at, NotificationEvent.id, before)
    return [LogRow(**row._mapping) for row in db.session.execute(stmt.limit(limit))]


def csv_lines(filters: LogFilters, *, chunk: int = CSV_CHUNK) -> Iterator[str]:
    """The whole filtered log as CSV text, a chunk of rows at a time (times ISO 8601 in UTC)."""
    return csv_in_chunks(CSV_HEADER, partial(_chunk, filters), _csv_record, attrgetter("event_id"), chunk)


def _csv_record(row: LogRow) -> tuple:
    return (
        row.event_id,
        row.created_at.astimezone(UTC).isoformat(),
        row.public_id,
        row.patient_id,
        inert(row.patient_name),
        row.channel.value,
        row.type.value,
        row.kind.value,
        row.status.value if row.status else "",
        row.provider or "",
        "" if row.http_status is None else row.http_status,
        "" if row.latency_ms is None else row.latency_ms,
        inert(row.error),
        inert(row.detail),
        row.scheduled_for.astimezone(UTC).isoformat() if row.scheduled_for else "",
    )


def provider_choices() -> list[str]:
    """Every provider name an event can carry, for the filter's choices."""
    names = {name for names in provider_names().values() for name in names}
    return sorted(names)
