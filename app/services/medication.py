"""Medication courses and the reminders that follow them.

A course names times of day in the patient's own zone. Its reminders are not written for the
whole course at once (a course of months would be thousands of rows, most of them rewritten at
the first change): each dose within the next MEDICATION_REMINDER_WINDOW_HOURS gets a dose row
and a scheduled send, and the scheduler tops every course up as the window moves on
(`top_up_reminders`). Topping up looks at what is already written, so running it twice, two
schedulers overlapping or a run after a missed day write each dose once; the unique index on
(course, moment) of the live doses makes that so even if that reasoning were wrong. A dose whose
moment passed while nothing ran is not reminded late.

Changing a course or stopping it cancels its reminders still pending by the same compare-and-set
a worker's claim uses (as appointments do): a reminder the change reached never goes out, even
with its job already on Redis; one a worker claimed first was already on its way, and the change
says so. The course's row is written first, so changes and top-ups of one course run one after
the other.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import selectinload

from app.clock import utcnow
from app.extensions import db
from app.models.audit_event import AuditAction
from app.models.medication import MedicationCourse, MedicationDose
from app.models.notification import EventKind, Notification, NotificationGroup
from app.models.status import PENDING, Status
from app.models.user import User
from app.schemas import read
from app.schemas.medication import CourseDetails, Prescription
from app.schemas.send import SendRequest
from app.services import audit, lease
from app.services.access import of_visible_patient, visible_notification, visible_patient
from app.services.errors import Conflict, NotFound, ValidationError
from app.services.outbox import WrittenSend, enqueue_written, notifications_made_for, write_send
from app.services.row_counts import changed_rows
from app.services.send_times import recurring_moment
from app.services.transitions import change_status
from app.vocabulary import MedicationCourseStatus, NotificationType, Role

log = logging.getLogger(__name__)

REMINDER = NotificationType.MEDICATION_REMINDER
# A course is topped up once less than the window less this is written ahead: each course is
# then touched about once an hour, not on every pass of the scheduler.
TOP_UP_STEP = timedelta(hours=1)
TOP_UP_LIMIT = 200  # courses per pass; the next pass takes the rest


@dataclass(frozen=True)
class CourseChange:
    course: MedicationCourse
    reminders_cancelled: int
    reminders_already_sent: int  # claimed by a worker before the change: on their way


@dataclass(frozen=True)
class Adherence:
    """The doses reminded so far (latest first) and how many of them the patient took."""

    doses: list[MedicationDose]

    @property
    def reminded(self) -> int:
        return len(self.doses)

    @property
    def taken(self) -> int:
        return sum(1 for dose in self.doses if dose.taken_at is not None)

    @property
    def summary(self) -> str:
        if not self.doses:
            return "No dose reminded yet"
        return f"{self.taken} of {self.reminded} taken ({round(100 * self.taken / self.reminded)}%)"


def reminder_window() -> timedelta:
    """How far ahead reminders are written (`MEDICATION_REMINDER_WINDOW_HOURS`)."""
    return timedelta(hours=current_app.config["MEDICATION_REMINDER_WINDOW_HOURS"])


def prescribe(actor: User, raw: Mapping[str, Any], *, now: datetime | None = None) -> MedicationCourse:
    """Start a course for one of the actor's patients; its first window of reminders is written
    with it.

    Raises:
        ValidationError: bad input, field by field (a patient the actor may not prescribe for
            among them); nothing was written.
    """
    now = now or utcnow()
    asked = read(Prescription, raw, context={"today": now.astimezone(actor.zone).date()})
    patient = _prescribable_patient(actor, asked.patient_id)
    course = MedicationCourse(
        patient_id=patient.id,
        practitioner_id=patient.practitioner_id if actor.role is Role.ADMIN and patient.practitioner_id else actor.id,
        status=MedicationCourseStatus.ACTIVE,
        created_at=now,
        updated_at=now,
    )
    _apply(course, asked)
    try:
        db.session.add(course)
        db.session.flush()
        sends = _write_window(course, now)
        audit.record(AuditAction.MEDICATION_PRESCRIBED, actor_id=actor.id, patient_id=patient.id,
                     detail={"course": course.public_id, "reminders_written": len(sends)})
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    enqueue_written(sends)
    return course


def validate_prescription(actor: User, raw: Mapping[str, Any], *, now: datetime | None = None) -> None:
    """Check a prescription as `prescribe` would, writing nothing: a form with problems of its
    own then names every problem in one answer.

    Raises:
        ValidationError: bad input, field by field.
    """
    read(Prescription, raw, context={"today": (now or utcnow()).astimezone(actor.zone).date()})


def change(actor: User, public_id: str, raw: Mapping[str, Any], *, now: datetime | None = None) -> CourseChange:
    """Change a running course (medicine, dosage, times, dates, instructions): the reminders not
    yet sent are replaced by ones that follow the change.

    Raises:
        ValidationError: bad input, field by field; nothing changed.
        NotFound: no such course the actor may change.
        Conflict: the course has been stopped or has ended.
    """
    now = now or utcnow()
    current = visible_course(actor, public_id)
    asked = read(CourseDetails, raw, context={"today": now.astimezone(actor.zone).date(),
                                              "kept_start": current.start_date})
    course = _running_for_update(actor, public_id, now)

    def reminders() -> list[WrittenSend]:
        _apply(course, asked)
        return _write_window(course, now)

    return _commit_change(actor, course, AuditAction.MEDICATION_CHANGED, now, reminders)


def validate_change(actor: User, public_id: str, raw: Mapping[str, Any], *, now: datetime | None = None) -> None:
    """Check a change as `change` would, writing nothing.

    Raises:
        ValidationError: bad input, field by field.
        NotFound: no such course the actor may change.
    """
    current = visible_course(actor, public_id)
    read(CourseDetails, raw, context={"today": (now or utcnow()).astimezone(actor.zone).date(),
                                      "kept_start": current.start_date})


def stop(actor: User, public_id: str, *, now: datetime | None = None) -> CourseChange:
    """Stop a running course: its reminders not yet sent are cancelled at once."""
    now = now or utcnow()
    course = _running_for_update(actor, public_id, now)

    def reminders() -> list[WrittenSend]:
        course.status = MedicationCourseStatus.STOPPED
        course.stopped_at = now
        return []

    return _commit_change(actor, course, AuditAction.MEDICATION_STOPPED, now, reminders)


def top_up_reminders(*, now: datetime | None = None) -> int:
    """Write the reminders of every running course up to the window's end; the scheduler calls
    this on each sweep. A course that cannot be reminded now (its patient deactivated or moved
    to another practitioner) is tried again a step later.

    Returns:
        How many doses were written.
    """
    now = now or utcnow()
    refill_below = now + reminder_window() - TOP_UP_STEP
    course_ids = list(db.session.scalars(
        sa.select(MedicationCourse.id)
        .where(MedicationCourse.status == MedicationCourseStatus.ACTIVE,
               # A day before UTC's date: no zone's date is earlier than that.
               MedicationCourse.end_date >= (now - timedelta(days=1)).date(),
               sa.or_(MedicationCourse.reminders_through.is_(None),
                      MedicationCourse.reminders_through < refill_below))
        .order_by(MedicationCourse.reminders_through)
        .limit(TOP_UP_LIMIT)
    ))
    db.session.commit()  # end the read
    return sum(_top_up(course_id, now) for course_id in course_ids)


# --- the patient ------------------------------------------------------------------------------


def mark_taken(patient: User, notification_public_id: str, *, now: datetime | None = None) -> MedicationDose:
    """The patient took the dose a reminder in their inbox was about. Saying so again changes
    nothing: the first time stands.

    Raises:
        NotFound: no such reminder of a course in this patient's inbox.
    """
    now = now or utcnow()
    dose = dose_of(visible_notification(patient, notification_public_id))
    if dose is None:
        raise NotFound("No such dose")
    taken = changed_rows(db.session.execute(
        sa.update(MedicationDose).where(MedicationDose.id == dose.id, MedicationDose.taken_at.is_(None))
        .values(taken_at=now)
    ))
    if taken:
        audit.record(AuditAction.MEDICATION_TAKEN, actor_id=patient.id, patient_id=patient.id,
                     detail={"course": dose.course.public_id, "due_at": dose.due_at})
    db.session.commit()
    db.session.refresh(dose)
    return dose


def dose_of(notification: Notification) -> MedicationDose | None:
    """The dose a reminder is about; None for any other notification (a medication reminder
    composed by hand has no course)."""
    if notification.type is not REMINDER:
        return None
    return db.session.scalar(sa.select(MedicationDose).where(MedicationDose.group_id == notification.group_id))


# --- reading ----------------------------------------------------------------------------------


def visible_courses(user: User) -> sa.Select[Any]:
    """The courses of a practitioner's own patients; every course for an admin; none for a patient."""
    return (sa.select(MedicationCourse).options(selectinload(MedicationCourse.patient))
            .where(of_visible_patient(user, MedicationCourse.patient_id)))


