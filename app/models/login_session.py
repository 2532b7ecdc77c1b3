"""Sign-in sessions: each sign-in is a server-side row, so it can be ended from anywhere.

The browser's session and remember-me cookies carry only a random token naming one row (the
row keeps its SHA-256, never the token); a row that has ended, or sat idle too long, signs
nobody in, whatever cookie is presented.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.clock import utcnow
from app.extensions import Model
from app.models.types import UTCDateTime
from app.models.user import User


class LoginSession(Model):
    __tablename__ = "login_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    end_reason: Mapped[str | None] = mapped_column(sa.String(40))
    client_address: Mapped[str | None] = mapped_column(sa.String(45))
    user_agent: Mapped[str | None] = mapped_column(sa.String(255))

    user: Mapped[User] = relationship()

    @property
    def open(self) -> bool:
        return self.ended_at is None

    def __repr__(self) -> str:
        return f"<LoginSession {self.id} user={self.user_id}>"
