"""A patient's delivery preferences: which channels besides the inbox, and quiet hours.

The patient sets their own; their practitioner and admins may set them on the patient's behalf
(a patient who asked at the desk). Every change is in the audit log, by whom. Channel choice
(`channel_choice.py`) reads these for every send, so a change applies to the next send.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import time

from app.extensions import db
from app.models.audit_event import AuditAction
from app.models.user import User
from app.services import audit
from app.services.access import visible_patient
from app.services.errors import NotFound, ValidationError
from app.vocabulary import Channel, Role

# The inbox is always on: SMS and push may carry only a notice that points there.
CHOOSABLE = (Channel.SMS, Channel.EMAIL, Channel.PUSH)


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


def set_preferences(actor: User, patient_id: int, *, channels: Sequence[str], quiet_start: time | None,
                    quiet_end: time | None) -> bool:
    """Save the channels (besides the inbox) and quiet hours; True when anything changed.

    Raises:
        ValidationError: an unknown channel, or quiet hours with one end only or none between.
        NotFound: no such patient the actor may change.
    """
    patient = editable_patient(actor, patient_id)
    errors: dict[str, str] = {}
    unknown = [c for c in channels if c not in {choice.value for choice in CHOOSABLE}]
    if unknown:
        errors["channels"] = f"Choose from: {', '.join(c.label for c in CHOOSABLE)}"
    if (quiet_start is None) != (quiet_end is None):
        errors["quiet_end" if quiet_end is None else "quiet_start"] = "Give both ends of the quiet hours, or neither"
    elif quiet_start is not None and quiet_start == quiet_end:
        errors["quiet_end"] = "Quiet hours end at a different time than they start"
    if errors:
        raise ValidationError(errors)
    wanted = [Channel.IN_APP.value, *[c.value for c in CHOOSABLE if c.value in channels]]
    changed = [name for name, old, new in (
        ("channels", sorted(patient.preferred_channels), sorted(wanted)),
        ("quiet_hours", (patient.quiet_hours_start, patient.quiet_hours_end), (quiet_start, quiet_end)),
    ) if old != new]
    if not changed:
        return False
    patient.preferred_channels = wanted
    patient.quiet_hours_start, patient.quiet_hours_end = quiet_start, quiet_end
    audit.record(AuditAction.PREFERENCES_CHANGED, actor_id=actor.id, patient_id=patient.id,
                 detail={"changed": changed, "channels": wanted})
    db.session.commit()
    return True

