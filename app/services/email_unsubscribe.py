"""One-click email unsubscribe (RFC 8058): the link every non-urgent email carries, and what it does.

The link itself is the authority. It is signed with the app's secret, names the patient, the kind
of message and a digest of the address the email went to, and expires. Mail clients POST to it
with no cookie and no form token (RFC 8058), so it needs no sign-in; and a link for an address the
patient no longer has opts nothing out, since it would stop mail to an address that never asked.
Health alerts carry no link: they must reach the patient, and a patient cannot opt out of them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from app.clock import utcnow
from app.extensions import db
from app.models.audit_event import AuditAction
from app.models.user import User
from app.services import audit
from app.services.channel_choice import chosen_channels
from app.services.clinic_settings import channel_defaults
from app.services.errors import NotFound, ValidationError
from app.vocabulary import Channel, NotificationType, Role

PATH = "/unsubscribe/"
ONE_CLICK_BODY = "List-Unsubscribe=One-Click"  # what RFC 8058 mail clients POST
_SALT = "email-unsubscribe"


@dataclass(frozen=True, slots=True)
class Unsubscribe:
    """What a valid link may stop: `kind` emails (or all email) to `address` of `patient`."""

    patient: User
    kind: NotificationType
    address: str

    @property
    def masked_address(self) -> str:
        """Enough of the address for its owner to know it, on a page anyone with the link sees."""
        name, _, domain = self.address.partition("@")
        return f"{name[:1]}•••@{domain}"

    @property
    def stopped_kind(self) -> bool:
        return Channel.EMAIL not in chosen_channels(self.patient.channel_choices, self.kind, channel_defaults())

    @property
    def stopped_all(self) -> bool:
        return self.patient.email_opted_out_at is not None


class LinkExpired(ValidationError):
    """A genuine link past its time: the patient can still change their preferences signed in."""


def link_for(patient_id: int, address: str, kind: NotificationType, config: Mapping[str, Any]) -> str | None:
    """The unsubscribe URL for an email of `kind` to `address`; None for kinds that carry none."""
    if kind.is_urgent:
        return None
    token = _signer(config["SECRET_KEY"]).dumps({"p": patient_id, "t": kind.value, "a": _digest(address)})
    return config["PUBLIC_BASE_URL"].rstrip("/") + PATH + token


def read_link(token: str) -> Unsubscribe:
    """The patient and kind a link names, if it is genuine, current, and for their present address.

    Raises:
        NotFound: not a link this clinic made, or its patient or address is gone.
        LinkExpired: a genuine link older than UNSUBSCRIBE_LINK_DAYS.
    """
    signer = _signer(current_app.config["SECRET_KEY"])
    max_age = int(timedelta(days=current_app.config["UNSUBSCRIBE_LINK_DAYS"]).total_seconds())
    try:
        claims = signer.loads(token, max_age=max_age)
    except SignatureExpired:
        raise LinkExpired({"link": "This link has expired"}) from None
    except BadSignature:
        raise NotFound("No such unsubscribe link") from None
    if not isinstance(claims, dict) or not NotificationType.has_value(claims.get("t")):
        raise NotFound("No such unsubscribe link")
    patient = db.session.get(User, claims.get("p")) if isinstance(claims.get("p"), int) else None
    if patient is None or patient.role is not Role.PATIENT or not patient.email:
        raise NotFound("No such unsubscribe link")
    if _digest(patient.email) != claims.get("a"):
        raise NotFound("This link is for an address no longer on file")
    return Unsubscribe(patient=patient, kind=NotificationType(claims["t"]), address=patient.email)


def unsubscribe(token: str, *, everything: bool = False) -> Unsubscribe:
    """Stop the link's kind of email to its patient (or all email), once; recorded on the patient.

    Stopping one kind turns email off for that type in the patient's preferences, as they would
    on their Preferences page; stopping all is the same opt-out a bounce or spam report sets.

    Raises:
        NotFound, LinkExpired: as `read_link`.
    """
    link = read_link(token)
    patient = link.patient
    if everything and not link.stopped_all:
        patient.email_opted_out_at = utcnow()
        audit.record(AuditAction.EMAIL_OPTED_OUT, actor_id=None, patient_id=patient.id,
                     detail={"source": "unsubscribe_link", "type": "all"})
    elif not everything and not link.stopped_kind:
        now_on = chosen_channels(patient.channel_choices, link.kind, channel_defaults()) - {Channel.EMAIL}
        patient.channel_choices = {
            **patient.channel_choices, link.kind.value: [c.value for c in Channel if c in now_on],
        }
        audit.record(AuditAction.EMAIL_OPTED_OUT, actor_id=None, patient_id=patient.id,
                     detail={"source": "unsubscribe_link", "type": link.kind.value})
    db.session.commit()
    return link


def _signer(secret: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt=_SALT)


def _digest(address: str) -> str:
    """Enough of a digest to tell an address changed, without the address in the link."""
    return hashlib.sha256(address.strip().lower().encode()).hexdigest()[:16]
