"""Treatment plans and the progress a practitioner records on them.

A patient has at most one active plan at a time (a plan completed or stopped makes room for
the next); the database holds the rule too, so two plans created at once cannot both be active.
Each progress record sends the patient a treatment update (the type's templates, on the
channels their preferences choose) in the same transaction as the record: both are written or
neither. Progress only goes forward: a record below the plan's latest percent is refused, since
a figure that drops tells the patient their treatment went backwards when it was a typing
slip; a record on a completed or stopped plan, or naming a phase of another plan, is refused too.
Records run one after the other per plan, so that check holds under concurrent records.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from app.clock import utcnow
from app.extensions import db
from app.models.audit_event import AuditAction
from app.models.notification import Notification
from app.models.treatment_plan import TreatmentPhase, TreatmentPlan, TreatmentProgress
from app.models.user import User
from app.schemas import read
from app.schemas.send import SendRequest, TemplateValues
from app.schemas.treatment_plan import PlanRequest, ProgressRequest
from app.services import audit
from app.services.access import of_visible_patient, visible_patient
from app.services.errors import Conflict, NotFound, ValidationError
from app.services.outbox import enqueue_written, write_send
from app.vocabulary import NotificationType, Role, TreatmentPlanStatus

CLOSING_STATUSES = (TreatmentPlanStatus.COMPLETED, TreatmentPlanStatus.STOPPED)


@dataclass(frozen=True)
class ProgressEntry:
    """A progress record and the notifications its send made, one per channel."""

    record: TreatmentProgress
    notifications: list[Notification]


def create_plan(actor: User, raw: Mapping[str, Any], *, now: datetime | None = None) -> TreatmentPlan:
    """Start a plan for one of the actor's patients, who must have no active plan.

    Raises:
        ValidationError: bad input, field by field; nothing was written.
        NotFound: no such patient the actor may act for.
    """
    now = now or utcnow()
    request = read(PlanRequest, raw)
    patient = visible_patient(actor, request.patient_id)
    if not patient.active:
        raise ValidationError({"patient_id": "This patient's account is deactivated"})
    if (active := active_plan(patient.id)) is not None:
        raise ValidationError({"patient_id": _one_active(active)})
    plan = TreatmentPlan(
        patient_id=patient.id,
        practitioner_id=patient.practitioner_id if actor.role is Role.ADMIN and patient.practitioner_id else actor.id,
        name=request.name,
        status=TreatmentPlanStatus.ACTIVE,
        created_at=now,
        updated_at=now,
        phases=[
            TreatmentPhase(position=n, name=p.name, starts_on=p.starts_on, ends_on=p.ends_on,
                           description=p.description)
            for n, p in enumerate(request.phases)
        ],
    )
    try:
        db.session.add(plan)
        db.session.flush()
        audit.record(AuditAction.TREATMENT_PLAN_CREATED, actor_id=actor.id, patient_id=patient.id,
                     detail={"plan": plan.public_id, "phases": len(plan.phases)})
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        active = active_plan(patient.id)
        if active is None:
            raise
        raise ValidationError({"patient_id": _one_active(active)}) from None
    except BaseException:
        db.session.rollback()
        raise
    return plan


def record_progress(actor: User, public_id: str, raw: Mapping[str, Any], *,
                    now: datetime | None = None) -> TreatmentProgress:
    """Record progress on an active plan and send the patient the treatment update.

    Raises:
        ValidationError: bad input, field by field; nothing was written or sent.
        NotFound: no such plan the actor may act on.
    """
    now = now or utcnow()
    request = read(ProgressRequest, raw)
    plan = _plan_for_update(actor, public_id, now)
    try:
        phase = _check_progress(plan, request)
        written = write_send(actor, SendRequest(
            type=NotificationType.TREATMENT_UPDATE,
            recipient_ids=[plan.patient_id],
            template_key=NotificationType.TREATMENT_UPDATE,
            data=update_values(plan, phase, request),
        ), now=now)
        record = TreatmentProgress(
            plan_id=plan.id, phase_id=phase.id, percent=request.percent, next_milestone=request.next_milestone,
            notes=request.notes, recorded_by_id=actor.id, recorded_at=now, group_id=written.group_id,
        )
        db.session.add(record)
        db.session.flush()
        audit.record(AuditAction.TREATMENT_PROGRESS_RECORDED, actor_id=actor.id, patient_id=plan.patient_id,
                     detail={"plan": plan.public_id, "progress": record.id})
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    enqueue_written([written])
    return record


def close_plan(actor: User, public_id: str, status: TreatmentPlanStatus, *,
               now: datetime | None = None) -> TreatmentPlan:
    """Mark an active plan completed or stopped: no more progress is recorded on it, and the
    patient may start another.

    Raises:
        ValidationError: `status` is not completed or stopped.
        NotFound: no such plan the actor may act on.
        Conflict: the plan is no longer active.
    """
    if status not in CLOSING_STATUSES:
        raise ValidationError({"status": "A plan is closed as completed or stopped"})
    now = now or utcnow()
    plan = _plan_for_update(actor, public_id, now)
    try:
        if not plan.status.is_active:
            raise Conflict(f"This plan is {plan.status.label.lower()} already")
        plan.status = status
        audit.record(AuditAction.TREATMENT_PLAN_CLOSED, actor_id=actor.id, patient_id=plan.patient_id,
                     detail={"plan": plan.public_id, "status": status})
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return plan


def update_values(plan: TreatmentPlan, phase: TreatmentPhase, request: ProgressRequest) -> TemplateValues:
    """The treatment update's template values: each part apart, so each language's template
    phrases it (the subject reads "Treatment Progress Update - 40% Complete"); the practitioner's
    words on one line, as a template value holds no line breaks."""
    values: TemplateValues = {"therapy": plan.name, "phase": phase.name, "percent": request.percent}
    if request.next_milestone:
        values["next_milestone"] = request.next_milestone
    if request.notes:
        values["note"] = " ".join(request.notes.split())
    return values


# --- reading --------------------------------------------------------------------------------


def visible_plans(user: User) -> sa.Select[Any]:
    """Plans of a practitioner's own patients; every plan for an admin; none for a patient."""
    return (sa.select(TreatmentPlan).options(selectinload(TreatmentPlan.phases), selectinload(TreatmentPlan.patient))
            .where(of_visible_patient(user, TreatmentPlan.patient_id)))


