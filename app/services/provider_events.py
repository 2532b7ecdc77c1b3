"""What providers tell us after a send: delivery receipts, bounces, and patients' opt-outs.

Webhook views verify the signature and hand the parsed fields here; this module maps each
provider's vocabulary onto our statuses and records the change as an event, through the same
compare-and-set transitions as everything else (a late or repeated receipt cannot move a
notification backwards). Twilio's requests carry no signed time, so each is acted on once, by
its message sid (`app.services.webhook_receipts`): a replayed one is acknowledged and changes
nothing.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from app.clock import utcnow
from app.extensions import db
from app.models.enums import Channel
from app.models.notification import EventKind, Notification
from app.models.status import Status
from app.models.user import User
from app.models.webhook_receipt import ReceiptKind
from app.services.contact import normalise_phone
from app.services.errors import ValidationError
from app.services.transitions import change_status
from app.services.webhook_receipts import first_receipt

log = logging.getLogger(__name__)

# Twilio MessageStatus values: only these change our status; the rest are steps before them.
TWILIO_DELIVERED = {"delivered", "read"}
TWILIO_FAILED = {"undelivered", "failed"}
TWILIO_IN_PROGRESS = {"accepted", "scheduled", "queued", "sending", "sent", "receiving", "received", "canceled"}

# Keywords carriers and Twilio treat as opt-out and opt-in (case-insensitive, whole message).
STOP_WORDS = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"}
START_WORDS = {"START", "YES", "UNSTOP", "OPTIN"}
HELP_WORDS = {"HELP", "INFO"}

# Twilio's message sids are two letters and 32 hex digits; any id of its alphabet is accepted.
TWILIO_SID = re.compile(r"[A-Za-z0-9]{1,64}")

SENDGRID_DELIVERED = {"delivered"}
SENDGRID_FAILED = {"bounce", "dropped"}
SENDGRID_OPT_OUT = {"spamreport", "unsubscribe", "group_unsubscribe"}
SENDGRID_REFERENCE_ARG = "notification"


@dataclass(frozen=True)
class ReceiptOutcome:
    matched: bool  # the message is one of ours
    changed: bool  # its status moved
    replayed: bool = False  # this report was acted on before: nothing was done


def apply_twilio_status(message_sid: str, status: str, error_code: str | None = None) -> ReceiptOutcome:
    """Apply one Twilio status callback, once; unknown statuses are refused, others acknowledged."""
    status = (status or "").strip().lower()
    if not message_sid or not status:
        raise ValidationError({"MessageStatus": "MessageSid and MessageStatus are required"})
    if status not in TWILIO_DELIVERED | TWILIO_FAILED | TWILIO_IN_PROGRESS:
        raise ValidationError({"MessageStatus": f"Unknown message status {status[:30]!r}"})
    _check_sid(message_sid)
    if not first_receipt(ReceiptKind.TWILIO_STATUS, f"{message_sid}:{status}"):
        return ReceiptOutcome(matched=False, changed=False, replayed=True)
    notification_id = db.session.scalar(
        sa.select(Notification.id).where(
            Notification.provider == "twilio", Notification.provider_message_id == message_sid
        )
    )
    moved: list[int] = []
    if notification_id is not None and status in TWILIO_DELIVERED:
        moved = _delivered([notification_id], "twilio", "the carrier confirmed delivery")
    elif notification_id is not None and status in TWILIO_FAILED:
        reason = f"twilio reported {status}" + (f" (error {error_code[:10]})" if error_code else "")
        moved = _failed([notification_id], "twilio", reason)
    db.session.commit()
    return ReceiptOutcome(matched=notification_id is not None, changed=bool(moved))


@dataclass(frozen=True)
class InboundReply:
    """What to answer an inbound SMS with (None: say nothing)."""

    message: str | None


def apply_inbound_sms(message_sid: str, from_number: str, body: str, *, clinic: str) -> InboundReply:
    """STOP / START / HELP from a patient's phone, acted on once; anything else, or a replay of
    a message already acted on, gets no automatic answer."""
    if not message_sid:
        raise ValidationError({"MessageSid": "MessageSid is required"})
    _check_sid(message_sid)
    keyword = (body or "").strip().upper()
    try:
        phone = normalise_phone(from_number or "")
    except ValueError as exc:
        raise ValidationError({"From": "not a valid phone number"}) from exc
    reply = InboundReply(None)
    if not first_receipt(ReceiptKind.TWILIO_INBOUND, message_sid):
        return reply
    if keyword in STOP_WORDS:
        _set_sms_opt_out(phone, opted_out=True)
        reply = InboundReply(f"{clinic}: you will get no more SMS from us. Reply START to receive them again.")
    elif keyword in START_WORDS:
        _set_sms_opt_out(phone, opted_out=False)
        reply = InboundReply(f"{clinic}: SMS are back on. Reply STOP to stop them.")
    elif keyword in HELP_WORDS:
        reply = InboundReply(f"{clinic}: reminders and updates from your clinic. Reply STOP to stop SMS.")
    db.session.commit()
    return reply


def _check_sid(sid: str) -> None:
    if not TWILIO_SID.fullmatch(sid):
        raise ValidationError({"MessageSid": "MessageSid is not a Twilio message id"})


def _set_sms_opt_out(phone: str, *, opted_out: bool) -> None:
    db.session.execute(
        sa.update(User)
        .where(User.phone == phone)
        .values(sms_opted_out_at=utcnow() if opted_out else None)
        .execution_options(synchronize_session=False)
    )


def apply_sendgrid_events(events: Iterable[Mapping[str, Any]]) -> int:
    """Apply a batch of SendGrid events; returns how many notifications changed.

    Events carry our reference in their custom args (the provider sets it on every mail).
    Malformed entries are skipped: SendGrid retries a whole batch on any error answer, and one
    bad entry must not make the good ones arrive again and again.
    """
    delivered: list[str] = []
    failed: dict[str, str] = {}
    opted_out_refs: list[str] = []
    for event in events:
        if not isinstance(event, Mapping):
            continue
        reference = event.get(SENDGRID_REFERENCE_ARG)
        kind = event.get("event")
        if not isinstance(reference, str) or not isinstance(kind, str):
            continue
        if kind in SENDGRID_DELIVERED:
            delivered.append(reference)
        elif kind in SENDGRID_FAILED:
            failed[reference] = f"sendgrid reported {kind}" + (
                f" ({str(event.get('type'))[:20]})" if event.get("type") else ""
            )
            if kind == "bounce" and event.get("type") != "blocked":
                opted_out_refs.append(reference)  # a hard bounce: the address does not exist
        elif kind in SENDGRID_OPT_OUT:
            opted_out_refs.append(reference)
    ids = _ids_by_reference({*delivered, *failed, *opted_out_refs})
    changed = len(_delivered([ids[r] for r in delivered if r in ids], "sendgrid", "the mail server accepted it"))
    for reference, reason in failed.items():
        if reference in ids:
            changed += len(_failed([ids[reference]], "sendgrid", reason))
    _set_email_opt_out([ids[r] for r in opted_out_refs if r in ids])
    db.session.commit()
    return changed


def _ids_by_reference(references: set[str]) -> dict[str, int]:
    if not references:
        return {}
    rows = db.session.execute(
        sa.select(Notification.public_id, Notification.id).where(
            Notification.public_id.in_(references), Notification.channel == Channel.EMAIL
        )
    )
    return dict(rows.all())


def _set_email_opt_out(notification_ids: list[int]) -> None:
    if not notification_ids:
        return
    recipients = sa.select(Notification.user_id).where(Notification.id.in_(notification_ids))
    db.session.execute(
        sa.update(User)
        .where(User.id.in_(recipients), User.email_opted_out_at.is_(None))
        .values(email_opted_out_at=utcnow())
        .execution_options(synchronize_session=False)
    )


def _delivered(ids: list[int], provider: str, detail: str) -> list[int]:
    return change_status(ids, Status.DELIVERED, EventKind.DELIVERED, only_from=[Status.SENT, Status.SENDING],
                         values={"delivered_at": utcnow()}, detail=detail, provider=provider) if ids else []


def _failed(ids: list[int], provider: str, reason: str) -> list[int]:
    now = utcnow()
    return change_status(ids, Status.FAILED, EventKind.FAILED, only_from=[Status.SENT],
                         values={"failed_at": now, "status_reason": reason[:200]},
                         detail=reason, provider=provider, now=now) if ids else []