def of_patient(user: User, patient_id: int) -> list[MedicationCourse]:
    """One patient's courses the user may see, latest start first."""
    stmt = visible_courses(user).where(MedicationCourse.patient_id == patient_id)
    return list(db.session.scalars(stmt.order_by(MedicationCourse.start_date.desc(), MedicationCourse.id.desc())))


def visible_course(user: User, public_id: str) -> MedicationCourse:
    course = db.session.scalar(visible_courses(user).where(MedicationCourse.public_id == public_id))
    if course is None:
        raise NotFound("No such medication course")
    return course


def status_of(course: MedicationCourse, now: datetime | None = None) -> MedicationCourseStatus:
    """Active, stopped, or ended: a running course whose end date has passed where the patient lives."""
    if course.status is MedicationCourseStatus.ACTIVE:
        today = (now or utcnow()).astimezone(course.patient.zone).date()
        if course.end_date < today:
            return MedicationCourseStatus.ENDED
    return course.status


def adherence(course: MedicationCourse, now: datetime | None = None) -> Adherence:
    """The doses whose moment has come, and whether each was taken."""
    doses = db.session.scalars(
        sa.select(MedicationDose)
        .where(MedicationDose.course_id == course.id, MedicationDose.cancelled_at.is_(None),
               MedicationDose.due_at <= (now or utcnow()))
        .order_by(MedicationDose.due_at.desc())
    )
    return Adherence(list(doses))


