"""Provider receipts that arrived before the send they report on was recorded.

A provider can report on a message before our worker has stored what the provider answered:
Twilio may post a status callback for a sid the worker has not committed yet, and SendGrid may
report a mail delivered while its row is still `sending`. Such a receipt is kept here, and
applied as soon as the send is recorded (by the worker after it stores its outcomes, or by the
webhook itself if the outcome was stored meanwhile). Unmatched ones are forgotten after a while.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.clock import utcnow
from app.extensions import Model
from app.models.status import Status
from app.models.types import UTCDateTime, enum_type


class EarlyReceipt(Model):
    __tablename__ = "early_receipts"
    __table_args__ = (
        sa.Index("ix_early_receipts_message", "provider", "provider_message_id"),
        sa.Index("ix_early_receipts_received", "received_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(sa.String(20))
    # Which send it reports on: by the provider's message id (Twilio's sid), or by our row when
    # the receipt names our reference (SendGrid's custom args).
    provider_message_id: Mapped[str | None] = mapped_column(sa.String(255))
    notification_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("notifications.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[Status] = mapped_column(enum_type(Status))  # what it reports: delivered or failed
    detail: Mapped[str] = mapped_column(sa.String(200))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
