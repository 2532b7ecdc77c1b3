"""Which channels a patient gets for a send, and why a channel is skipped.

The one place for channel choice: compose, the API, the CLI and reminders all come here, so a
patient's preferences and opt-outs mean the same thing whichever way a message is sent.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from app.models.user import User
from app.vocabulary import Channel


@dataclass(frozen=True, slots=True)
class ChannelChoice:
    channel: Channel
    suppressed_reason: str | None = None  # None: deliver on this channel

    @property
    def deliverable(self) -> bool:
        return self.suppressed_reason is None


def choose_channels(
    patient: User,
    requested: Sequence[Channel] | None,
    *,
    has_push_device: bool,
    urgent: bool = False,
) -> list[ChannelChoice]:
    """Resolve the channels for one patient.

    `requested=None` means "the patient's preferences"; the in-app inbox is always among them,
    because SMS and push may carry only a notice that points there. An urgent send (a health
    alert) goes instead on every channel, whatever the preferences: a channel the patient cannot
    be reached on (no number, no device, an opt-out) is then a suppressed row with its reason,
    so the sender sees where the alert could not go. A channel asked for explicitly but turned
    off by the patient is suppressed, unless the send is urgent; an opt-out (STOP, a bounce) is
    never overridden.
    """
    preferred = {Channel(c) for c in patient.preferred_channels if Channel.has_value(c)} | {Channel.IN_APP}
    if requested is None:
        wanted = set(Channel) if urgent else preferred
        channels = [Channel.IN_APP, *[c for c in Channel if c in wanted and c is not Channel.IN_APP]]
    else:
        channels = list(dict.fromkeys(requested))
    return [
        ChannelChoice(
            channel,
            unreachable_reason(patient, channel, has_push_device=has_push_device)
            or (None if urgent or channel in preferred else "turned off in the patient's preferences"),
        )
        for channel in channels
    ]


class Contact(Protocol):
    """Where a patient can be reached: a User, or a row loaded with the same columns."""

    phone: str | None
    email: str | None
    sms_opted_out_at: datetime | None
    email_opted_out_at: datetime | None


def unreachable_reason(contact: Contact, channel: Channel, *, has_push_device: bool) -> str | None:
    """Why `channel` cannot reach this patient, or None.

    Asked when a send is created and again when it is delivered: a STOP or a bounce may have
    arrived in between.
    """
    if channel is Channel.SMS:
        if not contact.phone:
            return "no phone number"
        if contact.sms_opted_out_at is not None:
            return "opted out of SMS"
    elif channel is Channel.EMAIL:
        if not contact.email:
            return "no email address"
        if contact.email_opted_out_at is not None:
            return "opted out of email"
    elif channel is Channel.PUSH and not has_push_device:
        return "no push device"
    return None
