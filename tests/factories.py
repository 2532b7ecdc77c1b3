"""Keyword-only factories for test rows. Passwords are hashed once, not per user."""

from __future__ import annotations

import itertools
import time as time_module
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import time

import pyotp

from app.extensions import db
from app.models.enums import Role
from app.models.user import Device, User
from app.services.accounts import hash_password

TEST_PASSWORD = "correct horse battery"
_HASH = hash_password(TEST_PASSWORD)
_sequence = itertools.count(1)


def create_user(
    *,
    role: Role,
    name: str | None = None,
    email: str | None = None,
    phone: str | None = None,
    timezone: str = "Asia/Kolkata",
    locale: str = "en",
    practitioner: User | None = None,
    preferred_channels: Sequence[str] = ("in_app", "email"),
    quiet_hours: tuple[time, time] | None = None,
    active: bool = True,
    devices: int = 0,
) -> User:
    n = next(_sequence)
    user = User(
        role=role,
        name=name or f"{role.value.capitalize()} {n}",
        email=email if email is not None else f"{role.value}{n}@clinic.test",
        phone=phone,
        timezone=timezone,
        locale=locale,
        password_hash=_HASH,
        practitioner_id=practitioner.id if practitioner else None,
        preferred_channels=list(preferred_channels),
        quiet_hours_start=quiet_hours[0] if quiet_hours else None,
        quiet_hours_end=quiet_hours[1] if quiet_hours else None,
        active=active,
    )
    db.session.add(user)
    db.session.flush()
    for i in range(devices):
        db.session.add(Device(user_id=user.id, token=f"device-{user.id}-{i}", kind="fcm"))
    db.session.commit()
    return user


def create_admin(**fields) -> User:
    return create_user(role=Role.ADMIN, **fields)


def create_practitioner(**fields) -> User:
    return create_user(role=Role.PRACTITIONER, **fields)


def create_patient(*, practitioner: User | None, **fields) -> User:
    return create_user(role=Role.PATIENT, practitioner=practitioner, **fields)


def create_patients(count: int, *, practitioner: User, **fields) -> list[User]:
    return [create_patient(practitioner=practitioner, **fields) for _ in range(count)]


@dataclass(frozen=True)
class Enrolment:
    secret: str
    recovery_codes: list[str]


def code_for(secret: str, *, seconds_from_now: float = 0) -> str:
    """The authenticator code an app holding `secret` shows at that moment."""
    return pyotp.TOTP(secret).at(time_module.time() + seconds_from_now)


def enrol_two_factor(user: User) -> Enrolment:
    """Turn two-factor sign-in on for `user` through the real service, confirmed with the
    previous step's code, so the code an app shows now is still unused."""
    from app.services import two_factor

    secret = two_factor.pending_secret(user)
    codes = two_factor.confirm_enrolment(user, code_for(secret, seconds_from_now=-30))
    return Enrolment(secret=secret, recovery_codes=codes)


def reload(user: User) -> User:
    """`user` as the database has it now."""
    db.session.refresh(user)
    return user
