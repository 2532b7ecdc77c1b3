"""Appointments: the clinic's bookings, whose confirmation, reminders and notices are sends."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.clock import utcnow
from app.extensions import Model
from app.models.notification import new_public_id
from app.models.types import UTCDateTime, enum_type
from app.models.user import User
from app.vocabulary import AppointmentStatus


class Appointment(Model):
    __tablename__ = "appointments"
    __table_args__ = (
        # A practitioner's day, and a patient's list, in time order.
        sa.Index("ix_appointments_practitioner_start", "practitioner_id", "starts_at"),
        sa.Index("ix_appointments_patient_start", "patient_id", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(sa.String(32), unique=True, default=new_public_id)
    patient_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    practitioner_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    duration_minutes: Mapped[int]
    treatment: Mapped[str] = mapped_column(sa.String(80))
    location: Mapped[str] = mapped_column(sa.String(120), default="")
    notes: Mapped[str] = mapped_column(sa.Text, default="")
    status: Mapped[AppointmentStatus] = mapped_column(enum_type(AppointmentStatus), default=AppointmentStatus.BOOKED)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    patient: Mapped[User] = relationship(foreign_keys=[patient_id])
    practitioner: Mapped[User] = relationship(foreign_keys=[practitioner_id])

    @property
    def ends_at(self) -> datetime:
        return self.starts_at + timedelta(minutes=self.duration_minutes)
