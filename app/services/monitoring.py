"""What staff see of what they sent: Monitor, a send's progress, a notification's timeline."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from app.extensions import db
from app.models.enums import Channel, NotificationType, Role
from app.models.notification import Notification, NotificationEvent, NotificationGroup
from app.models.status import PENDING, Status
from app.models.user import User
from app.services.access import visible_notification
from app.services.errors import NotFound
from app.services.query_filters import day_range, recipient_matches

PAGE_SIZE = 50
GROUP_ROWS_SHOWN = 200
DONE = frozenset({Status.SENT, Status.DELIVERED, Status.READ})
IN_FLIGHT = PENDING | {Status.SENDING}
SKIPPED = frozenset({Status.SUPPRESSED, Status.CANCELLED})


@dataclass(frozen=True)
class MonitorFilters:
    status: Status | None = None
    channel: Channel | None = None
    type: NotificationType | None = None
    patient: str | None = None  # a name fragment, or a patient id
    date_from: date | None = None  # in the viewer's time zone
    date_to: date | None = None


@dataclass(frozen=True)
class MonitorRow:
    notification: Notification
    patient_name: str
    send_id: str  # the public id of the send (group) it belongs to
    send_title: str  # what the practitioner titled the send (an SMS's own title may be generic)


@dataclass(frozen=True)
class MonitorPage:
    rows: list[MonitorRow]
    next_before: int | None


def sent_by(user: User) -> sa.Select:
    """Notifications a staff member sent (an admin sees every send)."""
    stmt = sa.select(Notification)
    return stmt if user.role is Role.ADMIN else stmt.where(Notification.sender_id == user.id)


def monitor_page(user: User, filters: MonitorFilters, *, zone: ZoneInfo, before: int | None = None) -> MonitorPage:
    """Newest first, a page at a time by id (keyset), so page 200 costs what page 1 does."""
    stmt = (
        sent_by(user)
        .add_columns(User.name, NotificationGroup.public_id, NotificationGroup.title)
        .join(User, User.id == Notification.user_id)
        .join(NotificationGroup, NotificationGroup.id == Notification.group_id)
        .order_by(Notification.id.desc())
        .limit(PAGE_SIZE + 1)
    )
    if before is not None:
        stmt = stmt.where(Notification.id < before)
    if filters.status is not None:
        stmt = stmt.where(Notification.status == filters.status)
    if filters.channel is not None:
        stmt = stmt.where(Notification.channel == filters.channel)
    if filters.type is not None:
        stmt = stmt.where(Notification.type == filters.type)
    if filters.patient:
        stmt = stmt.where(recipient_matches(filters.patient))
    starts, ends = day_range(filters.date_from, filters.date_to, zone)
    if starts is not None:
        stmt = stmt.where(Notification.created_at >= starts)
    if ends is not None:
        stmt = stmt.where(Notification.created_at < ends)
    found = [MonitorRow(*row) for row in db.session.execute(stmt)]
    next_before = found[PAGE_SIZE - 1].notification.id if len(found) > PAGE_SIZE else None
    return MonitorPage(found[:PAGE_SIZE], next_before)


@dataclass(frozen=True)
class GroupProgress:
    total: int
    done: int
    failed: int
    pending: int
    skipped: int

    @property
    def finished(self) -> bool:
        return self.pending == 0

    def percent(self, part: int) -> float:
        return round(100 * part / self.total, 1) if self.total else 0.0


@dataclass(frozen=True)
class GroupView:
    group: NotificationGroup
    progress: GroupProgress
    rows: list[MonitorRow]


def visible_group(user: User, group_public_id: str) -> NotificationGroup:
    group = db.session.scalar(sa.select(NotificationGroup).where(NotificationGroup.public_id == group_public_id))
    if group is None or (user.role is not Role.ADMIN and group.sender_id != user.id):
        raise NotFound("No such send")
    return group


def group_progress(group: NotificationGroup) -> GroupProgress:
    counts = dict(
        db.session.execute(
            sa.select(Notification.status, sa.func.count())
            .where(Notification.group_id == group.id)
            .group_by(Notification.status)
        ).all()
    )

    def total_of(statuses) -> int:
        return sum(counts.get(s, 0) for s in statuses)

    return GroupProgress(
        total=sum(counts.values()),
        done=total_of(DONE),
        failed=counts.get(Status.FAILED, 0),
        pending=total_of(IN_FLIGHT),
        skipped=total_of(SKIPPED),
    )


def group_view(user: User, group_public_id: str) -> GroupView:
    group = visible_group(user, group_public_id)
    rows = db.session.execute(
        sa.select(Notification, User.name)
        .join(User, User.id == Notification.user_id)
        .where(Notification.group_id == group.id)
        .order_by(Notification.id)
        .limit(GROUP_ROWS_SHOWN)
    )
    return GroupView(
        group, group_progress(group), [MonitorRow(n, name, group.public_id, group.title) for n, name in rows]
    )


@dataclass(frozen=True)
class NotificationView:
    notification: Notification
    events: list[NotificationEvent]


def notification_view(user: User, public_id: str) -> NotificationView:
    item = visible_notification(user, public_id)
    events = list(
        db.session.scalars(
            sa.select(NotificationEvent)
            .where(NotificationEvent.notification_id == item.id)
            .order_by(NotificationEvent.id)
        )
    )
    return NotificationView(item, events)
