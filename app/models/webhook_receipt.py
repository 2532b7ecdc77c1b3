"""Provider webhooks already acted on, so that a replayed one changes nothing.

Twilio signs a request without a timestamp: a captured STOP, posted again months later, carries
a valid signature. What makes each request unique is the id Twilio gives the message (and, for
delivery reports, the status reported), so that id is stored once, in the same transaction as
what the request changed; a second request with it finds the row and does nothing.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.clock import utcnow
from app.extensions import Model
from app.models.types import UTCDateTime, enum_type
from app.vocabulary import Vocabulary


class ReceiptKind(Vocabulary):
    TWILIO_INBOUND = "twilio_inbound"  # key: the inbound message's sid
    TWILIO_STATUS = "twilio_status"  # key: "<message sid>:<status>"


class WebhookReceipt(Model):
    __tablename__ = "webhook_receipts"
    __table_args__ = (
        sa.UniqueConstraint("kind", "key"),
        sa.Index("ix_webhook_receipts_expiry", "kind", "received_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[ReceiptKind] = mapped_column(enum_type(ReceiptKind, length=20))
    key: Mapped[str] = mapped_column(sa.String(100))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
