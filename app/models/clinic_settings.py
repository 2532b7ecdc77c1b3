"""The clinic's own choices, set by its admins from the dashboard (not by operators' environment)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import Model
from app.models.types import UTCDateTime

DEFAULT_SMS_SEGMENT_LIMIT = 3
SMS_SEGMENT_LIMIT_MAX = 10  # Twilio's own limit: 1,600 characters


class ClinicSettings(Model):
    """One row (id 1), written the first time an admin saves the settings page."""

    __tablename__ = "clinic_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Admins and practitioners must use two-factor sign-in: those without it set it up before
    # anything else.
    require_staff_two_factor: Mapped[bool] = mapped_column(default=False)
    # Per notification type, the channels besides the inbox a patient gets until they choose
    # ({"medication_reminder": ["push"]}); None or a missing type: the suggested defaults.
    default_channels: Mapped[dict[str, list[str]] | None] = mapped_column(sa.JSON)
    # Where a message goes when its channel cannot reach the patient (["push", "sms", "email"]);
    # None: that default.
    fallback_order: Mapped[list[str] | None] = mapped_column(sa.JSON)
    # The most SMS segments one message may cost: a template whose fixed text alone is longer
    # is refused when it is saved.
    sms_segment_limit: Mapped[int] = mapped_column(default=DEFAULT_SMS_SEGMENT_LIMIT,
                                                   server_default=str(DEFAULT_SMS_SEGMENT_LIMIT))
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
