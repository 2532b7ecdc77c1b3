"""The patient's inbox: listing, counting and marking in-app notifications read."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from app.clock import utcnow
from app.extensions import db
from app.models.notification import EventKind, Notification
from app.models.status import UNREAD_INBOX, Status
from app.models.user import User
from app.services.access import visible_notification, visible_notifications
from app.services.transitions import change_status

PAGE_SIZE = 30
UNREAD_SHOWN = 200


@dataclass(frozen=True)
class InboxPage:
    unread: list[Notification]
    read: list[Notification]
    next_before: int | None  # keyset cursor for the next page of read items


def inbox_page(user: User, *, before: int | None = None) -> InboxPage:
    """Unread first (newest first), then read items a page at a time."""
    base = visible_notifications(user).options(selectinload(Notification.sender))  # "From ..." on each card
    unread: list[Notification] = []
    if before is None:
        unread = list(
            db.session.scalars(
                base.where(Notification.status.in_(UNREAD_INBOX))
                .order_by(Notification.id.desc())
                .limit(UNREAD_SHOWN)
            )
        )
    read_stmt = base.where(Notification.status == Status.READ).order_by(Notification.id.desc())
    if before is not None:
        read_stmt = read_stmt.where(Notification.id < before)
    read = list(db.session.scalars(read_stmt.limit(PAGE_SIZE + 1)))
    next_before = read[PAGE_SIZE - 1].id if len(read) > PAGE_SIZE else None
    return InboxPage(unread=unread, read=read[:PAGE_SIZE], next_before=next_before)


def unread_count(user: User) -> int:
    stmt = visible_notifications(user).where(Notification.status.in_(UNREAD_INBOX))
    return db.session.scalar(sa.select(sa.func.count()).select_from(stmt.subquery())) or 0


def inbox_item_by_id(user: User, notification_id: int) -> Notification | None:
    """For the live relay: the item only if this user may see it."""
    return db.session.scalar(visible_notifications(user).where(Notification.id == notification_id))


def mark_read(user: User, public_id: str) -> Notification:
    item = visible_notification(user, public_id)
    change_status([item.id], Status.READ, EventKind.READ, values={"read_at": utcnow()}, actor_id=user.id)
    db.session.commit()
    db.session.refresh(item)
    return item


def mark_all_read(user: User) -> int:
    ids = list(
        db.session.scalars(
            visible_notifications(user)
            .where(Notification.status.in_(UNREAD_INBOX))
            .with_only_columns(Notification.id)
        )
    )
    moved = change_status(ids, Status.READ, EventKind.READ, values={"read_at": utcnow()}, actor_id=user.id)
    db.session.commit()
    return len(moved)
