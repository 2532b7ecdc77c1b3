"""Creating notifications: the outbox half of the delivery pipeline.

`create_send` is the one way anything is sent, whoever asks (compose page, API, CLI,
reminders). The request comes read by its schema (`app.schemas.send`); the outbox checks what
needs the clock, the clinic's limits or the database, resolves each patient's channels, renders
each channel's text in the patient's language, and writes one row per patient x channel with
its first event in a single transaction. Only after the commit does it put jobs on Redis: the
database is the source of truth and Redis only carries work, so a send that was accepted is
never lost, and one that was refused left nothing behind.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from app.clock import utcnow
from app.extensions import db, get_redis
from app.models.audit_event import AuditAction
from app.models.notification import EventKind, Notification, NotificationGroup, new_public_id
from app.models.status import Status
from app.models.template import Template
from app.models.user import Device, User
from app.schemas.send import ALL_MY_PATIENTS, TITLE_MAX, SendRequest
from app.services import audit, idempotency, lease
from app.services.channel_choice import choose_channels
from app.services.clinic_settings import channel_defaults
from app.services.composing import composer_for_content, template_context
from app.services.enqueueing import DeliveryJob, enqueue_jobs
from app.services.errors import Forbidden, ValidationError
from app.services.fallback import Stranded, why_unreachable, write_fallbacks
from app.services.queues import QUEUE_FOR_PRIORITY
from app.services.rendering import (
    Composer,
    FreeText,
    RenderError,
)
from app.services.send_times import check_schedule_time, in_zone, schedule_problem
from app.services.transitions import record_events
from app.vocabulary import Channel, NotificationType, Priority, Role


@dataclass(frozen=True)
class SendItem:
    recipient_id: int
    recipient_name: str
    channel: Channel
    notification_id: str  # public id
    status: Status
    reason: str | None


@dataclass(frozen=True)
class SendResult:
    group_id: str
    created: bool  # False when an idempotency key returned an earlier send
    scheduled_at: datetime | None
    items: list[SendItem]

    def count(self, *statuses: Status) -> int:
        return sum(1 for item in self.items if item.status in statuses)


@dataclass(frozen=True)
class _Validated:
    type: NotificationType
    channels: list[Channel] | None
    priority: Priority
    free_text: FreeText | None
    template_key: NotificationType | None
    data: dict[str, Any]
    scheduled_at: datetime | None
    recipients: list[User]
    idempotency_key: str | None
    # A send at a local time: each patient's own moment (UTC) by patient id.
    moments: dict[int, datetime] = field(default_factory=dict)

    def moment_for(self, patient_id: int) -> datetime | None:
        return self.moments.get(patient_id) or self.scheduled_at

    @property
    def first_moment(self) -> datetime | None:
        return min(self.moments.values()) if self.moments else self.scheduled_at


def create_send(sender: User | None, request: SendRequest, *, now: datetime | None = None) -> SendResult:
    """Validate, write every notification of the request in one transaction, then enqueue
    what is due now (a send for later is enqueued by the scheduler when its time comes).

    Raises:
        ValidationError: bad input, field by field; nothing was written.
        Forbidden: the sender may not send.
        Conflict: the idempotency key was used before for a different request.
    """
    now = now or utcnow()
    if sender is not None and sender.role is Role.PATIENT:
        raise Forbidden("Patients cannot send notifications")
    sender_id = sender.id if sender else None
    fingerprint = _fingerprint(request)
    if request.idempotency_key:
        earlier = _replay(sender_id, request.idempotency_key, fingerprint)
        if earlier is not None:
            return earlier

    try:
        written = write_send(sender, request, now=now, fingerprint=fingerprint)
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        # Another request with the same key won the race: answer with its result.
        earlier = _replay(sender_id, request.idempotency_key, fingerprint) if request.idempotency_key else None
        if earlier is None:
            raise
        return earlier
    except BaseException:
        db.session.rollback()
        raise
    enqueue_written([written])
    return result_of(written.group_id, created=True)


@dataclass(frozen=True)
class WrittenSend:
    """A send written but not yet committed: its group, and the jobs to enqueue after the commit."""

    group_id: int
    jobs: list[DeliveryJob]


def write_send(
    sender: User | None,
    request: SendRequest,
    *,
    now: datetime,
    fingerprint: str | None = None,
    appointment_id: int | None = None,
    medication_course_id: int | None = None,
) -> WrittenSend:
    """Validate and write a send in the caller's transaction, committing nothing.

    A clinic record and the notifications it causes (an appointment and its reminders, a
    medication course and its doses' reminders) are then one commit: both are written or
    neither. Enqueue with `enqueue_written` once committed.

    Raises:
        ValidationError: bad input, field by field; nothing was written.
    """
    checked = _validate(sender, request, now)
    composer = composer_for_content(checked.type, checked.free_text, checked.template_key)
    config = current_app.config
    sender_id = sender.id if sender else None
    group = NotificationGroup(
        sender_id=sender_id,
        idempotency_key=checked.idempotency_key,
        request_fingerprint=fingerprint or _fingerprint(request),
        type=checked.type,
        title=_group_title(checked),
        recipient_count=len(checked.recipients),
        scheduled_at=checked.first_moment,
        created_at=now,
        appointment_id=appointment_id,
        template_key=checked.template_key,
        body=checked.free_text.body if checked.free_text is not None else None,
        medication_course_id=medication_course_id,
    )
    db.session.add(group)
    db.session.flush()
    rows, reasons, stranded = _build_rows(checked, composer, group, sender_id, now)
    # A send for later waits in the database with no job until the scheduler's grant.
    jobs_by_position = {} if checked.first_moment else _plan_jobs(rows, batch_size=config["DELIVERY_BATCH_SIZE"])
    ids = _insert_rows(rows)
    record_events(
        [
            {
                "notification_id": nid,
                "kind": _first_event_kind(row["status"]),
                "status": row["status"],
                "detail": reasons.get(position),
                "scheduled_for": row["scheduled_at"] if row["status"] is Status.SCHEDULED else None,
                "actor_id": sender_id,
                "created_at": now,
            }
            for position, (nid, row) in enumerate(zip(ids, rows, strict=True))
        ]
    )
    fallback_jobs = write_fallbacks([Stranded(ids[p], why) for p, why in stranded.items()], now=now)
    _record_send(sender_id, group, checked, len(rows))
    queue = QUEUE_FOR_PRIORITY[checked.priority]
    jobs = [
        DeliveryJob(job_id, queue, tuple(ids[p] for p in positions))
        for job_id, positions in jobs_by_position.items()
    ]
    return WrittenSend(group.id, jobs + fallback_jobs)


def notifications_made_for(made_for: sa.ColumnElement[bool]) -> sa.Select[Any]:
    """The notifications of the sends a clinic record made (`made_for` on NotificationGroup, such
    as its appointment or medication course), for the record's page and for cancelling them."""
    return (
        sa.select(Notification)
        .join(NotificationGroup, NotificationGroup.id == Notification.group_id)
        .where(made_for)
    )


def enqueue_written(sends: Sequence[WrittenSend]) -> None:
    """Put committed sends' jobs on Redis (one pipeline); if Redis is away, the sweeper will."""
    jobs = [job for send in sends for job in send.jobs]
    if jobs:
        enqueue_jobs(get_redis(), jobs, timeout=current_app.config["JOB_TIMEOUT_SECONDS"])


def _record_send(sender_id: int | None, group: NotificationGroup, checked: _Validated, notifications: int) -> None:
    """One record per send (a group send to thousands is one action), naming the patient when
    there is one."""
    recipients = checked.recipients
    audit.record(AuditAction.SEND_CREATED, actor_id=sender_id,
                 patient_id=recipients[0].id if len(recipients) == 1 else None,
                 detail={"send": group.public_id, "type": checked.type, "recipients": len(recipients),
                         "notifications": notifications, "scheduled_for": checked.first_moment})


def validate_send(sender: User | None, request: SendRequest, *, now: datetime | None = None) -> None:
    """Check a send request the way `create_send` would, writing nothing.

    Compose calls this when its own fields already have errors, so the practitioner hears
    every problem in one answer instead of one per submit.

    Raises:
        ValidationError: bad input, field by field.
    """
    _validate(sender, request, now or utcnow())


def _plan_jobs(rows: list[dict[str, Any]], *, batch_size: int) -> dict[str, list[int]]:
    """Grant every deliverable row to its job before the insert; return job id -> row positions."""
    positions = [p for p, row in enumerate(rows) if row["status"] is not Status.SUPPRESSED]
    jobs = lease.grant_batches(positions, batch_size)
    for job_id, batch in jobs.items():
        for p in batch:
            rows[p].update(lease.granted_to(job_id))
    return jobs


def _first_event_kind(status: Status) -> EventKind:
    return {
        Status.SUPPRESSED: EventKind.SUPPRESSED,
        Status.SCHEDULED: EventKind.SCHEDULED,
        Status.QUEUED: EventKind.QUEUED,
    }[status]


def _group_title(checked: _Validated) -> str:
    if checked.free_text is not None:
        return checked.free_text.title
    return checked.type.label


def _build_rows(
    checked: _Validated,
    composer: Composer,
    group: NotificationGroup,
    sender_id: int | None,
    now: datetime,
) -> tuple[list[dict[str, Any]], dict[int, str], dict[int, str]]:
    """The rows to insert, the reason of each suppressed one and why each one that cannot reach
    its patient will fall back (both by position)."""
    config = current_app.config
    with_devices = _users_with_push_devices([p.id for p in checked.recipients])
    clinic_defaults = channel_defaults()
    rows: list[dict[str, Any]] = []
    reasons: dict[int, str] = {}
    stranded: dict[int, str] = {}
    errors: dict[str, str] = {}
    for patient in checked.recipients:
        practitioner = patient.practitioner
        when = checked.moment_for(patient.id)
        status = Status.SCHEDULED if when else Status.QUEUED
        context = template_context(patient.name, practitioner.name if practitioner else None, checked.data)
        choices = choose_channels(
            patient,
            checked.type,
            checked.channels,
            has_push_device=patient.id in with_devices,
            clinic_defaults=clinic_defaults,
        )
        for choice in choices:
            try:
                rendered = composer.render(choice.channel, patient.locale, context)
            except RenderError as exc:
                message = str(exc)
                key = f"data.{exc.field}" if exc.field else "template" if checked.template_key else "body"
                errors.setdefault(key, message[:1].upper() + message[1:])
                continue
            if choice.suppressed_reason is not None:
                reasons[len(rows)] = choice.suppressed_reason
            if choice.unreachable and choice.suppressed_reason is not None:
                stranded[len(rows)] = why_unreachable(choice.channel, choice.suppressed_reason)
            rows.append(
                {
                    "group_id": group.id,
                    "user_id": patient.id,
                    "sender_id": sender_id,
                    "type": checked.type,
                    "channel": choice.channel,
                    "priority": checked.priority,
                    "title": rendered.subject[:TITLE_MAX],
                    "message": rendered.body,
                    "html": rendered.html,
                    "data": checked.data,
                    "status": status if choice.deliverable else Status.SUPPRESSED,
                    "status_reason": choice.suppressed_reason,
                    "max_attempts": config["MAX_ATTEMPTS"],
                    "scheduled_at": when,
                    "next_attempt_at": (when or now) if choice.deliverable else None,
                    "created_at": now,
                    "updated_at": now,
                }
            )
    if errors:
        raise ValidationError(errors)
    return rows, reasons, stranded


def _insert_rows(rows: list[dict[str, Any]]) -> list[int]:
    """One multi-row INSERT ... RETURNING, ids in the order of `rows`."""
    for row in rows:
        row["public_id"] = new_public_id()
    stmt = sa.insert(Notification).returning(Notification.id, sort_by_parameter_order=True)
    return list(db.session.scalars(stmt, rows).all())


def _users_with_push_devices(user_ids: Sequence[int]) -> set[int]:
    if not user_ids:
        return set()
    stmt = sa.select(Device.user_id).where(
        Device.user_id.in_(user_ids), Device.invalidated_at.is_(None)
    ).distinct()
    return set(db.session.scalars(stmt))


# --- validation ---------------------------------------------------------------------------


def _validate(sender: User | None, request: SendRequest, now: datetime) -> _Validated:
    """The rules a request cannot check alone: the clock, the clinic's limits, the database."""
    errors: dict[str, str] = {}
    free_text = None
    if request.template_key is not None:
        if not db.session.scalar(sa.select(sa.exists().where(Template.key == request.template_key))):
            errors["template_key"] = f"There are no templates for {request.template_key.label.lower()} yet"
    elif len(request.body) > (limit := current_app.config["MAX_BODY_CHARS"]):
        errors["body"] = f"The message is {len(request.body)} characters; the limit is {limit}"
    else:
        free_text = FreeText(request.title or request.type.label, request.body)
    scheduled_at = check_schedule_time(request.scheduled_at, now, errors)
    recipients = _check_recipients(sender, request, errors)
    moments = _local_moments(request.at_local_time, recipients, now, errors) if request.at_local_time else {}
    if errors:
        raise ValidationError(errors)
    return _Validated(
        type=request.type,
        channels=request.channels,
        priority=request.priority or _default_priority(request.type, len(recipients)),
        free_text=free_text,
        template_key=request.template_key,
        data=dict(request.data),
        scheduled_at=scheduled_at,
        recipients=recipients,
        idempotency_key=request.idempotency_key,
        moments=moments,
    )


def _local_moments(local: datetime, recipients: list[User], now: datetime, errors: dict[str, str]
                   ) -> dict[int, datetime]:
    """Each patient's moment for a wall-clock time in their own zone; a time that does not exist
    or happens twice for someone, or has passed for someone, refuses the send naming them."""
    moments: dict[int, datetime] = {}
    problems: dict[str, list[str]] = {}
    for patient in recipients:
        try:
            moment = in_zone(local, patient.zone)
        except ValueError as exc:
            problems.setdefault(str(exc), []).append(patient.name)
            continue
        if schedule_problem(moment, now):
            passed = moment < now
            problems.setdefault(f"{'has passed' if passed else 'is more than a year ahead'} in {patient.timezone}",
                                []).append(patient.name)
            continue
        moments[patient.id] = moment
    if problems:
        errors["at_local_time"] = "; ".join(
            f"{local:%d %b %Y, %H:%M} {reason} (for {', '.join(names[:5])}{' and others' if len(names) > 5 else ''})"
            for reason, names in problems.items()
        )
    return moments


def _default_priority(type_: NotificationType, recipient_count: int) -> Priority:
    """Time-critical types jump the queue; group sends yield to one-to-one messages."""
    if type_.is_time_critical:
        return Priority.HIGH
    return Priority.LOW if recipient_count > 1 else Priority.NORMAL


def _check_recipients(sender: User | None, request: SendRequest, errors: dict[str, str]) -> list[User]:
    max_recipients = current_app.config["MAX_RECIPIENTS"]
    if request.recipient_group:
        return _group_recipients(sender, request.recipient_group, errors)
    ids = request.recipient_ids
    if len(ids) > max_recipients:
        errors["recipients"] = f"At most {max_recipients} recipients per send"
        return []
    stmt = (
        sa.select(User)
        .where(User.id.in_(ids))
        .options(selectinload(User.practitioner))
    )
    found = {u.id: u for u in db.session.scalars(stmt)}
    visible = {uid: u for uid, u in found.items() if _may_message(sender, u)}
    unknown = [str(i) for i in ids if i not in visible]
    if unknown:
        errors["recipients"] = f"Unknown patient id(s): {', '.join(unknown[:20])}"
        return []
    inactive = [u.name for u in visible.values() if not u.active]
    if inactive:
        errors["recipients"] = f"Deactivated patient(s): {', '.join(inactive[:20])}"
        return []
    return [visible[i] for i in ids]


def _may_message(sender: User | None, user: User) -> bool:
    """Practitioners reach their own patients; admins and the operator's shell reach all."""
    if user.role is not Role.PATIENT:
        return False
    if sender is None or sender.role is Role.ADMIN:
        return True
    return user.practitioner_id == sender.id


def _group_recipients(sender: User | None, group: str, errors: dict[str, str]) -> list[User]:
    stmt = (
        sa.select(User)
        .where(User.role == Role.PATIENT, User.active.is_(True))
        .options(selectinload(User.practitioner))
        .order_by(User.id)
    )
    if group == ALL_MY_PATIENTS:
        if sender is None or sender.role is not Role.PRACTITIONER:
            errors["recipients"] = "Only a practitioner has 'my patients'"
            return []
        stmt = stmt.where(User.practitioner_id == sender.id)
    elif sender is not None and sender.role is not Role.ADMIN:
        errors["recipients"] = "Only an admin can send to every patient"
        return []
    patients = list(db.session.scalars(stmt))
    if not patients:
        errors["recipients"] = "This group has no active patients"
    elif len(patients) > current_app.config["MAX_RECIPIENTS"]:
        errors["recipients"] = f"At most {current_app.config['MAX_RECIPIENTS']} recipients per send"
        return []
    return patients


# --- idempotency --------------------------------------------------------------------------


def _fingerprint(request: SendRequest) -> str:
    asked = request.model_dump(mode="json", exclude={"idempotency_key"})
    asked["recipient_ids"] = sorted(asked["recipient_ids"])
    return idempotency.fingerprint(asked)


def _replay(sender_id: int | None, key: str, fingerprint: str) -> SendResult | None:
    earlier = idempotency.earlier_send(sender_id, key, fingerprint)
    return None if earlier is None else result_of(earlier, created=False)


def result_of(group_id: int, *, created: bool) -> SendResult:
    """What a send made, one item per notification (the API answers with it, as compose shows it)."""
    group = db.session.get_one(NotificationGroup, group_id)
    rows = db.session.execute(
        sa.select(Notification, User.name)
        .join(User, User.id == Notification.user_id)
        .where(Notification.group_id == group_id)
        .order_by(Notification.id)
    ).all()
    return SendResult(
        group_id=group.public_id,
        created=created,
        scheduled_at=group.scheduled_at,
        items=[
            SendItem(
                recipient_id=n.user_id,
                recipient_name=name,
                channel=n.channel,
                notification_id=n.public_id,
                status=n.status,
                reason=n.status_reason,
            )
            for n, name in rows
        ],
    )
