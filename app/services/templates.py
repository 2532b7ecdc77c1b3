"""Managing message templates."""

from __future__ import annotations

import sqlalchemy as sa

from app.extensions import db
from app.models.audit_event import AuditAction
from app.models.template import Template
from app.services import audit
from app.services.default_templates import DEFAULT_TEMPLATES


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
