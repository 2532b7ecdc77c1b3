"""Reading and changing the clinic's settings (one row; defaults until an admin first saves)."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError

from app.clock import utcnow
from app.extensions import db
from app.models.audit_event import AuditAction
from app.models.clinic_settings import ClinicSettings
from app.models.user import User
from app.services import audit

SETTINGS_ID = 1


def current_settings() -> ClinicSettings:
    """The saved settings, or the defaults (not saved) while nobody has saved any."""
    return db.session.get(ClinicSettings, SETTINGS_ID) or ClinicSettings(id=SETTINGS_ID,
                                                                         require_staff_two_factor=False)


def save_settings(admin: User, *, require_staff_two_factor: bool) -> ClinicSettings:
    """Save the settings page, recording which admin changed it and when."""
    for attempt in range(2):
        row = db.session.get(ClinicSettings, SETTINGS_ID) or _first_row()
        row.require_staff_two_factor = require_staff_two_factor
        row.updated_at = utcnow()
        row.updated_by_id = admin.id
        audit.record(AuditAction.CLINIC_SETTINGS_CHANGED, actor_id=admin.id,
                     detail={"require_staff_two_factor": require_staff_two_factor})
        try:
            db.session.commit()
        except IntegrityError:  # another admin saved the very first row at the same moment
            db.session.rollback()
            if attempt:
                raise
        else:
            break
    return row


def _first_row() -> ClinicSettings:
    row = ClinicSettings(id=SETTINGS_ID)
    db.session.add(row)
    return row
