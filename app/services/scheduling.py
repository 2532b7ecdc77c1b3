"""Cancelling and rescheduling what has not gone out yet.

Both are compare-and-set changes from `scheduled`/`queued`: once a worker has claimed a
notification (`sending`), it is too late for it. A message (what one send said to one patient)
is cancelled or moved whole: every channel still unclaimed changes, and the answer says which
did and where each of the others already stood, never "cancelled" for a message that went out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask import current_app

from app.clock import utcnow
from app.extensions import db, get_redis
from app.models.audit_event import AuditAction
from app.models.notification import EventKind, Notification
from app.models.status import PENDING, Status
from app.models.user import User
from app.services import audit, lease
from app.services.access import visible_message, visible_notification
from app.services.enqueueing import DeliveryJob, enqueue_jobs
from app.services.errors import ValidationError
from app.services.monitoring import CHANNEL_ORDER, visible_group
from app.services.queues import QUEUE_FOR_PRIORITY
from app.services.send_times import check_schedule_time
from app.services.transitions import change_status
from app.vocabulary import Channel

# How a channel that a cancel or reschedule could not touch already stood (singular, plural).
_ALREADY = {
    Status.SCHEDULED: ("is still waiting", "are still waiting"),
    Status.QUEUED: ("is still waiting", "are still waiting"),
    Status.SENDING: ("is being sent now", "are being sent now"),
    Status.SENT: ("was already sent", "were already sent"),
    Status.DELIVERED: ("was already delivered", "were already delivered"),
    Status.READ: ("was already read", "were already read"),
    Status.FAILED: ("had already failed", "had already failed"),
    Status.CANCELLED: ("was already cancelled", "were already cancelled"),
    Status.SUPPRESSED: ("was skipped", "were skipped"),
}


@dataclass(frozen=True)
class ChannelChange:
    """What a cancel or reschedule did: the channels it changed, and where the others stood."""

    changed: tuple[Channel, ...]
    untouched: tuple[tuple[Channel, Status], ...]
    run_at: datetime | None = None  # a reschedule's new time (None: now)

    def sentence(self, done: str, *, too_late: str, when: str = "") -> str:
        """The one wording of an outcome, e.g. "Cancelled SMS and email; in-app was already
        delivered." or "Too late to cancel: SMS was already sent."

        Args:
            done: the verb for the changed channels ("Cancelled", "Rescheduled").
            too_late: the opening when no channel could change ("Too late to cancel").
            when: said after the changed channels (" for Tue 2 Dec, 07:00").
        """
        already = _already(self.untouched)
        if not self.changed:
            return f"{too_late}: {already}." if already else f"{too_late}."
        text = f"{done} {and_list([c.noun for c in self.changed])}{when}"
        return f"{text}; {already}." if already else f"{text}."


def _already(untouched: Sequence[tuple[Channel, Status]]) -> str:
    """"in-app was already delivered and SMS had already failed": one clause per status."""
    by_status: dict[Status, list[Channel]] = {}
    for channel, status in untouched:
        by_status.setdefault(status, []).append(channel)
    clauses = []
    for status, channels in by_status.items():
        singular, plural = _ALREADY[status]
        clauses.append(f"{and_list([c.noun for c in channels])} {singular if len(channels) == 1 else plural}")
    return and_list(clauses)


def and_list(words: Sequence[str]) -> str:
    """"a", "a and b", "a, b and c"."""
    if len(words) <= 1:
        return "".join(words)
    return f"{', '.join(words[:-1])} and {words[-1]}"


def cancel_message(user: User, send_id: str, patient_id: int) -> ChannelChange:
    """Cancel every channel of a message that no worker has claimed yet."""
    return _cancel(user, visible_message(user, send_id, patient_id), AuditAction.MESSAGE_CANCELLED)


def cancel_notification(user: User, public_id: str) -> ChannelChange:
    """Cancel one channel of a message, if no worker has claimed it yet."""
    return _cancel(user, [visible_notification(user, public_id)], AuditAction.NOTIFICATION_CANCELLED)


def _cancel(user: User, items: Sequence[Notification], action: AuditAction) -> ChannelChange:
    moved = change_status([item.id for item in items], Status.CANCELLED, EventKind.CANCELLED,
                          values={"cancelled_at": utcnow(), **lease.granted_to(None)}, actor_id=user.id,
                          detail=f"cancelled by {user.name}")
    _record(user, items, action, changed=len(moved))
    db.session.commit()
    return _change_of(items, moved)


def cancel_group(user: User, group_public_id: str) -> int:
    """Cancel every notification of a send that has not gone out; returns how many."""
    group = visible_group(user, group_public_id)
    ids = list(
        db.session.scalars(
            sa.select(Notification.id).where(Notification.group_id == group.id, Notification.status.in_(PENDING))
        )
    )
    moved = change_status(ids, Status.CANCELLED, EventKind.CANCELLED,
                          values={"cancelled_at": utcnow(), **lease.granted_to(None)}, actor_id=user.id,
                          detail=f"cancelled by {user.name}")
    audit.record(AuditAction.SEND_CANCELLED, actor_id=user.id,
                 detail={"send": group.public_id, "changed": len(moved)})
    db.session.commit()
    return len(moved)


def reschedule_message(user: User, send_id: str, patient_id: int, when: datetime | str) -> ChannelChange:
    """Move every unclaimed channel of a message to a new time (now or later).

    Raises:
        ValidationError: the time is in the past, too far ahead or unreadable.
    """
    return _reschedule(user, visible_message(user, send_id, patient_id), when, AuditAction.MESSAGE_RESCHEDULED)


def reschedule_notification(user: User, public_id: str, when: datetime | str) -> ChannelChange:
    """Move one channel of a message, if it is still unclaimed, to a new time (now or later)."""
    return _reschedule(user, [visible_notification(user, public_id)], when, AuditAction.NOTIFICATION_RESCHEDULED)


def _reschedule(user: User, items: Sequence[Notification], when: datetime | str,
                action: AuditAction) -> ChannelChange:
    now = utcnow()
    errors: dict[str, str] = {}
    run_at = check_schedule_time(when, now, errors)
    if errors:
        raise ValidationError(errors)
    target = Status.SCHEDULED if run_at else Status.QUEUED
    job_id = None if run_at else lease.new_job_id()  # for later: no job until the scheduler's grant
    moved = change_status(
        [item.id for item in items], target, EventKind.RESCHEDULED, only_from=PENDING,
        values={"scheduled_at": run_at, "next_attempt_at": run_at or now, **lease.granted_to(job_id)},
        actor_id=user.id, detail=f"rescheduled by {user.name}", scheduled_for=run_at,
    )
    _record(user, items, action, changed=len(moved), to=run_at or "now")
    db.session.commit()
    if moved and job_id:
        job = DeliveryJob(job_id, QUEUE_FOR_PRIORITY[items[0].priority], tuple(moved))
        enqueue_jobs(get_redis(), [job], timeout=current_app.config["JOB_TIMEOUT_SECONDS"])
    return _change_of(items, moved, run_at)


_ONE_CHANNEL = {AuditAction.NOTIFICATION_CANCELLED, AuditAction.NOTIFICATION_RESCHEDULED}


def _record(user: User, items: Sequence[Notification], action: AuditAction, **detail: audit.DetailValue) -> None:
    """One record per cancel or reschedule, even when it was too late to change anything: the
    attempt is the staff member's action either way."""
    first = items[0]
    subject = {"notification": first.public_id} if action in _ONE_CHANNEL else {"send": first.group.public_id}
    audit.record(action, actor_id=user.id, patient_id=first.user_id, detail={**subject, **detail})


def _change_of(items: Sequence[Notification], moved: Sequence[int], run_at: datetime | None = None) -> ChannelChange:
    """Sort a message's channels into those just changed and the others, as they now stand."""
    moved_ids = set(moved)
    for item in items:
        db.session.refresh(item)
    ordered = sorted(items, key=lambda item: CHANNEL_ORDER[item.channel])
    return ChannelChange(
        changed=tuple(item.channel for item in ordered if item.id in moved_ids),
        untouched=tuple((item.channel, item.status) for item in ordered if item.id not in moved_ids),
        run_at=run_at,
    )
