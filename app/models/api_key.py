"""Keys that clinic systems use to call the JSON API, and the answers kept for their retries."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.clock import utcnow
from app.extensions import Model
from app.models.types import UTCDateTime
from app.models.user import User


class ApiKey(Model):
    """One key. Only a digest of its token is stored: the token itself is shown once."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(80))
    # The first characters of the token, so an admin can tell keys apart; not enough to use one.
    prefix: Mapped[str] = mapped_column(sa.String(16))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    scopes: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    # The admin who made it: a key acts with that admin's rights, and stops with their account.
    created_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None


class ApiIdempotencyKey(Model):
    """A POST made with an Idempotency-Key, and its answer, per API key: a retry with the same
    key and body gets that answer again; with another body, a refusal."""

    __tablename__ = "api_idempotency_keys"
    __table_args__ = (sa.UniqueConstraint("api_key_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    api_key_id: Mapped[int] = mapped_column(sa.ForeignKey("api_keys.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(sa.String(255))
    request_fingerprint: Mapped[str] = mapped_column(sa.String(64))
    # None until the work is done (a cancel commits its change before its answer is known).
    status_code: Mapped[int | None]
    response: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
