"""Acting on each provider webhook once: the replay guard for requests signed without a time.

`first_receipt` adds the request's key to the caller's transaction, before anything it changes;
the caller commits both together. The key is unique in the database, so of two requests with
the same key only one inserts it, even when they race: the second waits for the first to
commit and then finds the key taken (PostgreSQL), or waits for the write lock (SQLite).

Retention: delivery-report keys are forgotten after WEBHOOK_STATUS_RECEIPT_DAYS (30), by the
sweeper. Reports come within minutes of a send and a status only moves forward, so a month on
a replayed report finds its notification at or past the status it reports. Inbound-message
keys are kept: a STOP or START replayed at any age would still flip a patient's consent, and
they are few (one per SMS a patient sends the clinic).
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.dialects import postgresql, sqlite

from app.clock import utcnow
from app.extensions import db
from app.models.webhook_receipt import ReceiptKind, WebhookReceipt
from app.services.row_counts import changed_rows


def first_receipt(kind: ReceiptKind, key: str) -> bool:
    """Record the request `key` in the current transaction; False when it was acted on before."""
    dialect = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
    stmt = (
        dialect.insert(WebhookReceipt)
        .values(kind=kind, key=key, received_at=utcnow())
        .on_conflict_do_nothing(index_elements=["kind", "key"])
        .returning(WebhookReceipt.id)
    )
    return db.session.execute(stmt).first() is not None


def forget_expired_receipts(*, now: datetime | None = None) -> int:
    """Delete the delivery-report keys past their retention; return how many went."""
    cutoff = (now or utcnow()) - timedelta(days=current_app.config["WEBHOOK_STATUS_RECEIPT_DAYS"])
    result = db.session.execute(
        sa.delete(WebhookReceipt).where(
            WebhookReceipt.kind == ReceiptKind.TWILIO_STATUS, WebhookReceipt.received_at < cutoff
        )
    )
    db.session.commit()
    return changed_rows(result)
