"""Reading and changing the clinic's settings (one row; defaults until an admin first saves)."""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence

from sqlalchemy.exc import IntegrityError

from app.clock import utcnow
from app.extensions import db
from app.models.audit_event import AuditAction
from app.models.clinic_settings import DEFAULT_SMS_SEGMENT_LIMIT, ClinicSettings
from app.models.user import User
from app.services import audit
from app.services.channel_choice import (
    CHOOSABLE,
    CHOOSABLE_TYPES,
    SUGGESTED_DEFAULTS,
    ClinicDefaults,
    checked_grid,
    grid_tokens,
)
from app.services.errors import ValidationError
from app.vocabulary import Channel, NotificationType

SETTINGS_ID = 1


def current_settings() -> ClinicSettings:
    """The saved settings, or the defaults (not saved) while nobody has saved any."""
    return db.session.get(ClinicSettings, SETTINGS_ID) or ClinicSettings(
        id=SETTINGS_ID, require_staff_two_factor=False, sms_segment_limit=DEFAULT_SMS_SEGMENT_LIMIT
    )


DEFAULT_FALLBACK_ORDER = (Channel.PUSH, Channel.SMS, Channel.EMAIL)
# Every order an admin may choose, as the settings page offers them.
FALLBACK_ORDERS = tuple(itertools.permutations(DEFAULT_FALLBACK_ORDER))


def fallback_order() -> tuple[Channel, ...]:
    """The order of channels a message falls back on (app/services/fallback.py)."""
    saved = current_settings().fallback_order
    return tuple(Channel(c) for c in saved) if saved else DEFAULT_FALLBACK_ORDER


def channel_defaults() -> ClinicDefaults:
    """Per notification type, the channels besides the inbox a patient who made no choice gets:
    what an admin saved, the suggested defaults for any type they have not."""
    saved = current_settings().default_channels or {}
    return {
        kind: frozenset(Channel(c) for c in saved[kind.value]) if kind in CHOOSABLE_TYPES and kind.value in saved
        else SUGGESTED_DEFAULTS[kind]
        for kind in NotificationType
    }


def save_settings(admin: User, *, require_staff_two_factor: bool,
                  default_channels: Mapping[str, Sequence[str]] | None = None,
                  fallback: Sequence[str] | None = None, sms_segment_limit: int | None = None) -> ClinicSettings:
    """Save the settings page, recording which admin changed it, when, and which types' default
    channels changed.

    `default_channels` (type -> channels besides the inbox) replaces the defaults of the types it
    names; None leaves them all as they are. `fallback` is the order of channels to fall back
    on, one of FALLBACK_ORDERS; None leaves it as it is. `sms_segment_limit` None keeps the limit; a lower
    one does not touch templates already saved: it applies to the next template saved.

    Raises:
        ValidationError: an unknown type or channel; nothing was saved.
    """
    wanted = checked_grid(default_channels or {})
    order = _checked_order(fallback)
    for attempt in range(2):
        row = db.session.get(ClinicSettings, SETTINGS_ID) or _first_row()
        before = channel_defaults()
        changed = sorted(kind for kind, chosen in wanted.items()
                         if set(chosen) != {c.value for c in before[NotificationType(kind)]})
        row.require_staff_two_factor = require_staff_two_factor
        row.default_channels = {kind.value: [c.value for c in CHOOSABLE if c in before[kind]]
                                for kind in CHOOSABLE_TYPES} | wanted
        if order is not None:
            row.fallback_order = [c.value for c in order]
        new_limit = sms_segment_limit if sms_segment_limit not in (None, row.sms_segment_limit) else None
        if new_limit is not None:
            row.sms_segment_limit = new_limit
        row.updated_at = utcnow()
        row.updated_by_id = admin.id
        audit.record(AuditAction.CLINIC_SETTINGS_CHANGED, actor_id=admin.id,
                     detail={"require_staff_two_factor": require_staff_two_factor,
                             "fallback": [c.value for c in order] if order else None,
                             "defaults": grid_tokens({kind: wanted[kind] for kind in changed}),
                             "sms_segment_limit": new_limit})
        try:
            db.session.commit()
        except IntegrityError:  # another admin saved the very first row at the same moment
            db.session.rollback()
            if attempt:
                raise
        else:
            break
    return row


def _checked_order(fallback: Sequence[str] | None) -> tuple[Channel, ...] | None:
    if fallback is None:
        return None
    if not all(Channel.has_value(c) for c in fallback) or tuple(Channel(c) for c in fallback) not in FALLBACK_ORDERS:
        raise ValidationError({"fallback_order": "Choose one of the orders offered"})
    return tuple(Channel(c) for c in fallback)


def _first_row() -> ClinicSettings:
    row = ClinicSettings(id=SETTINGS_ID)
    db.session.add(row)
    return row