def notifications_of(course: MedicationCourse) -> list[Notification]:
    """Every reminder written for the course, latest moment first."""
    return list(db.session.scalars(
        _made_for(course).order_by(Notification.scheduled_at.desc(), Notification.id)
    ))


def _made_for(course: MedicationCourse) -> sa.Select[Any]:
    return notifications_made_for(NotificationGroup.medication_course_id == course.id)


# --- inside -----------------------------------------------------------------------------------


def _prescribable_patient(actor: User, patient_id: int) -> User:
    """The patient, if the actor may prescribe for them: someone else's patient is answered as
    unknown (at the field, like any other choice that is not on the list)."""
    try:
        patient = visible_patient(actor, patient_id)
    except NotFound:
        raise ValidationError({"patient_id": "Choose one of your patients"}) from None
    if not patient.active:
        raise ValidationError({"patient_id": "This patient's account is deactivated"})
    return patient


def _apply(course: MedicationCourse, asked: CourseDetails) -> None:
    course.medicine = asked.medicine
    course.dosage = asked.dosage
    course.times_of_day = asked.times_text
    course.start_date = asked.start_date
    course.end_date = asked.end_date
    course.instructions = asked.instructions


def _locked(course_id: int) -> MedicationCourse:
    """The course, locked until the transaction ends, read afresh.

    The lock is taken by writing the row first: on PostgreSQL that holds the row, and on SQLite
    it begins the write transaction (one writer at a time) before anything is read.
    """
    db.session.execute(
        sa.update(MedicationCourse).where(MedicationCourse.id == course_id)
        .values(reminders_through=MedicationCourse.reminders_through)
    )
    course = db.session.scalar(
        sa.select(MedicationCourse).where(MedicationCourse.id == course_id).execution_options(populate_existing=True)
    )
    assert course is not None
    return course


def _running_for_update(actor: User, public_id: str, now: datetime) -> MedicationCourse:
    course = _locked(visible_course(actor, public_id).id)
    status = status_of(course, now)
    if status is not MedicationCourseStatus.ACTIVE:
        db.session.rollback()
        raise Conflict(f"This course has {status.value}; it can no longer change")
    return course


def _commit_change(actor: User, course: MedicationCourse, action: AuditAction, now: datetime,
                   reminders: Callable[[], Sequence[WrittenSend]]) -> CourseChange:
    """Withdraw the reminders still pending, apply the change with the reminders that follow
    it, commit, then enqueue what is due now."""
    try:
        cancelled, on_their_way = _drop_pending_reminders(actor, course, now)
        sends = reminders()
        course.updated_at = now
        audit.record(action, actor_id=actor.id, patient_id=course.patient_id,
                     detail={"course": course.public_id, "status": course.status,
                             "reminders_cancelled": cancelled, "reminders_written": len(sends)})
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    enqueue_written(sends)
    return CourseChange(course, cancelled, on_their_way)


