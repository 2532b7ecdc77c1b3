"""Set-based status changes: one UPDATE for many rows, guarded by the legal-transition table.

Every change is a compare-and-set (`WHERE status IN sources_of(target)`), so two actors racing
for the same rows (a worker claiming while a practitioner cancels, a job run twice) cannot both
win. Each moved row gets its event in the same transaction. Nothing here commits: the calling
service owns the transaction.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from app.clock import utcnow
from app.extensions import db
from app.models.notification import EventKind, Notification, NotificationEvent
from app.models.status import Status, sources_of

CHUNK = 2000  # ids per statement: well under every database's bound-parameter limit


def change_status(
    ids: Collection[int],
    target: Status,
    kind: EventKind,
    *,
    only_from: Iterable[Status] | None = None,
    where: Sequence[sa.ColumnElement[bool]] = (),
    values: Mapping[str, Any] | None = None,
    detail: str | None = None,
    actor_id: int | None = None,
    provider: str | None = None,
    now: datetime | None = None,
) -> list[int]:
    """Move every listed notification that may legally reach `target`; return those moved."""
    now = now or utcnow()
    sources = sources_of(target)
    if only_from is not None:
        sources = sources & frozenset(only_from)
    moved: list[int] = []
    id_list = list(ids)
    for start in range(0, len(id_list), CHUNK):
        chunk = id_list[start : start + CHUNK]
        stmt = (
            sa.update(Notification)
            .where(Notification.id.in_(chunk), Notification.status.in_(sources), *where)
            .values(status=target, updated_at=now, **(values or {}))
            .returning(Notification.id)
            .execution_options(synchronize_session=False)
        )
        moved.extend(db.session.scalars(stmt).all())
    record_events(
        [
            {"notification_id": nid, "kind": kind, "status": target, "detail": detail,
             "actor_id": actor_id, "provider": provider, "created_at": now}
            for nid in moved
        ]
    )
    return moved


def record_events(events: Sequence[Mapping[str, Any]]) -> None:
    """Insert many events in one statement (or a few, for very large batches)."""
    if events:
        db.session.execute(sa.insert(NotificationEvent), list(events))
