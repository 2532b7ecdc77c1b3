"""What providers tell us after a send: delivery receipts, bounces, and patients' opt-outs.

Webhook views verify the signature and hand the parsed fields here; this module maps each
provider's vocabulary onto our statuses and records the change as an event, through the same
compare-and-set transitions as everything else (a late or repeated receipt cannot move a
notification backwards). Twilio's requests carry no signed time, so each is acted on once, by
its message sid (`app.services.webhook_receipts`): a replayed one is acknowledged and changes
nothing.

A receipt can overtake the send it reports on: Twilio may call back before the worker has
stored the message's sid, SendGrid may report a mail delivered while its row is still
`sending`. Such a receipt is kept (`EarlyReceipt`) rather than dropped or applied to a row whose
outcome is not written yet (the worker would then lose its attempt). The worker applies kept
receipts right after it commits its outcomes, and the webhook applies its own right after it
commits keeping them: each side commits before it looks for the other's, so of two that race
at least one sees both. Receipts nothing claims are forgotten after EARLY_RECEIPT_RETENTION.

A receipt can also report on an attempt we took for failed: one that timed out after its
request went (ambiguous), which the provider had accepted after all. Neither Twilio nor SendGrid
takes an idempotency key for a send, so each request carries our reference instead (the Twilio
status callback URL's `notification` argument, SendGrid's custom arg of that name), and such a
late receipt of delivery finds its notification without the message id we never heard:
`transitions.confirm_delivered` then believes it over our outcome (a failed row ends delivered,
a waiting retry is withdrawn).
"""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from app.clock import utcnow
from app.extensions import db
from app.models.audit_event import AuditAction
from app.models.early_receipt import EarlyReceipt
from app.models.notification import EventKind, Notification, is_public_id
from app.models.status import Status
from app.models.user import User
from app.models.webhook_receipt import ReceiptKind
from app.services import audit
from app.services.contact import normalise_phone
from app.services.errors import ValidationError
from app.services.row_counts import changed_rows
from app.services.transitions import change_status, confirm_delivered
from app.services.webhook_receipts import first_receipt
from app.vocabulary import Channel

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
# The status callback URL's query argument that carries our reference (Twilio signs the URL).
TWILIO_REFERENCE_ARG = "notification"

# How long a receipt waits for the send it reports on to be recorded: normally well under a
# second; an hour covers a worker stalled on a slow provider. One whose worker died before
# recording the send never matches (the retry gets a new message id) and is forgotten.
EARLY_RECEIPT_RETENTION = timedelta(hours=1)


@dataclass(frozen=True)
class ReceiptOutcome:
    matched: bool  # the message is one of ours
    changed: bool  # its status moved
    replayed: bool = False  # this report was acted on before: nothing was done
    kept: bool = False  # it came before its send was recorded: it applies once that is


def apply_twilio_status(
    message_sid: str, status: str, error_code: str | None = None, reference: str | None = None
) -> ReceiptOutcome:
    """Apply one Twilio status callback, once; unknown statuses are refused, others acknowledged.

    `reference` is the notification's public id from the callback URL. Only a report of delivery
    is applied by it: a message id we never recorded is an ambiguous attempt the provider
    accepted, and its failure says nothing about the attempt that did get through.
    """
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
    outcome = _twilio_outcome(status, error_code)
    if outcome is None:
        db.session.commit()
        return ReceiptOutcome(matched=notification_id is not None, changed=False)
    target, detail = outcome
    referenced = None
    if notification_id is None and is_public_id(reference) and target is Status.DELIVERED:
        referenced = _sms_by_reference(reference)
        if referenced is not None and referenced[1] is not Status.SENDING:
            notification_id = referenced[0]
    if notification_id is not None:
        moved = _apply(target, [notification_id], "twilio", detail)
        db.session.commit()
        return ReceiptOutcome(matched=True, changed=bool(moved))
    # No row has this sid yet: the worker may not have recorded it (or, by the reference, its row
    # is being sent again after an ambiguous attempt). Keep the report for when it is recorded.
    early: dict[str, Any] = {"provider": "twilio", "provider_message_id": message_sid, "status": target,
                             "detail": detail}
    if referenced is not None:
        early.update(provider_message_id=None, notification_id=referenced[0])
    kept = _keep([early])
    db.session.commit()
    changed = _apply_kept(EarlyReceipt.id.in_(kept))  # ... unless it did so meanwhile
    db.session.commit()
    return ReceiptOutcome(matched=bool(changed), changed=bool(changed), kept=not changed)


def _twilio_outcome(status: str, error_code: str | None) -> tuple[Status, str] | None:
    """The status a Twilio report moves an SMS to, and why; None for a step before that."""
    if status in TWILIO_DELIVERED:
        return Status.DELIVERED, "the carrier confirmed delivery"
    if status in TWILIO_FAILED:
        return Status.FAILED, f"twilio reported {status}" + (f" (error {error_code[:10]})" if error_code else "")
    return None


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
    """Opt the phone's holders out of SMS (or back in), each change audited as the patient's own
    choice, made from their phone."""
    still_other_way = User.sms_opted_out_at.is_(None) if opted_out else User.sms_opted_out_at.is_not(None)
    changed = db.session.scalars(
        sa.update(User)
        .where(User.phone == phone, still_other_way)
        .values(sms_opted_out_at=utcnow() if opted_out else None)
        .returning(User.id)
        .execution_options(synchronize_session=False)
    ).all()
    action = AuditAction.SMS_OPTED_OUT if opted_out else AuditAction.SMS_OPTED_IN
    for user_id in changed:
        audit.record(action, actor_id=None, patient_id=user_id, detail={"source": "sms_reply"})


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
        if not is_public_id(reference) or not isinstance(kind, str):
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
    rows = _rows_by_reference({*delivered, *failed, *opted_out_refs})
    reported: dict[tuple[Status, str], list[int]] = defaultdict(list)
    for reference in delivered:
        if reference in rows:
            reported[Status.DELIVERED, "the mail server accepted it"].append(rows[reference][0])
    for reference, reason in failed.items():
        if reference in rows:
            reported[Status.FAILED, reason].append(rows[reference][0])
    status_of = dict(rows.values())
    changed = 0
    early: list[dict[str, Any]] = []
    for (target, detail), ids in reported.items():
        moved = set(_apply(target, ids, "sendgrid", detail))
        changed += len(moved)
        early.extend({"notification_id": nid, "provider": "sendgrid", "status": target, "detail": detail}
                     for nid in ids if nid not in moved and status_of[nid] is Status.SENDING)  # not recorded yet
    _set_email_opt_out([rows[r][0] for r in opted_out_refs if r in rows])
    kept = _keep(early)
    db.session.commit()
    if kept:
        changed += _apply_kept(EarlyReceipt.id.in_(kept))  # if the worker recorded it meanwhile
        db.session.commit()
    return changed


