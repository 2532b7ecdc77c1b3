"""Notifications, the send requests that group them, and the events that are their history.

A `Notification` is one message to one patient on one channel. The `NotificationGroup` is the
send request that created it (one patient or many), and carries the idempotency key. Every
status change and every provider attempt is a `NotificationEvent`: a notification's timeline
and the admin delivery log are both views over that table.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any, TypeGuard

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.clock import utcnow
from app.extensions import Model
from app.models.status import Status
from app.models.types import UTCDateTime, enum_type
from app.models.user import User
from app.vocabulary import Channel, NotificationType, Priority


def new_public_id() -> str:
    return uuid.uuid4().hex


def is_public_id(value: object) -> TypeGuard[str]:
    """Whether `value` could name a row: anything else (a NUL, which PostgreSQL refuses in a
    query, or a megabyte of text) is answered as unknown without asking the database."""
    return isinstance(value, str) and len(value) == 32 and all(c in "0123456789abcdef" for c in value)


class EventKind(StrEnum):
    """Why a notification's status changed (the status says what it changed to)."""

    QUEUED = "queued"
    SCHEDULED = "scheduled"
    SUPPRESSED = "suppressed"
    SENT = "sent"
    DELIVERED = "delivered"
    RETRY = "retry"
    FAILED = "failed"
    DEFERRED = "deferred"  # quiet hours
    CANCELLED = "cancelled"
    RESCHEDULED = "rescheduled"
    READ = "read"
    REQUEUED = "requeued"  # the sweeper found due work with no live job
    RECOVERED = "recovered"  # the sweeper found work a dead worker had claimed
    FALLBACK = "fallback"  # this channel could not reach the patient; another carries the message


class NotificationGroup(Model):
    __tablename__ = "notification_groups"
    __table_args__ = (sa.UniqueConstraint("sender_id", "idempotency_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(sa.String(32), unique=True, default=new_public_id)
    sender_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    idempotency_key: Mapped[str | None] = mapped_column(sa.String(255))
    request_fingerprint: Mapped[str] = mapped_column(sa.String(64))
    type: Mapped[NotificationType] = mapped_column(enum_type(NotificationType))
    title: Mapped[str] = mapped_column(sa.String(200))
    recipient_count: Mapped[int]
    scheduled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # A send made for an appointment (its confirmation, a reminder, a notice of a change).
    appointment_id: Mapped[int | None] = mapped_column(sa.ForeignKey("appointments.id"), index=True)
    # What the send was composed from, so a fallback can be rendered for another channel: the
    # template's key, or the free text's body (its title is `title`). Both None before 0020.
    template_key: Mapped[NotificationType | None] = mapped_column(enum_type(NotificationType))
    body: Mapped[str | None] = mapped_column(sa.Text)
    # A reminder of a dose of a medication course.
    medication_course_id: Mapped[int | None] = mapped_column(sa.ForeignKey("medication_courses.id"), index=True)

    sender: Mapped[User | None] = relationship()
    notifications: Mapped[list[Notification]] = relationship(back_populates="group")


class Notification(Model):
    __tablename__ = "notifications"
    __table_args__ = (
        sa.Index("ix_notifications_inbox", "user_id", "channel", "status", "id"),
        # Monitor lists messages (a send to one patient) newest send first: a practitioner's
        # by the first, an admin's (every send) and a page's channels by the second.
        sa.Index("ix_notifications_monitor", "sender_id", "group_id", "user_id"),
        sa.Index("ix_notifications_message", "group_id", "user_id"),
        sa.Index("ix_notifications_group_status", "group_id", "status"),
        sa.Index("ix_notifications_due", "status", "next_attempt_at"),
        # What the scheduler looks for every second: pending rows with no job, by time; a large
        # send's rows already on their queue (with a job) are not even read.
        sa.Index("ix_notifications_waiting", "status", "job_id", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(sa.String(32), unique=True, default=new_public_id)
    group_id: Mapped[int] = mapped_column(sa.ForeignKey("notification_groups.id"))
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))  # the recipient
    sender_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    type: Mapped[NotificationType] = mapped_column(enum_type(NotificationType))
    channel: Mapped[Channel] = mapped_column(enum_type(Channel))
    priority: Mapped[Priority] = mapped_column(enum_type(Priority), default=Priority.NORMAL)
    title: Mapped[str] = mapped_column(sa.String(200))
    message: Mapped[str] = mapped_column(sa.Text)
    html: Mapped[str | None] = mapped_column(sa.Text)
    data: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    status: Mapped[Status] = mapped_column(enum_type(Status))
    status_reason: Mapped[str | None] = mapped_column(sa.String(200))
    provider: Mapped[str | None] = mapped_column(sa.String(20))
    provider_message_id: Mapped[str | None] = mapped_column(sa.String(255), index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    max_attempts: Mapped[int] = mapped_column(default=5)
    # The lease (app/services/lease.py): the one RQ job that may claim it, and, while it is
    # `sending`, until when the worker that claimed it is presumed alive.
    job_id: Mapped[str | None] = mapped_column(sa.String(64))
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error_message: Mapped[str | None] = mapped_column(sa.Text)
    scheduled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Touched by every status change.
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    group: Mapped[NotificationGroup] = relationship(back_populates="notifications")
    recipient: Mapped[User] = relationship(foreign_keys=[user_id])
    sender: Mapped[User | None] = relationship(foreign_keys=[sender_id])
    events: Mapped[list[NotificationEvent]] = relationship(
        back_populates="notification", order_by="NotificationEvent.id"
    )


class NotificationEvent(Model):
    __tablename__ = "notification_events"
    __table_args__ = (
        sa.Index("ix_notification_events_notification", "notification_id", "id"),
        # The delivery log's order and its date ranges: newest first by time, ties by id.
        sa.Index("ix_notification_events_time", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    notification_id: Mapped[int] = mapped_column(
        sa.ForeignKey("notifications.id", ondelete="CASCADE")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    kind: Mapped[EventKind] = mapped_column(enum_type(EventKind, length=20))
    status: Mapped[Status | None] = mapped_column(enum_type(Status))  # status after the event
    detail: Mapped[str | None] = mapped_column(sa.String(500))
    # When the event set the notification to go (scheduled, rescheduled, deferred, a retry),
    # kept as a time, not words, so each viewer reads it in their own zone.
    scheduled_for: Mapped[datetime | None] = mapped_column(UTCDateTime)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    provider: Mapped[str | None] = mapped_column(sa.String(20))
    http_status: Mapped[int | None]
    # An attempt that timed out after its request went: the provider may have accepted it (a
    # retry may then be a duplicate), and its receipt, if one comes, is believed over our outcome.
    ambiguous: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    latency_ms: Mapped[int | None]
    error: Mapped[str | None] = mapped_column(sa.String(500))

    notification: Mapped[Notification] = relationship(back_populates="events")


class MessageFallback(Model):
    """A message's one fallback (app/services/fallback.py): the key is the message (a send to one
    patient), so of two workers falling back for it at once only one inserts it."""

    __tablename__ = "message_fallbacks"

    group_id: Mapped[int] = mapped_column(sa.ForeignKey("notification_groups.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), primary_key=True)
    failed_id: Mapped[int] = mapped_column(sa.ForeignKey("notifications.id"))  # what it stands in for
    channel: Mapped[Channel] = mapped_column(enum_type(Channel))  # where it went
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
