"""Message templates: one per notification type, channel and locale, and every text each has had."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.clock import utcnow
from app.extensions import Model
from app.models.types import UTCDateTime, enum_type
from app.models.user import User
from app.vocabulary import Channel, NotificationType


class Template(Model):
    __tablename__ = "templates"
    __table_args__ = (sa.UniqueConstraint("key", "channel", "locale"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[NotificationType] = mapped_column(enum_type(NotificationType))
    channel: Mapped[Channel] = mapped_column(enum_type(Channel))
    locale: Mapped[str] = mapped_column(sa.String(10))
    subject: Mapped[str] = mapped_column(sa.String(200))
    body: Mapped[str] = mapped_column(sa.Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class TemplateVersion(Model):
    """A text a template has had, by whom and when: the latest is the one in use.

    A template's first edit also keeps the text it had before (installed, so by nobody), so
    the text it started with can be restored too. Rows are only added: a restore adds a copy.
    """

    __tablename__ = "template_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    template_id: Mapped[int] = mapped_column(sa.ForeignKey("templates.id", ondelete="CASCADE"), index=True)
    subject: Mapped[str] = mapped_column(sa.String(200))
    body: Mapped[str] = mapped_column(sa.Text)
    saved_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # None: installed from the defaults, not saved by anyone.
    saved_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    # The version this one copied back, when it was a restore.
    restored_from_id: Mapped[int | None] = mapped_column(sa.ForeignKey("template_versions.id", ondelete="SET NULL"))

    saved_by: Mapped[User | None] = relationship(foreign_keys=[saved_by_id])
