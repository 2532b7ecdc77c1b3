"""A patient's delivery preferences: per notification type, which channels besides the inbox;
and quiet hours. A type they never chose for follows the clinic's default.

The patient sets their own; their practitioner and admins may set them on the patient's behalf
(a patient who asked at the desk). Every change is in the audit log, by whom. Channel choice
(`channel_choice.py`) reads these for every send, so a change applies to the next send.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import time

from app.extensions import db
from app.models.audit_event import AuditAction
from app.models.user import User
from app.services import audit
from app.services.access import visible_patient
from app.services.channel_choice import CHOOSABLE_TYPES, checked_grid, chosen_channels, grid_tokens
from app.services.clinic_settings import channel_defaults
from app.services.errors import NotFound, ValidationError
from app.vocabulary import N_, Channel, NotificationType, Role


def editable_patient(actor: User, patient_id: int) -> User:
    """The patient whose preferences `actor` may change: themself, or one they care for.

    Raises:
        NotFound: no such patient the actor may change.
    """
    if actor.role is Role.PATIENT:
        if actor.id != patient_id:
            raise NotFound("No such patient")
        return actor
    return visible_patient(actor, patient_id)


def channels_by_type(patient: User) -> dict[NotificationType, frozenset[Channel]]:
    """What the patient gets each choosable type on now: their choice, else the clinic's default."""
    defaults = channel_defaults()
    return {kind: chosen_channels(patient.channel_choices, kind, defaults) for kind in CHOOSABLE_TYPES}


def following_clinic(patient: User) -> set[NotificationType]:
    """The types the patient made no choice for, which follow the clinic's default."""
    return {kind for kind in CHOOSABLE_TYPES if kind.value not in patient.channel_choices}


def set_preferences(actor: User, patient_id: int, *, channels: Mapping[str, Sequence[str]],
                    quiet_start: time | None, quiet_end: time | None) -> bool:
    """Save the channels per type (besides the inbox) and quiet hours; True when anything changed.

    A type whose channels are as they were is left alone, so one that followed the clinic's
    default still does; a type changed becomes the patient's own choice.

    Raises:
        ValidationError: an unknown type or channel, or quiet hours with one end only or none between.
        NotFound: no such patient the actor may change.
    """
    patient = editable_patient(actor, patient_id)
    errors: dict[str, str] = {}
    wanted: dict[str, list[str]] = {}
    try:
        wanted = checked_grid(channels)
    except ValidationError as error:
        errors.update(error.errors)
    if (quiet_start is None) != (quiet_end is None):
        one_end = "quiet_end" if quiet_end is None else "quiet_start"
        errors[one_end] = N_("Give both ends of the quiet hours, or neither")
    elif quiet_start is not None and quiet_start == quiet_end:
        errors["quiet_end"] = N_("Quiet hours end at a different time than they start")
    if errors:
        raise ValidationError(errors)
    now = channels_by_type(patient)
    changed_types = {kind: chosen for kind, chosen in wanted.items()
                     if set(chosen) != {c.value for c in now[NotificationType(kind)]}}
    changed = [name for name, differs in (
        ("channels", bool(changed_types)),
        ("quiet_hours", (patient.quiet_hours_start, patient.quiet_hours_end) != (quiet_start, quiet_end)),
    ) if differs]
    if not changed:
        return False
    patient.channel_choices = {**patient.channel_choices, **changed_types}
    patient.quiet_hours_start, patient.quiet_hours_end = quiet_start, quiet_end
    audit.record(AuditAction.PREFERENCES_CHANGED, actor_id=actor.id, patient_id=patient.id,
                 detail={"changed": changed, "channels": grid_tokens(changed_types)})
    db.session.commit()
    return True
