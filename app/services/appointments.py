"""Appointments and the notifications that follow them.

Booking sends the patient a confirmation and writes the reminders (by default 24 h and 2 h
before, `APPOINTMENT_REMINDER_HOURS`) as scheduled sends; moving an appointment cancels the
reminders still pending and writes new ones, telling the patient once; cancelling cancels them
and sends a notice. Each change and its notifications are one transaction, and the appointment's
row is locked while it changes, so two changes at once leave exactly one set of reminders.

A pending reminder is cancelled by the same compare-and-set a worker's claim uses: a reminder
the change reached never goes out, even with its job already on Redis; one a worker claimed
first was already on its way, and the change says so.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from babel.dates import format_datetime
from flask import current_app
from sqlalchemy.orm import selectinload

from app.clock import utcnow
from app.extensions import db
from app.models.appointment import Appointment
from app.models.audit_event import AuditAction
from app.models.notification import EventKind, Notification, NotificationGroup
from app.models.status import PENDING, Status
from app.models.user import User
from app.schemas import read
from app.schemas.appointment import AppointmentTime, Booking
from app.schemas.send import SendRequest
from app.services import audit, lease
from app.services.access import visible_patient
from app.services.errors import Conflict, NotFound, ValidationError
from app.services.outbox import WrittenSend, enqueue_written, notifications_made_for, write_send
from app.services.transitions import change_status
from app.vocabulary import AppointmentStatus, NotificationType, Role

WHEN_PATTERN = "EEE d MMM, HH:mm"


@dataclass(frozen=True)
class AppointmentChange:
    appointment: Appointment
    reminders_cancelled: int
    reminders_already_sent: int  # claimed by a worker before the change: on their way


def reminder_offsets() -> list[timedelta]:
    """How long before an appointment its reminders go, longest first (`APPOINTMENT_REMINDER_HOURS`)."""
    hours = current_app.config["APPOINTMENT_REMINDER_HOURS"]
    return sorted((timedelta(hours=h) for h in hours), reverse=True)


def when_text(starts_at: datetime, patient: User, clinic_zone: tzinfo) -> str:
    """The start as the patient reads it: their language and time zone, naming the zone when it
    is not the clinic's (a patient abroad must not arrive an hour early)."""
    zone = patient.zone
    text = format_datetime(starts_at, WHEN_PATTERN, tzinfo=zone, locale=patient.locale)
    if _offset_differs(starts_at, zone, clinic_zone):
        text += f" ({format_datetime(starts_at, 'zzzz', tzinfo=zone, locale=patient.locale)})"
    return text


def book(actor: User, raw: Mapping[str, Any], *, now: datetime | None = None) -> Appointment:
    """Book an appointment for one of the actor's patients, confirm it and plan its reminders.

    Raises:
        ValidationError: bad input, field by field; nothing was written.
        NotFound: no such patient that the actor may book for.
    """
    now = now or utcnow()
    booking = read(Booking, raw, context={"now": now})
    patient = _bookable_patient(actor, booking.patient_id)
    appointment = Appointment(
        patient_id=patient.id,
        practitioner_id=patient.practitioner_id if actor.role is Role.ADMIN and patient.practitioner_id else actor.id,
        starts_at=booking.starts_at,
        duration_minutes=booking.duration_minutes,
        treatment=booking.treatment,
        location=booking.location,
        notes=booking.notes,
        status=AppointmentStatus.BOOKED,
        created_at=now,
        updated_at=now,
    )
    return _commit_change(actor, appointment, AuditAction.APPOINTMENT_BOOKED, now, lambda: [
        _notice(actor, appointment, patient, NotificationType.APPOINTMENT_CONFIRMATION, now),
        *_reminders(actor, appointment, patient, now),
    ]).appointment


def validate_booking(raw: Mapping[str, Any], *, now: datetime | None = None) -> None:
    """Check a booking as `book` would, writing nothing: a form with problems of its own then
    names every problem in one answer.

    Raises:
        ValidationError: bad input, field by field.
    """
    read(Booking, raw, context={"now": now or utcnow()})


