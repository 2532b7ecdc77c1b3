"""What a send renders with: the type's stored templates, loaded once, and each patient's context.

The outbox renders every row of a send with these, and the compose preview renders with the
same ones, so what a practitioner previews is what goes out.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from flask import current_app

from app.extensions import db
from app.models.template import Template
from app.services.rendering import Composer, FreeText, recipient_context
from app.vocabulary import Channel, NotificationType


def template_context(patient_name: str, practitioner_name: str | None, data: Mapping[str, Any]) -> dict[str, Any]:
    """What a template sees for one patient (also what the compose preview renders with)."""
    config = current_app.config
    return recipient_context(
        patient_name=patient_name,
        practitioner_name=practitioner_name or config["CLINIC_NAME"],
        clinic=config["CLINIC_NAME"],
        inbox_url=config["PUBLIC_BASE_URL"].rstrip("/") + "/inbox",
        data=data,
    )


def composer_for_content(
    type_: NotificationType, free_text: FreeText | None, template_key: NotificationType | None
) -> Composer:
    """A composer with the stored templates of `template_key` loaded once."""
    config = current_app.config
    templates: dict[tuple[Channel, str], tuple[str, str]] = {}
    if template_key is not None:
        stmt = sa.select(Template).where(Template.key == template_key)
        templates = {(t.channel, t.locale): (t.subject, t.body) for t in db.session.scalars(stmt)}
    return Composer(
        type_,
        free_text=free_text,
        templates=templates,
        default_locale=config["DEFAULT_LOCALE"],
        minimal_bodies=config["SMS_PUSH_BODIES"] != "full",
        clinic=config["CLINIC_NAME"],
    )