def _sms_by_reference(reference: str) -> tuple[int, Status] | None:
    row = db.session.execute(
        sa.select(Notification.id, Notification.status).where(
            Notification.public_id == reference, Notification.channel == Channel.SMS
        )
    ).first()
    return (row.id, row.status) if row else None


def _rows_by_reference(references: set[str]) -> dict[str, tuple[int, Status]]:
    if not references:
        return {}
    rows = db.session.execute(
        sa.select(Notification.public_id, Notification.id, Notification.status).where(
            Notification.public_id.in_(references), Notification.channel == Channel.EMAIL
        )
    )
    return {public_id: (notification_id, status) for public_id, notification_id, status in rows}


def _set_email_opt_out(notification_ids: list[int]) -> None:
    if not notification_ids:
        return
    recipients = sa.select(Notification.user_id).where(Notification.id.in_(notification_ids))
    changed = db.session.scalars(
        sa.update(User)
        .where(User.id.in_(recipients), User.email_opted_out_at.is_(None))
        .values(email_opted_out_at=utcnow())
        .returning(User.id)
        .execution_options(synchronize_session=False)
    ).all()
    for user_id in changed:
        audit.record(AuditAction.EMAIL_OPTED_OUT, actor_id=None, patient_id=user_id, detail={"source": "sendgrid"})


def apply_receipts_kept_for(notification_ids: Collection[int]) -> int:
    """Apply receipts that came before these notifications' outcomes were recorded (the worker
    calls this after committing them, whatever they were: a receipt for an ambiguous earlier
    attempt applies to a retry or a failure too); return how many notifications changed."""
    return _apply_kept(Notification.id.in_(list(notification_ids))) if notification_ids else 0


def forget_early_receipts(*, now: datetime | None = None) -> int:
    """Delete kept receipts that nothing claimed within EARLY_RECEIPT_RETENTION; return how many."""
    cutoff = (now or utcnow()) - EARLY_RECEIPT_RETENTION
    result = db.session.execute(sa.delete(EarlyReceipt).where(EarlyReceipt.received_at < cutoff))
    db.session.commit()
    return changed_rows(result)


def _keep(receipts: list[dict[str, Any]]) -> list[int]:
    if not receipts:
        return []
    now = utcnow()
    stmt = sa.insert(EarlyReceipt).returning(EarlyReceipt.id)
    rows = [{**receipt, "detail": receipt["detail"][:200], "received_at": now} for receipt in receipts]
    return list(db.session.scalars(stmt, rows))


def _apply_kept(which: sa.ColumnElement[bool]) -> int:
    """Apply the kept receipts `which` selects whose send is recorded, then forget them.

    A receipt whose row is still `sending` stays for the worker's outcome. Each applies through
    the same compare-and-set as a receipt on time, so one for a send that failed or was retried
    meanwhile changes nothing, and two actors applying the same receipt change the row once.
    """
    reports_on = sa.or_(
        Notification.id == EarlyReceipt.notification_id,
        sa.and_(
            EarlyReceipt.notification_id.is_(None),
            Notification.provider == EarlyReceipt.provider,
            Notification.provider_message_id == EarlyReceipt.provider_message_id,
        ),
    )
    found = db.session.execute(
        sa.select(EarlyReceipt.id, EarlyReceipt.provider, EarlyReceipt.status, EarlyReceipt.detail,
                  Notification.id.label("notification_id"))
        .join(Notification, reports_on)
        .where(which, Notification.status != Status.SENDING)
        .order_by(EarlyReceipt.id)
    ).all()
    if not found:
        return 0
    grouped: dict[tuple[Status, str, str], list[int]] = {}
    for receipt in found:
        grouped.setdefault((receipt.status, receipt.provider, receipt.detail), []).append(receipt.notification_id)
    changed = sum(len(_apply(target, ids, provider, detail)) for (target, provider, detail), ids in grouped.items())
    db.session.execute(sa.delete(EarlyReceipt).where(EarlyReceipt.id.in_([receipt.id for receipt in found])))
    return changed


def _apply(target: Status, ids: list[int], provider: str, detail: str) -> list[int]:
    """Move sent notifications to what a receipt reports: delivered, or failed (bounced, undelivered)."""
    if not ids:
        return []
    now = utcnow()
    if target is Status.DELIVERED:
        return confirm_delivered(ids, detail=detail, provider=provider, now=now)
    return change_status(ids, Status.FAILED, EventKind.FAILED, only_from=[Status.SENT],
                         values={"failed_at": now, "status_reason": detail[:200]},
                         detail=detail, provider=provider, now=now)