def reschedule(actor: User, public_id: str, raw_start: Any, *, now: datetime | None = None) -> AppointmentChange:
    """Move an upcoming appointment: its pending reminders are replaced, the patient told once.

    Raises:
        ValidationError: the new time is unreadable or has passed.
        NotFound: no such appointment the actor may change.
        Conflict: the appointment is no longer upcoming.
    """
    now = now or utcnow()
    starts_at = read(AppointmentTime, {"starts_at": raw_start}, context={"now": now}).starts_at
    appointment = _upcoming_for_update(actor, public_id, now)
    patient = appointment.patient

    def notifications() -> list[WrittenSend]:
        appointment.starts_at = starts_at
        appointment.status = AppointmentStatus.RESCHEDULED
        return [
            _notice(actor, appointment, patient, NotificationType.APPOINTMENT_CONFIRMATION, now),
            *_reminders(actor, appointment, patient, now),
        ]

    return _commit_change(actor, appointment, AuditAction.APPOINTMENT_RESCHEDULED, now, notifications)


def cancel(actor: User, public_id: str, *, now: datetime | None = None) -> AppointmentChange:
    """Cancel an upcoming appointment: its pending reminders are cancelled, the patient told."""
    now = now or utcnow()
    appointment = _upcoming_for_update(actor, public_id, now)

    def notifications() -> list[WrittenSend]:
        appointment.status = AppointmentStatus.CANCELLED
        return [_notice(actor, appointment, appointment.patient, NotificationType.APPOINTMENT_CANCELLATION, now)]

    return _commit_change(actor, appointment, AuditAction.APPOINTMENT_CANCELLED, now, notifications)


def record_outcome(actor: User, public_id: str, outcome: AppointmentStatus, *, now: datetime | None = None
                   ) -> AppointmentChange:
    """The patient came (completed) or did not (no-show); reminders still pending are dropped."""
    if outcome not in (AppointmentStatus.COMPLETED, AppointmentStatus.NO_SHOW):
        raise ValidationError({"status": "An appointment's outcome is completed or no-show"})
    now = now or utcnow()
    appointment = _upcoming_for_update(actor, public_id, now)
    if appointment.starts_at > now:
        raise Conflict("An appointment's outcome is recorded once it has started")

    def notifications() -> list[WrittenSend]:
        appointment.status = outcome
        return []

    return _commit_change(actor, appointment, AuditAction.APPOINTMENT_OUTCOME_RECORDED, now, notifications)


# --- reading --------------------------------------------------------------------------------


def visible_appointments(user: User) -> sa.Select[Any]:
    """A practitioner's own appointments; every appointment for an admin; none for a patient."""
    stmt = sa.select(Appointment).options(selectinload(Appointment.patient))
    if user.role is Role.ADMIN:
        return stmt
    if user.role is Role.PRACTITIONER:
        return stmt.where(Appointment.practitioner_id == user.id)
    return stmt.where(sa.false())


def day_of(user: User, day: date, zone: tzinfo) -> list[Appointment]:
    """The appointments of one day in `zone` (the staff member's), in time order."""
    start = datetime.combine(day, time(), tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), time(), tzinfo=zone)
    stmt = visible_appointments(user).where(Appointment.starts_at >= start, Appointment.starts_at < end)
    return list(db.session.scalars(stmt.order_by(Appointment.starts_at, Appointment.id)))


def of_patient(user: User, patient_id: int) -> list[Appointment]:
    """One patient's appointments the user may see, soonest first."""
    stmt = visible_appointments(user).where(Appointment.patient_id == patient_id)
    return list(db.session.scalars(stmt.order_by(Appointment.starts_at.desc(), Appointment.id.desc())))


def visible_appointment(user: User, public_id: str) -> Appointment:
    appointment = db.session.scalar(visible_appointments(user).where(Appointment.public_id == public_id))
    if appointment is None:
        raise NotFound("No such appointment")
    return appointment


def notifications_of(appointment: Appointment) -> list[Notification]:
    """Everything sent or planned for the appointment, in the order it was made."""
    return list(db.session.scalars(_made_for(appointment).order_by(Notification.id)))


def _made_for(appointment: Appointment) -> sa.Select[Any]:
    return notifications_made_for(NotificationGroup.appointment_id == appointment.id)


