"""Message templates: one per notification type, channel and locale."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.clock import utcnow
from app.extensions import Model
from app.models.types import UTCDateTime, enum_type
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
