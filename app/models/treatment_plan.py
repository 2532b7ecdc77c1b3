"""Treatment plans: a patient's course of treatment in dated phases, and the progress recorded
on it, each record with the send that told the patient."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.clock import utcnow
from app.extensions import Model
from app.models.notification import NotificationGroup, new_public_id
from app.models.types import UTCDateTime, enum_type
from app.models.user import User
from app.vocabulary import TreatmentPlanStatus

_ACTIVE = sa.text("status = 'active'")


class TreatmentPlan(Model):
    __tablename__ = "treatment_plans"
    __table_args__ = (
        sa.Index("ix_treatment_plans_patient", "patient_id", "id"),
        # A patient has at most one active plan: two created at once cannot both be.
        sa.Index("uq_treatment_plans_one_active", "patient_id", unique=True,
                 postgresql_where=_ACTIVE, sqlite_where=_ACTIVE),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(sa.String(32), unique=True, default=new_public_id)
    patient_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    practitioner_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(80))
    status: Mapped[TreatmentPlanStatus] = mapped_column(
        enum_type(TreatmentPlanStatus), default=TreatmentPlanStatus.ACTIVE
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    patient: Mapped[User] = relationship(foreign_keys=[patient_id])
    practitioner: Mapped[User] = relationship(foreign_keys=[practitioner_id])
    phases: Mapped[list[TreatmentPhase]] = relationship(
        back_populates="plan", order_by="TreatmentPhase.position", cascade="all, delete-orphan"
    )
    progress: Mapped[list[TreatmentProgress]] = relationship(
        order_by="TreatmentProgress.id.desc()", viewonly=True
    )

    @property
    def latest_progress(self) -> TreatmentProgress | None:
        return self.progress[0] if self.progress else None

    def current_phase(self, today: date) -> TreatmentPhase | None:
        """The phase of the latest progress record; before any, the phase whose dates hold
        `today` (or the first, until it starts)."""
        if self.latest_progress is not None:
            return self.latest_progress.phase
        return next((p for p in self.phases if today <= p.ends_on), self.phases[-1] if self.phases else None)


class TreatmentPhase(Model):
    __tablename__ = "treatment_phases"
    __table_args__ = (sa.UniqueConstraint("plan_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(sa.ForeignKey("treatment_plans.id"))
    position: Mapped[int]
    name: Mapped[str] = mapped_column(sa.String(60))
    starts_on: Mapped[date] = mapped_column(sa.Date)
    ends_on: Mapped[date] = mapped_column(sa.Date)
    description: Mapped[str] = mapped_column(sa.Text, default="")

    plan: Mapped[TreatmentPlan] = relationship(back_populates="phases")


class TreatmentProgress(Model):
    """One progress record, and the send (`group_id`) that told the patient of it."""

    __tablename__ = "treatment_progress"
    __table_args__ = (sa.Index("ix_treatment_progress_plan", "plan_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(sa.ForeignKey("treatment_plans.id"))
    phase_id: Mapped[int] = mapped_column(sa.ForeignKey("treatment_phases.id"))
    percent: Mapped[int]
    next_milestone: Mapped[str] = mapped_column(sa.String(120), default="")
    notes: Mapped[str] = mapped_column(sa.Text, default="")
    recorded_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    group_id: Mapped[int] = mapped_column(sa.ForeignKey("notification_groups.id"))

    plan: Mapped[TreatmentPlan] = relationship()
    phase: Mapped[TreatmentPhase] = relationship()
    recorded_by: Mapped[User] = relationship()
    group: Mapped[NotificationGroup] = relationship()