# --- inside ---------------------------------------------------------------------------------


def _bookable_patient(actor: User, patient_id: int) -> User:
    patient = visible_patient(actor, patient_id)
    if not patient.active:
        raise ValidationError({"patient_id": "This patient's account is deactivated"})
    return patient


def _upcoming_for_update(actor: User, public_id: str, now: datetime) -> Appointment:
    """The appointment, locked until the change commits, so concurrent changes to it run one
    after the other and each sees the reminders the one before it wrote.

    The lock is taken by writing the row first: on PostgreSQL that holds the row, and on SQLite
    it begins the write transaction (one writer at a time) before anything is read.
    """
    visible = visible_appointment(actor, public_id)
    db.session.execute(sa.update(Appointment).where(Appointment.id == visible.id).values(updated_at=now))
    appointment = db.session.scalar(
        sa.select(Appointment).where(Appointment.id == visible.id).execution_options(populate_existing=True)
    )
    assert appointment is not None
    if not appointment.status.is_upcoming:
        db.session.rollback()
        raise Conflict(f"This appointment is {appointment.status.label.lower()}; it can no longer change")
    return appointment


def _commit_change(actor: User, appointment: Appointment, action: AuditAction, now: datetime,
                   notifications: Callable[[], Sequence[WrittenSend]]) -> AppointmentChange:
    """Drop the reminders still pending, apply the change with its notifications, commit, then
    enqueue what is due now."""
    try:
        db.session.add(appointment)
        db.session.flush()
        cancelled, on_their_way = _drop_pending_reminders(actor, appointment, now)
        sends: Sequence[WrittenSend] = notifications()
        appointment.updated_at = now
        audit.record(action, actor_id=actor.id, patient_id=appointment.patient_id,
                     detail={"appointment": appointment.public_id, "starts_at": appointment.starts_at,
                             "status": appointment.status, "reminders_cancelled": cancelled})
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    enqueue_written(sends)
    return AppointmentChange(appointment, cancelled, on_their_way)


def _drop_pending_reminders(actor: User, appointment: Appointment, now: datetime) -> tuple[int, int]:
    rows = db.session.execute(
        _made_for(appointment)
        .with_only_columns(Notification.id, Notification.status)
        .where(Notification.type == NotificationType.APPOINTMENT_REMINDER,
               Notification.status.in_([*PENDING, Status.SENDING]))
    ).all()
    pending = [nid for nid, status in rows if status in PENDING]
    moved = change_status(pending, Status.CANCELLED, EventKind.CANCELLED, only_from=PENDING,
                          values={"cancelled_at": now, **lease.granted_to(None)}, actor_id=actor.id,
                          detail="the appointment changed", now=now)
    return len(moved), len(rows) - len(moved)


def _reminders(actor: User, appointment: Appointment, patient: User, now: datetime) -> list[WrittenSend]:
    """A reminder for each offset whose moment is still ahead (booked 1 h ahead: no 24 h one)."""
    due_times = [appointment.starts_at - offset for offset in reminder_offsets()]
    return [
        _write(actor, appointment, patient, NotificationType.APPOINTMENT_REMINDER, now, scheduled_at=at)
        for at in due_times
        if at > now
    ]


def _notice(actor: User, appointment: Appointment, patient: User, type_: NotificationType,
            now: datetime) -> WrittenSend:
    return _write(actor, appointment, patient, type_, now, scheduled_at=None)


def _write(actor: User, appointment: Appointment, patient: User, type_: NotificationType, now: datetime,
           *, scheduled_at: datetime | None) -> WrittenSend:
    clinic_zone = ZoneInfo(current_app.config["DEFAULT_TIMEZONE"])
    request = SendRequest(
        type=type_,
        recipient_ids=[patient.id],
        template_key=type_,
        data={"when": when_text(appointment.starts_at, patient, clinic_zone), "therapy": appointment.treatment},
        scheduled_at=scheduled_at,
    )
    return write_send(actor, request, now=now, appointment_id=appointment.id)


def _offset_differs(moment: datetime, zone: tzinfo, other: tzinfo) -> bool:
    return moment.astimezone(zone).utcoffset() != moment.astimezone(other).utcoffset()
