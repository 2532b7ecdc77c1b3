"""Cancelling and rescheduling what has not gone out yet.

Both are compare-and-set changes from `scheduled`/`queued`: once a worker has claimed a
notification (`sending`), it is too late, and the caller is told so rather than shown a
cancel that did not happen.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask import current_app

from app.clock import utcnow
from app.extensions import db, get_redis
from app.models.notification import EventKind, Notification
from app.models.status import PENDING, Status
from app.models.user import User
from app.services.access import visible_notification
from app.services.errors import Conflict, ValidationError
from app.services.monitoring import visible_group
from app.services.outbox import check_schedule_time
from app.services.transitions import change_status
from app.tasks.dispatch import DeliveryJob, enqueue_jobs, new_job_id
from app.tasks.queues import QUEUE_FOR_PRIORITY


def cancel_notification(user: User, public_id: str) -> Notification:
    """Cancel one notification that no worker has claimed yet."""
    item = visible_notification(user, public_id)
    moved = change_status([item.id], Status.CANCELLED, EventKind.CANCELLED,
                          values={"cancelled_at": utcnow(), "job_id": None}, actor_id=user.id,
                          detail=f"cancelled by {user.name}")
    db.session.commit()
    if not moved:
        db.session.refresh(item)
        raise Conflict(f"Too late to cancel: it is already {item.status.value}")
    db.session.refresh(item)
    return item


def cancel_group(user: User, group_public_id: str) -> int:
    """Cancel every notification of a send that has not gone out; returns how many."""
    group = visible_group(user, group_public_id)
    ids = list(
        db.session.scalars(
            sa.select(Notification.id).where(Notification.group_id == group.id, Notification.status.in_(PENDING))
        )
    )
    moved = change_status(ids, Status.CANCELLED, EventKind.CANCELLED,
                          values={"cancelled_at": utcnow(), "job_id": None}, actor_id=user.id,
                          detail=f"cancelled by {user.name}")
    db.session.commit()
    return len(moved)


def reschedule_notification(user: User, public_id: str, when: datetime | str) -> Notification:
    """Move a pending notification to a new time (now or later), with a new job for it."""
    now = utcnow()
    errors: dict[str, str] = {}
    run_at = check_schedule_time(when, now, errors)
    if errors:
        raise ValidationError(errors)
    item = visible_notification(user, public_id)
    target = Status.SCHEDULED if run_at else Status.QUEUED
    job = DeliveryJob(new_job_id(), QUEUE_FOR_PRIORITY[item.priority], (item.id,), run_at)
    moved = change_status(
        [item.id], target, EventKind.RESCHEDULED, only_from=PENDING,
        values={"scheduled_at": run_at, "next_attempt_at": run_at or now, "job_id": job.job_id},
        actor_id=user.id,
        detail=f"rescheduled for {run_at.isoformat(timespec='minutes')}" if run_at else "sent now instead",
    )
    db.session.commit()
    db.session.refresh(item)
    if not moved:
        raise Conflict(f"Too late to reschedule: it is already {item.status.value}")
    enqueue_jobs(get_redis(), [job], timeout=current_app.config["JOB_TIMEOUT_SECONDS"])
    return item
