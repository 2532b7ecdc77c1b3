"""What staff see of what they sent: Monitor, a send's progress, a notification's timeline."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from app.extensions import db
from app.models.notification import Notification, NotificationEvent, NotificationGroup
from app.models.status import PENDING, Status
from app.models.user import User
from app.services.access import visible_message, visible_notification
from app.services.errors import NotFound
from app.services.query_filters import day_range, recipient_matches
from app.vocabulary import Channel, NotificationType, Role

PAGE_SIZE = 50
GROUP_ROWS_SHOWN = 200
DONE = frozenset({Status.SENT, Status.DELIVERED, Status.READ})
IN_FLIGHT = PENDING | {Status.SENDING}
SKIPPED = frozenset({Status.SUPPRESSED, Status.CANCELLED})
CHANNEL_ORDER = {channel: i for i, channel in enumerate(Channel)}


@dataclass(frozen=True)
class MonitorFilters:
    status: Status | None = None
    channel: Channel | None = None
    type: NotificationType | None = None
    patient: str | None = None  # a name fragment, or a patient id
    date_from: date | None = None  # in the viewer's time zone
    date_to: date | None = None


@dataclass(frozen=True)
class ChannelState:
    """One channel of a message: its notification and where that stands."""

    id: int
    public_id: str
    channel: Channel
    status: Status
    status_reason: str | None
    next_attempt_at: datetime | None


@dataclass(frozen=True)
class Message:
    """What one send said to one patient: its notifications, one per channel.

    Monitor lists messages, not notifications, because a practitioner thinks of "the reminder
    to Priya", and cancelling it must stop every channel of it.
    """

    send_id: str  # the public id of the send (group) it belongs to
    send_title: str  # what the practitioner titled the send (an SMS's own title may be generic)
    patient_id: int
    patient_name: str
    type: NotificationType
    created_at: datetime
    channels: list[ChannelState]

    @property
    def in_flight(self) -> bool:
        """Whether a channel may still change by itself (a worker will act on it)."""
        return any(c.status in IN_FLIGHT for c in self.channels)

    @property
    def cancellable(self) -> bool:
        """Whether a channel is still unclaimed, so the message can be cancelled or moved."""
        return any(c.status.is_pending for c in self.channels)

    @property
    def scheduled_for(self) -> datetime | None:
        """When the channels still waiting for their time will go (the earliest of them)."""
        return min((c.next_attempt_at for c in self.channels
                    if c.status is Status.SCHEDULED and c.next_attempt_at), default=None)


@dataclass(frozen=True)
class MonitorPage:
    messages: list[Message]
    next_before: int | None

    @property
    def in_flight(self) -> bool:
        """Whether anything shown can still change by itself: the page refreshes only then."""
        return any(m.in_flight for m in self.messages)


def sent_by(user: User) -> list[sa.ColumnElement[bool]]:
    """The condition for notifications a staff member sent (an admin sees every send)."""
    return [] if user.role is Role.ADMIN else [Notification.sender_id == user.id]


def monitor_page(user: User, filters: MonitorFilters, *, zone: ZoneInfo, before: int | None = None) -> MonitorPage:
    """Newest message first, a page at a time.

    A message is (send, patient). Messages are ordered by (group id, patient id), newest send
    first, and paged by keyset on that pair, so page 200 costs what page 1 does. A filter keeps
    the messages with at least one channel that matches it, and each is shown whole. `before`
    is the id of any notification of the last message of the previous page.
    """
    stmt = (
        sa.select(Notification.group_id, Notification.user_id)
        .where(*sent_by(user), *_filter_conditions(filters, zone))
        .group_by(Notification.group_id, Notification.user_id)
        .order_by(Notification.group_id.desc(), Notification.user_id.desc())
        .limit(PAGE_SIZE + 1)
    )
    if before is not None:
        after = db.session.execute(
            sa.select(Notification.group_id, Notification.user_id).where(Notification.id == before, *sent_by(user))
        ).first()
        if after is None:
            return MonitorPage([], None)
        group_id, user_id = after
        stmt = stmt.where(
            Notification.group_id <= group_id,
            sa.or_(Notification.group_id < group_id, Notification.user_id < user_id),
        )
    keys = [(group_id, user_id) for group_id, user_id in db.session.execute(stmt)]
    messages = _messages(keys[:PAGE_SIZE])
    next_before = messages[-1].channels[0].id if len(keys) > PAGE_SIZE and messages else None
    return MonitorPage(messages, next_before)


def _filter_conditions(filters: MonitorFilters, zone: ZoneInfo) -> list[sa.ColumnElement[bool]]:
    conditions = []
    if filters.status is not None:
        conditions.append(Notification.status == filters.status)
    if filters.channel is not None:
        conditions.append(Notification.channel == filters.channel)
    if filters.type is not None:
        conditions.append(Notification.type == filters.type)
    if filters.patient:
        conditions.append(recipient_matches(filters.patient))
    starts, ends = day_range(filters.date_from, filters.date_to, zone)
    if starts is not None:
        conditions.append(Notification.created_at >= starts)
    if ends is not None:
        conditions.append(Notification.created_at < ends)
    return conditions


def _messages(keys: list[tuple[int, int]]) -> list[Message]:
    """Every channel of each (group id, patient id) message, in the order of `keys`.

    Only the columns Monitor shows are read: a message body can be long, and a page holds up
    to four notifications per message. The keys come from a query already limited to what the
    viewer may see (a send has one sender), and looking them up by the message index alone
    keeps the database from scanning all of a sender's notifications for them.
    """
    if not keys:
        return []
    stmt = (
        sa.select(
            Notification.group_id, Notification.user_id, Notification.type, Notification.created_at,
            User.name, NotificationGroup.public_id, NotificationGroup.title,
            Notification.id, Notification.public_id, Notification.channel, Notification.status,
            Notification.status_reason, Notification.next_attempt_at,
        )
        .join(User, User.id == Notification.user_id)
        .join(NotificationGroup, NotificationGroup.id == Notification.group_id)
        .where(_any_message(keys))
    )
    found: dict[tuple[int, int], Message] = {}
    for group_id, user_id, type_, created_at, name, send_id, title, *channel in db.session.execute(stmt):
        message = found.get((group_id, user_id))
        if message is None:
            message = found[group_id, user_id] = Message(send_id, title, user_id, name, type_, created_at, [])
        message.channels.append(ChannelState(*channel))
    for message in found.values():
        message.channels.sort(key=lambda c: CHANNEL_ORDER[c.channel])
    return [found[key] for key in keys if key in found]


def _any_message(keys: list[tuple[int, int]]) -> sa.ColumnElement[bool]:
    """`(group_id, user_id) IN keys`, spelt as one index lookup per send: SQLite would scan a
    whole index for a row-value IN list, but searches it for each of these terms."""
    patients_of: dict[int, list[int]] = {}
    for group_id, user_id in keys:
        patients_of.setdefault(group_id, []).append(user_id)
    return sa.or_(*(sa.and_(Notification.group_id == group_id, Notification.user_id.in_(user_ids))
                    for group_id, user_ids in patients_of.items()))


@dataclass(frozen=True)
class SendRow:
    notification: Notification
    patient_name: str


@dataclass(frozen=True)
class GroupProgress:
    total: int
    done: int
    failed: int
    pending: int  # not final yet: waiting, queued or being sent
    skipped: int
    waiting: int  # not claimed by a worker yet, so still cancellable
    scheduled: int  # of those, waiting for their time

    @property
    def finished(self) -> bool:
        return self.pending == 0

    @property
    def only_waiting_for_their_time(self) -> bool:
        """Nothing has started yet: everything still to go is scheduled for later."""
        return self.pending > 0 and self.scheduled == self.pending

    def percent(self, part: int) -> float:
        return round(100 * part / self.total, 1) if self.total else 0.0


@dataclass(frozen=True)
class GroupView:
    group: NotificationGroup
    progress: GroupProgress
    rows: list[SendRow]


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

    def total_of(statuses: Iterable[Status]) -> int:
        return sum(counts.get(s, 0) for s in statuses)

    return GroupProgress(
        total=sum(counts.values()),
        done=total_of(DONE),
        failed=counts.get(Status.FAILED, 0),
        pending=total_of(IN_FLIGHT),
        skipped=total_of(SKIPPED),
        waiting=total_of(PENDING),
        scheduled=counts.get(Status.SCHEDULED, 0),
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
        group, group_progress(group), [SendRow(n, name) for n, name in rows]
    )


def message_view(user: User, send_id: str, patient_id: int) -> Message:
    """One message with all its channels (NotFound when `user` may see none of it)."""
    return _message_of(visible_message(user, send_id, patient_id))


def _message_of(items: list[Notification]) -> Message:
    first = items[0]
    channels = [ChannelState(n.id, n.public_id, n.channel, n.status, n.status_reason, n.next_attempt_at)
                for n in sorted(items, key=lambda n: CHANNEL_ORDER[n.channel])]
    return Message(first.group.public_id, first.group.title, first.user_id, first.recipient.name, first.type,
                   first.created_at, channels)


@dataclass(frozen=True)
class NotificationView:
    notification: Notification
    events: list[NotificationEvent]
    message: Message  # the message this notification is one channel of


def notification_view(user: User, public_id: str) -> NotificationView:
    item = visible_notification(user, public_id)
    events = list(
        db.session.scalars(
            sa.select(NotificationEvent)
            .where(NotificationEvent.notification_id == item.id)
            .order_by(NotificationEvent.id)
        )
    )
    message = message_view(user, item.group.public_id, item.user_id)
    return NotificationView(item, events, message)
