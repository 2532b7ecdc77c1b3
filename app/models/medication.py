"""Medication courses and their doses: what a practitioner prescribed, and each moment a
reminder was written for."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.clock import utcnow
from app.extensions import Model
from app.models.notification import NotificationGroup, new_public_id
from app.models.types import UTCDateTime, enum_type
from app.models.user import User
from app.vocabulary import MedicationCourseStatus


class MedicationCourse(Model):
    __tablename__ = "medication_courses"
    __table_args__ = (
        sa.Index("ix_medication_courses_patient", "patient_id", "start_date"),
        # What the scheduler looks for: active courses whose written reminders run out soonest.
        sa.Index("ix_medication_courses_due", "status", "reminders_through"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(sa.String(32), unique=True, default=new_public_id)
    patient_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    practitioner_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    medicine: Mapped[str] = mapped_column(sa.String(120))
    dosage: Mapped[str] = mapped_column(sa.String(120))
    # Wall-clock times in the patient's zone, "HH:MM", in order.
    times_of_day: Mapped[list[str]] = mapped_column(sa.JSON)
    start_date: Mapped[date] = mapped_column(sa.Date)
    end_date: Mapped[date] = mapped_column(sa.Date)
    instructions: Mapped[str] = mapped_column(sa.Text, default="")
    status: Mapped[MedicationCourseStatus] = mapped_column(
        enum_type(MedicationCourseStatus), default=MedicationCourseStatus.ACTIVE
    )
    # Reminders are written up to here (the watermark of the rolling window); moved in the
    # transaction that writes them.
    reminders_through: Mapped[datetime | None] = mapped_column(UTCDateTime)
    stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    patient: Mapped[User] = relationship(foreign_keys=[patient_id])
    practitioner: Mapped[User] = relationship(foreign_keys=[practitioner_id])


class MedicationDose(Model):
    """One moment a dose is due, and the send that reminds the patient of it."""

    __tablename__ = "medication_doses"
    __table_args__ = (
        # One live dose per course and moment, however often or concurrently reminders are
        # written; a dose an edit or a stop withdrew steps aside for the one that replaces it.
        sa.Index("uq_medication_doses_course_due", "course_id", "due_at", unique=True,
                 postgresql_where=sa.text("cancelled_at IS NULL"), sqlite_where=sa.text("cancelled_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(sa.ForeignKey("medication_courses.id"))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    group_id: Mapped[int] = mapped_column(sa.ForeignKey("notification_groups.id"), unique=True)
    taken_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    course: Mapped[MedicationCourse] = relationship()
    group: Mapped[NotificationGroup] = relationship()
