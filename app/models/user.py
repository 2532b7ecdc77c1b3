"""People: staff and patients, and the devices patients receive push on."""

from __future__ import annotations

from datetime import datetime, time
from typing import cast
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.clock import utcnow
from app.extensions import Model
from app.models.types import UTCDateTime, enum_type
from app.vocabulary import Role


class User(UserMixin, Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    role: Mapped[Role] = mapped_column(enum_type(Role), index=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    email: Mapped[str | None] = mapped_column(sa.String(254), unique=True)
    phone: Mapped[str | None] = mapped_column(sa.String(20))  # E.164
    timezone: Mapped[str] = mapped_column(sa.String(64), default="UTC")
    locale: Mapped[str] = mapped_column(sa.String(10), default="en")
    password_hash: Mapped[str | None] = mapped_column(sa.String(255))
    active: Mapped[bool] = mapped_column(default=True)
    practitioner_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    # Per notification type, the channels besides the inbox the patient chose ({"treatment_update":
    # ["email"]}); a type not in it follows the clinic's default (app/services/channel_choice.py).
    channel_choices: Mapped[dict[str, list[str]]] = mapped_column(sa.JSON, default=dict)
    quiet_hours_start: Mapped[time | None] = mapped_column(sa.Time)  # patient's local time
    quiet_hours_end: Mapped[time | None] = mapped_column(sa.Time)
    sms_opted_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    email_opted_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Two-factor sign-in (staff): secrets are sealed (app.services.sealed_secrets), never plain.
    totp_secret: Mapped[str | None] = mapped_column(sa.String(255))
    totp_pending_secret: Mapped[str | None] = mapped_column(sa.String(255))  # being set up
    totp_last_step: Mapped[int | None] = mapped_column(sa.BigInteger)  # no code at or before it works
    two_factor_enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    practitioner: Mapped[User | None] = relationship(remote_side=[id], back_populates="patients")
    patients: Mapped[list[User]] = relationship(back_populates="practitioner")
    devices: Mapped[list[Device]] = relationship(back_populates="user")

    # The sign-in this object was loaded for (app/services/sign_in_sessions.py); not a column.
    # Flask-Login keeps it in the session and remember-me cookies instead of the user id
    # (login_manager.id_attribute), so a cookie names one revocable sign-in, never the account.
    # (Typed by a cast: SQLAlchemy would take an annotation here for a column.)
    sign_in_token = cast("str | None", None)

    def get_sign_in_token(self) -> str:
        if self.sign_in_token is None:
            raise RuntimeError("this user was not loaded through a sign-in session")
        return self.sign_in_token

    @property
    def is_active(self) -> bool:  # Flask-Login refuses sessions of deactivated users
        return self.active

    @property
    def two_factor_enabled(self) -> bool:
        return self.two_factor_enabled_at is not None

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def __repr__(self) -> str:
        return f"<User {self.id} {self.role}>"


class Device(Model):
    """A push endpoint. Providers invalidate tokens they report as gone; those are skipped."""

    __tablename__ = "devices"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(20), default="fcm")  # see DeviceKind
    token: Mapped[str] = mapped_column(sa.String(4096))  # an FCM token, or a Web Push endpoint
    # A browser's keys to encrypt for (Web Push only).
    web_push_p256dh: Mapped[str | None] = mapped_column(sa.String(200))
    web_push_auth: Mapped[str | None] = mapped_column(sa.String(100))
    label: Mapped[str | None] = mapped_column(sa.String(120))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    invalidated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(back_populates="devices")

    @property
    def valid(self) -> bool:
        return self.invalidated_at is None


class RecoveryCode(Model):
    """A one-time code that stands in for the authenticator app, stored as an argon2 hash."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(sa.String(255))
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
