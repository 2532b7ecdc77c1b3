"""Which channels a patient gets for a send, and why a channel is skipped.

The one place for channel choice: compose, the API, the CLI and reminders all come here, so a
patient's preferences and opt-outs mean the same thing whichever way a message is sent.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from app.models.user import User
from app.services.errors import ValidationError
from app.vocabulary import Channel, NotificationType

# The inbox is always on: SMS and push may carry only a notice that points there.
CHOOSABLE = (Channel.SMS, Channel.EMAIL, Channel.PUSH)
# Urgent types (health alerts) go on every channel whatever anyone chose, so nobody chooses for them.
CHOOSABLE_TYPES = tuple(kind for kind in NotificationType if not kind.is_urgent)

# What a clinic starts with until an admin changes it: what a patient of that clinic gets for a
# type they made no choice for.
SUGGESTED_DEFAULTS: Mapping[NotificationType, frozenset[Channel]] = {
    NotificationType.APPOINTMENT_REMINDER: frozenset({Channel.SMS, Channel.EMAIL}),
    NotificationType.APPOINTMENT_CONFIRMATION: frozenset({Channel.SMS, Channel.EMAIL}),
    NotificationType.APPOINTMENT_CANCELLATION: frozenset({Channel.SMS, Channel.EMAIL}),
    NotificationType.MEDICATION_REMINDER: frozenset({Channel.PUSH}),
    NotificationType.TREATMENT_UPDATE: frozenset({Channel.EMAIL}),
    NotificationType.PROGRESS_UPDATE: frozenset({Channel.EMAIL}),
    NotificationType.HEALTH_ALERT: frozenset(CHOOSABLE),
}

ClinicDefaults = Mapping[NotificationType, frozenset[Channel]]


TURNED_OFF = "turned off in the patient's preferences"


@dataclass(frozen=True, slots=True)
class ChannelChoice:
    channel: Channel
    suppressed_reason: str | None = None  # None: deliver on this channel

    @property
    def deliverable(self) -> bool:
        return self.suppressed_reason is None

    @property
    def unreachable(self) -> bool:
        """Suppressed because the patient cannot be reached on it (not by their own choice)."""
        return self.suppressed_reason not in (None, TURNED_OFF)


def chosen_channels(choices: Mapping[str, Sequence[str]], kind: NotificationType,
                    clinic_defaults: ClinicDefaults) -> frozenset[Channel]:
    """The channels besides the inbox a patient gets `kind` on: their own choice for that type,
    else the clinic's default for it (a patient who never chose follows the clinic)."""
    own = choices.get(kind.value)
    if own is None:
        return clinic_defaults.get(kind, SUGGESTED_DEFAULTS[kind])
    return frozenset(Channel(c) for c in own if Channel.has_value(c) and Channel(c) in CHOOSABLE)


def same_for_every_type(channels: Collection[str] | None) -> dict[str, list[str]]:
    """The choice of a patient who wants `channels` for every type; None: no choice at all (every
    type follows the clinic's defaults)."""
    if channels is None:
        return {}
    return {kind.value: [c.value for c in CHOOSABLE if c.value in channels] for kind in CHOOSABLE_TYPES}


def grid_tokens(grid: Mapping[str, Sequence[str]]) -> list[str]:
    """A grid for the audit log: "type:sms.email" per type ("type:none" for the inbox alone)."""
    return [f"{kind}:{'.'.join(chosen) or 'none'}" for kind, chosen in grid.items()]


def checked_grid(grid: Mapping[str, Sequence[str]]) -> dict[str, list[str]]:
    """A type x channel choice as stored, in the vocabulary's order.

    Shared by the clinic's defaults and a patient's preferences, which are the same grid.

    Raises:
        ValidationError: an unknown or unchoosable type or channel (under "channels").
    """
    types = {kind.value for kind in CHOOSABLE_TYPES}
    channels = {channel.value for channel in CHOOSABLE}
    if any(kind not in types for kind in grid):
        raise ValidationError({"channels": f"Choose for: {', '.join(k.label for k in CHOOSABLE_TYPES)}"})
    if any(channel not in channels for chosen in grid.values() for channel in chosen):
        raise ValidationError({"channels": f"Choose from: {', '.join(c.label for c in CHOOSABLE)}"})
    return {kind: [c.value for c in CHOOSABLE if c.value in chosen] for kind, chosen in grid.items()}


def choose_channels(
    patient: User,
    kind: NotificationType,
    requested: Sequence[Channel] | None,
    *,
    has_push_device: bool,
    clinic_defaults: ClinicDefaults,
) -> list[ChannelChoice]:
    """Resolve the channels of a `kind` notification for one patient.

    `requested=None` means "the patient's preferences for this type" (or the clinic's default for
    it where they made no choice); the in-app inbox is always among them,
    because SMS and push may carry only a notice that points there. An urgent send (a health
    alert) goes instead on every channel, whatever the preferences: a channel the patient cannot
    be reached on (no number, no device, an opt-out) is then a suppressed row with its reason,
    so the sender sees where the alert could not go. A channel asked for explicitly but turned
    off by the patient is suppressed, unless the send is urgent; an opt-out (STOP, a bounce) is
    never overridden.
    """
    urgent = kind.is_urgent
    preferred = chosen_channels(patient.channel_choices, kind, clinic_defaults) | {Channel.IN_APP}
    if requested is None:
        wanted = set(Channel) if urgent else preferred
        channels = [Channel.IN_APP, *[c for c in Channel if c in wanted and c is not Channel.IN_APP]]
    else:
        channels = list(dict.fromkeys(requested))
    return [
        ChannelChoice(
            channel,
            unreachable_reason(patient, channel, has_push_device=has_push_device)
            or (None if urgent or channel in preferred else TURNED_OFF),
        )
        for channel in channels
    ]


def fallback_channel(contact: Contact, used: Collection[Channel], order: Sequence[Channel], *,
                     has_push_device: bool) -> Channel | None:
    """Where a message goes when one of its channels cannot carry it (app/services/fallback.py):
    the first channel in the clinic's `order` not `used` by the message already that can reach
    the patient (an opt-out is never overridden; a channel the patient turned off for the type
    may carry it, being the way left to reach them). None: nowhere left."""
    return next((channel for channel in order if channel not in used and channel is not Channel.IN_APP
                 and unreachable_reason(contact, channel, has_push_device=has_push_device) is None), None)


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