def _drop_pending_reminders(actor: User, course: MedicationCourse, now: datetime) -> tuple[int, int]:
    """Cancel every reminder of the course no worker has claimed, and withdraw the doses none of
    whose reminders went (so the change may write a dose at the same moment again)."""
    rows = db.session.execute(
        _made_for(course)
        .with_only_columns(Notification.id, Notification.status)
        .where(Notification.type == REMINDER, Notification.status.in_([*PENDING, Status.SENDING]))
    ).all()
    pending = [nid for nid, status in rows if status in PENDING]
    moved = change_status(pending, Status.CANCELLED, EventKind.CANCELLED, only_from=PENDING,
                          values={"cancelled_at": now, **lease.granted_to(None)}, actor_id=actor.id,
                          detail="the medication course changed", now=now)
    went = sa.select(Notification.id).where(
        Notification.group_id == MedicationDose.group_id,
        Notification.status.not_in([Status.CANCELLED, Status.SUPPRESSED]),
    )
    db.session.execute(
        sa.update(MedicationDose)
        .where(MedicationDose.course_id == course.id, MedicationDose.cancelled_at.is_(None), ~sa.exists(went))
        .values(cancelled_at=now)
    )
    return len(moved), len(rows) - len(moved)


def _top_up(course_id: int, now: datetime) -> int:
    """One course's window, in a transaction of its own: one course's problem stops no other."""
    try:
        course = _locked(course_id)
        sends = _write_window(course, now) if course.status is MedicationCourseStatus.ACTIVE else []
        db.session.commit()
    except ValidationError as error:
        db.session.rollback()
        # The problems name the patient: the log gets the course and the fields only.
        log.warning("medication course %s: reminders not written (%s); trying again later",
                    db.session.get_one(MedicationCourse, course_id).public_id, ", ".join(sorted(error.errors)))
        db.session.execute(sa.update(MedicationCourse).where(MedicationCourse.id == course_id)
                           .values(reminders_through=now + reminder_window()))
        db.session.commit()
        return 0
    except BaseException:
        db.session.rollback()
        raise
    enqueue_written(sends)
    return len(sends)


def _write_window(course: MedicationCourse, now: datetime) -> list[WrittenSend]:
    """A dose row and a reminder for each moment of the course in (now, now + window] that has
    no live dose yet; the watermark moves with them."""
    horizon = now + reminder_window()
    written = set(db.session.scalars(
        sa.select(MedicationDose.due_at)
        .where(MedicationDose.course_id == course.id, MedicationDose.cancelled_at.is_(None),
               MedicationDose.due_at > now, MedicationDose.due_at <= horizon)
    ))
    sends = []
    for moment in dose_moments(course, after=now, until=horizon):
        if moment in written:
            continue
        send = _reminder(course, moment, now)
        db.session.add(MedicationDose(course_id=course.id, due_at=moment, group_id=send.group_id, created_at=now))
        sends.append(send)
    course.reminders_through = horizon
    db.session.flush()
    return sends


def dose_moments(course: MedicationCourse, *, after: datetime, until: datetime) -> list[datetime]:
    """The course's dose moments in (after, until], in order, each once: its times of day on each
    of its days, read in the patient's zone by `send_times.recurring_moment` (a time the clocks
    skip goes the gap's length later, one they repeat goes at its first occurrence)."""
    zone = course.patient.zone
    first_day = max(course.start_date, after.astimezone(zone).date())
    last_day = min(course.end_date, until.astimezone(zone).date())
    moments: set[datetime] = set()
    day = first_day
    while day <= last_day:
        for text in course.times_of_day:
            moment = recurring_moment(datetime.combine(day, datetime.strptime(text, "%H:%M").time()), zone)
            if after < moment <= until:
                moments.add(moment)
        day += timedelta(days=1)
    return sorted(moments)


def _reminder(course: MedicationCourse, moment: datetime, now: datetime) -> WrittenSend:
    request = SendRequest(
        type=REMINDER,
        recipient_ids=[course.patient_id],
        channels=None,  # the patient's choice for medication reminders, else the clinic's (push)
        template_key=REMINDER,
        data={"medicine": course.medicine, "dose": course.dosage},
        scheduled_at=moment,
    )
    return write_send(course.practitioner, request, now=now, medication_course_id=course.id)
