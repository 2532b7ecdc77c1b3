"""Webhook receipts: each key acted on once, even by racing requests; old report keys forgotten."""

import threading
from datetime import timedelta

import sqlalchemy as sa

from app.clock import utcnow
from app.extensions import db
from app.models.webhook_receipt import ReceiptKind, WebhookReceipt
from app.services.webhook_receipts import first_receipt, forget_expired_receipts


def stored_keys() -> set[tuple[ReceiptKind, str]]:
    return {tuple(row) for row in db.session.execute(sa.select(WebhookReceipt.kind, WebhookReceipt.key))}


def test_a_key_is_new_once(app):
    assert first_receipt(ReceiptKind.TWILIO_INBOUND, "SM1")
    db.session.commit()
    assert not first_receipt(ReceiptKind.TWILIO_INBOUND, "SM1")


def test_the_same_key_of_another_kind_is_new(app):
    assert first_receipt(ReceiptKind.TWILIO_INBOUND, "SM1")
    assert first_receipt(ReceiptKind.TWILIO_STATUS, "SM1")


def test_a_key_whose_transaction_rolled_back_is_new_again(app):
    assert first_receipt(ReceiptKind.TWILIO_INBOUND, "SM1")
    db.session.rollback()
    assert first_receipt(ReceiptKind.TWILIO_INBOUND, "SM1")


def test_two_racing_requests_with_one_key_act_once(app):
    assert first_receipt(ReceiptKind.TWILIO_INBOUND, "SM1")  # the first request, not yet committed
    second: list[bool] = []

    def second_request() -> None:
        with app.app_context():
            second.append(first_receipt(ReceiptKind.TWILIO_INBOUND, "SM1"))
            db.session.commit()

    thread = threading.Thread(target=second_request)
    thread.start()
    thread.join(timeout=0.5)
    assert thread.is_alive(), "the second request must wait for the first to finish"
    db.session.commit()
    thread.join(timeout=10)
    assert second == [False]


def test_report_keys_past_their_retention_are_forgotten_and_inbound_keys_kept(app):
    now = utcnow()
    old = now - timedelta(days=app.config["WEBHOOK_STATUS_RECEIPT_DAYS"], minutes=1)
    db.session.add_all([
        WebhookReceipt(kind=ReceiptKind.TWILIO_STATUS, key="SMold:delivered", received_at=old),
        WebhookReceipt(kind=ReceiptKind.TWILIO_STATUS, key="SMnew:delivered", received_at=now),
        WebhookReceipt(kind=ReceiptKind.TWILIO_INBOUND, key="SMstop", received_at=old),
    ])
    db.session.commit()
    assert forget_expired_receipts(now=now) == 1
    assert stored_keys() == {(ReceiptKind.TWILIO_STATUS, "SMnew:delivered"), (ReceiptKind.TWILIO_INBOUND, "SMstop")}
