"""Managing message templates: installing the defaults, and admins editing and restoring them.

An edit is checked when it is saved (`template_checks`), so a send never meets a broken
template. Sends render their text when they are written (the outbox loads the stored templates
then), so a saved edit applies to every send written after it, and a notification already
written, even one scheduled for later, keeps the text it was written with.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from app.clock import utcnow
from app.extensions import db
from app.models.audit_event import AuditAction
from app.models.template import Template, TemplateVersion
from app.models.user import User
from app.services import audit
from app.services.clinic_settings import current_settings
from app.services.composing import template_context
from app.services.contact import SUPPORTED_LOCALES
from app.services.default_templates import DEFAULT_TEMPLATES
from app.services.errors import Conflict, NotFound, ValidationError
from app.services.template_checks import has_subject, sample_values, template_problems
from app.vocabulary import Channel, NotificationType


def install_default_templates() -> int:
    """Add every default template the clinic does not have yet; edited ones are kept.

    Run from the shell (`flask install-templates`, the demo seed), so nobody is recorded as
    having done it.
    """
    existing = {tuple(row) for row in db.session.execute(sa.select(Template.key, Template.channel, Template.locale))}
    added = 0
    for (key, channel, locale), (subject, body) in DEFAULT_TEMPLATES.items():
        if (key, channel, locale) not in existing:
            db.session.add(Template(key=key, channel=channel, locale=locale, subject=subject, body=body))
            added += 1
    if added:
        audit.record(AuditAction.TEMPLATES_INSTALLED, actor_id=None, detail={"added": added})
    db.session.commit()
    return added


@dataclass(frozen=True)
class TemplateSlot:
    """Where a template goes: a type, a channel and a language, and the template there if any."""

    type: NotificationType
    channel: Channel
    locale: str
    template: Template | None = None


def slot_for(type_value: str, channel_value: str, locale: str) -> TemplateSlot:
    """The slot a URL names, with its template.

    Raises:
        NotFound: no such type, channel or language.
    """
    if not (NotificationType.has_value(type_value) and Channel.has_value(channel_value)
            and locale in SUPPORTED_LOCALES):
        raise NotFound("There is no such template: check the type, channel and language")
    type_, channel = NotificationType(type_value), Channel(channel_value)
    template = db.session.scalar(
        sa.select(Template).where(Template.key == type_, Template.channel == channel, Template.locale == locale)
    )
    return TemplateSlot(type_, channel, locale, template)


def every_slot() -> list[TemplateSlot]:
    """Every type x channel x language, with its template or None where the clinic has none."""
    stored = {(t.key, t.channel, t.locale): t for t in db.session.scalars(sa.select(Template))}
    return [
        TemplateSlot(type_, channel, locale, stored.get((type_, channel, locale)))
        for type_ in NotificationType
        for channel in Channel
        for locale in SUPPORTED_LOCALES
    ]


def starting_text(slot: TemplateSlot) -> tuple[str, str]:
    """The subject and body the edit page opens with: the template's, else the default's."""
    if slot.template is not None:
        return slot.template.subject, slot.template.body
    return DEFAULT_TEMPLATES.get((slot.type, slot.channel, slot.locale), (slot.type.label, ""))


def versions_of(template: Template | None) -> list[TemplateVersion]:
    """Every text the template has had, newest (the one in use) first."""
    if template is None:
        return []
    stmt = (sa.select(TemplateVersion).where(TemplateVersion.template_id == template.id)
            .order_by(TemplateVersion.id.desc()))
    return list(db.session.scalars(stmt))


def preview_samples(type_: NotificationType) -> dict[str, str]:
    """The values previews and checks render with: samples, and this clinic's own name and link."""
    clinic = template_context("", None, {})
    return sample_values(type_, {"clinic": clinic["clinic"], "inbox_url": clinic["inbox_url"]})


def problems_of(slot: TemplateSlot, *, subject: str, body: str) -> dict[str, str]:
    """What would refuse this text in this slot (see `template_checks.template_problems`)."""
    return template_problems(slot.type, slot.channel, subject=subject, body=body,
                             samples=preview_samples(slot.type),
                             sms_segment_limit=current_settings().sms_segment_limit)


def save_template(admin: User, slot: TemplateSlot, *, subject: str, body: str) -> Template:
    """Check and save a template's new text as its newest version, recorded in the audit log.

    SMS has no subject: the one it has (or the default's) is kept.

    Raises:
        ValidationError: keyed "subject" or "body", with the line where the problem has one;
            nothing is written.
        Conflict: another admin created this template at the same moment.
    """
    if not has_subject(slot.channel):
        subject = starting_text(slot)[0]
    problems = problems_of(slot, subject=subject, body=body)
    if problems:
        raise ValidationError(problems)
    return _save(admin, slot, subject=subject, body=body, restored_from=None)


def restore_version(admin: User, slot: TemplateSlot, version_id: int) -> Template:
    """Put an earlier text of the template back in use, as a new version that copies it.

    The copied text is checked again as a save is: the clinic's segment limit, say, may have
    been lowered since.

    Raises:
        NotFound: the version is not one of this template's.
        ValidationError: the text would be refused now; nothing is written.
    """
    version = db.session.get(TemplateVersion, version_id)
    if slot.template is None or version is None or version.template_id != slot.template.id:
        raise NotFound("That version is not one of this template's")
    problems = problems_of(slot, subject=version.subject, body=version.body)
    if problems:
        raise ValidationError({part: f"That version cannot be restored now. {message}"
                               for part, message in problems.items()})
    return _save(admin, slot, subject=version.subject, body=version.body, restored_from=version.id)


def _save(admin: User, slot: TemplateSlot, *, subject: str, body: str, restored_from: int | None) -> Template:
    """Write the text as the template's newest version, with its audit record, in one transaction."""
    try:
        template = slot.template
        if template is None:
            template = Template(key=slot.type, channel=slot.channel, locale=slot.locale, subject=subject, body=body)
            db.session.add(template)
            db.session.flush()
        else:
            if not versions_of(template):
                # The text it was installed with, kept so that it too can be restored.
                db.session.add(TemplateVersion(template_id=template.id, subject=template.subject,
                                               body=template.body, saved_at=template.updated_at, saved_by_id=None))
            template.subject, template.body = subject, body
        version = TemplateVersion(template_id=template.id, subject=subject, body=body, saved_at=utcnow(),
                                  saved_by_id=admin.id, restored_from_id=restored_from)
        db.session.add(version)
        db.session.flush()
        action = AuditAction.TEMPLATE_CHANGED if restored_from is None else AuditAction.TEMPLATE_RESTORED
        audit.record(action, actor_id=admin.id, detail={
            "template": template.id, "type": template.key.value, "channel": template.channel.value,
            "locale": template.locale, "version": version.id, "restored_from": restored_from,
        })
        db.session.commit()
    except IntegrityError as exc:
        db.session.rollback()
        raise Conflict(
            "Another admin created this template at the same moment: open it again and redo the change"
        ) from exc
    return template
