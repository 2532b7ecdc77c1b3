"""Previews: the compose form's, each channel as the patient will see it before anything is sent,
and the template editor's, one template with sample values as it is typed.

The compose preview renders through the same channel choice and composer as a real send, so
what the practitioner previews is what goes out; unlike a send it is lenient with a half-filled
form, showing what it can and saying what is missing. The template preview makes the checks a
save makes, and renders as a send would.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from app.extensions import db
from app.models.user import Device, User
from app.services.access import visible_patients
from app.services.channel_choice import CHOOSABLE, CHOOSABLE_TYPES, ChannelChoice, choose_channels, fallback_channel
from app.services.clinic_settings import channel_defaults, fallback_order
from app.services.composing import composer_for_content, template_context
from app.services.fallback import why_unreachable
from app.services.rendering import Composer, FreeText, Rendered, RenderError, fit_to_channel, render_template_text
from app.services.sms_text import SmsCost, sms_cost
from app.services.template_checks import has_subject
from app.services.templates import TemplateSlot, preview_samples, problems_of, starting_text
from app.vocabulary import Channel, NotificationType, Role

SAMPLE_PATIENT_NAME = "Patient name"


@dataclass(frozen=True)
class ChannelPreview:
    channel: Channel
    rendered: Rendered | None = None
    suppressed_reason: str | None = None
    problem: str | None = None
    sms: SmsCost | None = None
    instead_of: str | None = None  # a fallback: why the channel it stands in for cannot carry it


@dataclass(frozen=True)
class Preview:
    patient_name: str
    is_sample: bool
    channels: list[ChannelPreview]
    problem: str | None = None


def preview_send(
    sender: User,
    *,
    type_: str,
    patient_id: int | None,
    recipient_group: str | None,
    channels: Sequence[str] | None,
    template_key: str | None,
    title: str,
    body: str,
    data: Mapping[str, Any],
) -> Preview:
    """Render every chosen channel for one patient (the chosen one, else a sample)."""
    if not NotificationType.has_value(type_):
        return Preview(SAMPLE_PATIENT_NAME, True, [], problem="Choose a notification type")
    kind = NotificationType(type_)
    patient, is_sample = _patient_for(sender, patient_id, recipient_group)
    requested = None if channels is None else [Channel(c) for c in channels if Channel.has_value(c)]
    if requested == []:
        return Preview(patient.name, is_sample, [], problem="Choose at least one channel")
    free_text = None
    if not template_key:
        free_text = FreeText((title or "").strip() or kind.label, (body or "").strip() or "…")
    template = NotificationType(template_key) if template_key and NotificationType.has_value(template_key) else None
    composer = composer_for_content(kind, free_text, template)
    practitioner_name = sender.name if is_sample and sender.role is Role.PRACTITIONER else (
        patient.practitioner.name if patient.practitioner else None
    )
    context = template_context(patient.name, practitioner_name, data)
    has_device = is_sample or db.session.scalar(
        sa.select(sa.exists().where(Device.user_id == patient.id, Device.invalidated_at.is_(None)))
    )
    previews = []
    choices = choose_channels(patient, kind, requested, has_push_device=bool(has_device),
                              clinic_defaults=channel_defaults())
    for choice in choices:
        try:
            rendered = composer.render(choice.channel, patient.locale, context)
        except RenderError as exc:
            previews.append(ChannelPreview(choice.channel, problem=str(exc)))
            continue
        previews.append(
            ChannelPreview(
                choice.channel,
                rendered=rendered,
                suppressed_reason=None if is_sample else choice.suppressed_reason,
                sms=sms_cost(rendered.body) if choice.channel is Channel.SMS else None,
            )
        )
    fallback = None if is_sample else _fallback_preview(patient, choices, composer, context,
                                                        has_push_device=bool(has_device))
    return Preview(patient.name, is_sample, previews + ([fallback] if fallback else []))


def _fallback_preview(patient: User, choices: Sequence[ChannelChoice], composer: Composer, context: Mapping[str, Any],
                      *, has_push_device: bool) -> ChannelPreview | None:
    """The channel the send will fall back on at once for a channel that cannot reach the
    patient (app/services/fallback.py), as it will read; None when it will not."""
    stranded = next((choice for choice in choices if choice.unreachable), None)
    if stranded is None or stranded.suppressed_reason is None:
        return None
    instead = fallback_channel(patient, {choice.channel for choice in choices}, fallback_order(),
                               has_push_device=has_push_device)
    if instead is None:
        return None
    try:
        rendered = composer.render(instead, patient.locale, context)
    except RenderError:
        return None  # as a send does, it leaves the message where it could not go
    return ChannelPreview(instead, rendered=rendered, sms=sms_cost(rendered.body) if instead is Channel.SMS else None,
                          instead_of=why_unreachable(stranded.channel, stranded.suppressed_reason))


def _patient_for(sender: User, patient_id: int | None, recipient_group: str | None) -> tuple[User, bool]:
    """The patient to preview for: the one chosen, else the first of the group, else a sample
    (never added to the session)."""
    candidates = visible_patients(sender).where(User.active.is_(True))
    if patient_id is not None:
        patient = db.session.scalar(candidates.where(User.id == patient_id))
        if patient is not None:
            return patient, False
    if recipient_group:
        patient = db.session.scalar(candidates.order_by(User.name).limit(1))
        if patient is not None:
            return patient, False
    sample = User(name=SAMPLE_PATIENT_NAME, locale="en",
                  channel_choices={kind.value: [c.value for c in CHOOSABLE] for kind in CHOOSABLE_TYPES},
                  phone="+910000000000", email="patient@example.org")
    return sample, True


@dataclass(frozen=True)
class TemplatePreview:
    """A template being edited, rendered with its type's sample values, or what refuses it."""

    channel: Channel
    rendered: Rendered | None = None
    problems: Mapping[str, str] = field(default_factory=dict)
    sms: SmsCost | None = None


def preview_template(slot: TemplateSlot, *, subject: str, body: str) -> TemplatePreview:
    """What the patient would see, with the checks a save makes, so a refusal shows as it is typed."""
    if not has_subject(slot.channel):
        subject = starting_text(slot)[0]
    problems = problems_of(slot, subject=subject, body=body)
    if problems:
        return TemplatePreview(slot.channel, problems=problems)
    samples = preview_samples(slot.type)
    try:
        rendered = fit_to_channel(
            slot.channel,
            Rendered(render_template_text(subject, samples), render_template_text(body, samples)),
            samples["clinic"],
        )
    except RenderError as exc:
        return TemplatePreview(slot.channel, problems={"body": str(exc)})
    return TemplatePreview(slot.channel, rendered=rendered,
                           sms=sms_cost(rendered.body) if slot.channel is Channel.SMS else None)
