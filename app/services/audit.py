"""The audit log: recording who did what to whose data, and reading it back for admins.

A change is recorded in its own transaction (`record`, committed with the change by the
service that makes it), so a change never lands without its record and a refused one leaves
none. What changes nothing (a page read, an export, a refused sign-in) is recorded at once
(`record_now`). The client address is the request's, when one is being served; the shell,
workers and the sweeper have none.

A record's detail is ids, counts, times and names of things (`send=4f0c… recipients=12`,
`filters=channel,patient`), and `detail_text` refuses anything else: no spaces, no @, no +,
so a patient's name, email, phone number or a message's text cannot slip into the log.

Rows are never changed or deleted (the database refuses it). Reading walks them by time and
id (keyset, never OFFSET), like the delivery log, so the export streams in bounded chunks.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from functools import partial
from operator import attrgetter

import sqlalchemy as sa
from flask import has_request_context, request
from sqlalchemy.orm import aliased

from app.extensions import db
from app.models.audit_event import AuditAction, AuditEvent
from app.models.user import User
from app.services.csv_export import csv_in_chunks, inert
from app.services.query_filters import older_than, person_matches
from app.vocabulary import Role

PAGE_SIZE = 50
CSV_CHUNK = 1000
CSV_HEADER = (
    "event_id", "time_utc", "action", "user_id", "user", "user_role", "patient_id", "patient", "client_address",
    "detail",
)

DetailValue = int | bool | datetime | str | Sequence[str] | None
_DETAIL_KEY = re.compile(r"[a-z][a-z_]{0,31}")
# Ids, numbers, names of filters and of kinds of things; never a space, "@" or "+".
_DETAIL_TOKEN = re.compile(r"[A-Za-z0-9_.:-]{1,64}")
DETAIL_MAX = 255


def record(action: AuditAction, *, actor_id: int | None, patient_id: int | None = None,
           detail: Mapping[str, DetailValue] | None = None) -> AuditEvent:
    """Add a record to the current transaction: it lands with the change, or not at all.

    Args:
        action: what was done.
        actor_id: who did it (None: the shell, a provider, or a sign-in to no known account).
        patient_id: the one patient whose data it read or changed, if it was one patient's.
        detail: ids, counts, times and names of things (see `detail_text`).
    """
    event = AuditEvent(action=action, actor_id=actor_id, patient_id=patient_id, client_address=_client_address(),
                       detail=detail_text(detail or {}))
    db.session.add(event)
    return event


def record_now(action: AuditAction, *, actor_id: int | None, patient_id: int | None = None,
               detail: Mapping[str, DetailValue] | None = None) -> AuditEvent:
    """Record an action that changes nothing else (a page read, an export, a refusal), at once."""
    event = record(action, actor_id=actor_id, patient_id=patient_id, detail=detail)
    db.session.commit()
    return event


def detail_text(detail: Mapping[str, DetailValue]) -> str | None:
    """`key=value` pairs of ids, counts, yes/no, UTC times and comma-separated tokens; keys
    whose value is None or empty are left out.

    Raises:
        ValueError: a value that could be free text (a space, "@", "+", ...), or too long a
            detail. A programming error: callers pass ids and names of things only.
    """
    pairs = []
    for key, value in detail.items():
        if value is None or (isinstance(value, Sequence) and not value):
            continue  # nothing to say: "no filters" is said by leaving `filters` out
        if not _DETAIL_KEY.fullmatch(key):
            raise ValueError(f"audit detail key {key!r} is not a lower-case name")
        pairs.append(f"{key}={_value_text(value)}")
    text = " ".join(pairs)
    if len(text) > DETAIL_MAX:
        raise ValueError(f"audit detail is longer than {DETAIL_MAX} characters")
    return text or None


def _value_text(value: DetailValue) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if not isinstance(value, str | Sequence):
        raise ValueError(f"an audit detail holds no {type(value).__name__}")
    tokens = [value] if isinstance(value, str) else list(value)
    texts = [token.value if isinstance(token, Enum) else token for token in tokens]
    if not all(isinstance(text, str) and _DETAIL_TOKEN.fullmatch(text) for text in texts):
        raise ValueError("an audit detail holds ids and names of things, never free text")
    return ",".join(texts)


def _client_address() -> str | None:
    if not has_request_context():
        return None
    return (request.remote_addr or "")[:45] or None


# --- reading ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditFilters:
    """What the admin narrowed the log to; None means "any"."""

    starts: datetime | None = None  # UTC, inclusive
    ends: datetime | None = None  # UTC, exclusive
    actor: str | None = None  # a user id, or part of a name or email
    patient: str | None = None  # a user id, or part of a name
    action: AuditAction | None = None


@dataclass(frozen=True)
class AuditRow:
    id: int
    occurred_at: datetime
    action: AuditAction
    actor_id: int | None
    actor_name: str | None
    actor_role: Role | None
    patient_id: int | None
    patient_name: str | None
    client_address: str | None
    detail: str | None

    @property
    def without_actor(self) -> str:
        """Who it was, in words, when no user is recorded."""
        return "Unknown account" if self.action is AuditAction.SIGN_IN_FAILED else "No user"


@dataclass(frozen=True)
class AuditPage:
    rows: list[AuditRow]
    next_before: int | None  # the cursor for the next (older) page, None on the last


_actor = aliased(User, name="actor")
_patient = aliased(User, name="patient")
_COLUMNS = (
    AuditEvent.id,
    AuditEvent.occurred_at,
    AuditEvent.action,
    AuditEvent.actor_id,
    _actor.name.label("actor_name"),
    _actor.role.label("actor_role"),
    AuditEvent.patient_id,
    _patient.name.label("patient_name"),
    AuditEvent.client_address,
    AuditEvent.detail,
)


def filtered_events(filters: AuditFilters) -> sa.Select:
    """The records matching `filters`, newest first: the one query the page and CSV share."""
    stmt = (
        sa.select(*_COLUMNS)
        .select_from(AuditEvent)
        .outerjoin(_actor, _actor.id == AuditEvent.actor_id)
        .outerjoin(_patient, _patient.id == AuditEvent.patient_id)
        .order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())
    )
    if filters.starts is not None:
        stmt = stmt.where(AuditEvent.occurred_at >= filters.starts)
    if filters.ends is not None:
        stmt = stmt.where(AuditEvent.occurred_at < filters.ends)
    if filters.actor:
        stmt = stmt.where(person_matches(AuditEvent.actor_id, filters.actor, by_email=True))
    if filters.patient:
        stmt = stmt.where(person_matches(AuditEvent.patient_id, filters.patient))
    if filters.action is not None:
        stmt = stmt.where(AuditEvent.action == filters.action)
    return stmt


def audit_page(filters: AuditFilters, *, before: int | None = None, size: int = PAGE_SIZE) -> AuditPage:
    """One page of the log: the `size` newest records older than record `before`."""
    rows = _chunk(filters, before, size + 1)
    next_before = rows[size - 1].id if len(rows) > size else None
    return AuditPage(rows=rows[:size], next_before=next_before)


def _chunk(filters: AuditFilters, before: int | None, limit: int) -> list[AuditRow]:
    stmt = older_than(filtered_events(filters), AuditEvent.occurred_at, AuditEvent.id, before)
    return [AuditRow(**row._mapping) for row in db.session.execute(stmt.limit(limit))]


def csv_lines(filters: AuditFilters, *, chunk: int = CSV_CHUNK) -> Iterator[str]:
    """The whole filtered log as CSV text, a chunk of records at a time (times in UTC)."""
    return csv_in_chunks(CSV_HEADER, partial(_chunk, filters), _csv_record, attrgetter("id"), chunk)


def _csv_record(row: AuditRow) -> tuple:
    return (
        row.id,
        row.occurred_at.astimezone(UTC).isoformat(),
        row.action.value,
        "" if row.actor_id is None else row.actor_id,
        inert(row.actor_name),
        row.actor_role.value if row.actor_role else "",
        "" if row.patient_id is None else row.patient_id,
        inert(row.patient_name),
        row.client_address or "",
        row.detail or "",
    )