def visible_plan(user: User, public_id: str) -> TreatmentPlan:
    """One plan `user` may see; NotFound (never 403) hides whether it exists."""
    plan = db.session.scalar(visible_plans(user).where(TreatmentPlan.public_id == public_id))
    if plan is None:
        raise NotFound("No such treatment plan")
    return plan


def plans_of(user: User, patient_id: int) -> list[TreatmentPlan]:
    """One patient's plans the user may see, newest first."""
    stmt = visible_plans(user).where(TreatmentPlan.patient_id == patient_id)
    return list(db.session.scalars(stmt.order_by(TreatmentPlan.id.desc())))


def active_plan(patient_id: int) -> TreatmentPlan | None:
    return db.session.scalar(sa.select(TreatmentPlan).where(
        TreatmentPlan.patient_id == patient_id, TreatmentPlan.status == TreatmentPlanStatus.ACTIVE
    ))


def progress_of(plan: TreatmentPlan) -> list[ProgressEntry]:
    """The plan's progress records, newest first, each with what its send made."""
    records = list(db.session.scalars(
        sa.select(TreatmentProgress).options(selectinload(TreatmentProgress.phase))
        .where(TreatmentProgress.plan_id == plan.id).order_by(TreatmentProgress.id.desc())
    ))
    by_group: dict[int, list[Notification]] = {}
    if records:
        rows = db.session.scalars(
            sa.select(Notification).where(Notification.group_id.in_([r.group_id for r in records]))
            .order_by(Notification.id)
        )
        for row in rows:
            by_group.setdefault(row.group_id, []).append(row)
    return [ProgressEntry(record, by_group.get(record.group_id, [])) for record in records]


# --- inside ---------------------------------------------------------------------------------


def _plan_for_update(actor: User, public_id: str, now: datetime) -> TreatmentPlan:
    """The plan, locked until the change commits (written first, as appointments are: a row
    lock on PostgreSQL, the write transaction on SQLite), so records on it run one at a time."""
    visible = visible_plan(actor, public_id)
    db.session.execute(sa.update(TreatmentPlan).where(TreatmentPlan.id == visible.id).values(updated_at=now))
    plan = db.session.scalar(
        sa.select(TreatmentPlan).where(TreatmentPlan.id == visible.id).execution_options(populate_existing=True)
    )
    assert plan is not None
    return plan


def _check_progress(plan: TreatmentPlan, request: ProgressRequest) -> TreatmentPhase:
    """The phase the record names, once the plan's state allows the record; every problem at once."""
    if not plan.status.is_active:
        raise ValidationError({"plan": f"This plan is {plan.status.label.lower()}; progress is recorded on an "
                                       "active plan only"})
    errors: dict[str, str] = {}
    phase = next((p for p in plan.phases if p.id == request.phase_id), None)
    if phase is None:
        errors["phase_id"] = "Choose one of this plan's phases"
    latest = db.session.scalar(
        sa.select(TreatmentProgress.percent).where(TreatmentProgress.plan_id == plan.id)
        .order_by(TreatmentProgress.id.desc()).limit(1)
    )
    if latest is not None and request.percent < latest:
        errors["percent"] = f"The plan is at {latest}% already; progress is recorded forward only"
    if errors or phase is None:
        raise ValidationError(errors)
    return phase


def _one_active(plan: TreatmentPlan) -> str:
    return f"This patient's plan “{plan.name}” is still active; complete or stop it before starting another"
