"""Accounts: creating users, checking passwords, and who may see whom."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import time

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from app.extensions import db
from app.models.audit_event import AuditAction
from app.models.user import Device, User
from app.services import audit
from app.services.channel_choice import same_for_every_type
from app.services.contact import check_locale, check_timezone, normalise_email, normalise_phone
from app.services.errors import ValidationError
from app.services.input_rules import has_control_characters
from app.services.password_policy import password_problem
from app.services.sign_in_sessions import EndReason, end_all_sessions
from app.vocabulary import Channel, Role

_hasher = PasswordHasher()
# Verifying against this when the email is unknown makes a miss cost as much as a hit, so
# response times do not tell an attacker which addresses have accounts.
_DUMMY_HASH = _hasher.hash("not a real password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def authenticate(email: str, password: str) -> User | None:
    """The active user with this email and password, or None (without saying which was wrong)."""
    try:
        address = normalise_email(email)
    except ValueError:
        address = email.strip()
    user = db.session.scalar(sa.select(User).where(sa.func.lower(User.email) == address.lower()))
    stored = user.password_hash if user and user.password_hash else _DUMMY_HASH
    try:
        _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return None
    if user is None or not user.password_hash or not user.active:
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
        db.session.commit()
    return user


def change_password(user: User, *, current: str, new: str) -> None:
    """Replace the user's password after proving they know the current one, and end every
    other sign-in of theirs (the one it was changed in, `user.sign_in_token`, stays).

    Asking for the current password means an unattended signed-in browser is not enough to
    take the account over; ending the other sign-ins shuts out whoever made them with the old
    password. Raises ValidationError on `current_password` or `new_password`.
    """
    try:
        _hasher.verify(user.password_hash or _DUMMY_HASH, current)
        known = user.password_hash is not None
    except (VerificationError, InvalidHashError):
        known = False
    if not known:
        raise ValidationError({"current_password": "That is not your current password"})
    problem = password_problem(new, name=user.name, email=user.email)
    if problem:
        raise ValidationError({"new_password": problem})
    user.password_hash = hash_password(new)
    audit.record(AuditAction.PASSWORD_CHANGED, actor_id=user.id)
    # Commits the new password and its record together with the endings.
    end_all_sessions(user.id, EndReason.PASSWORD_CHANGED, keep_token=user.sign_in_token)


NAME_MAX = 120  # the users.name column's length


def change_zone_and_language(user: User, *, timezone: str, locale: str) -> bool:
    """Set where and in what language the user reads times and messages; True when it changed.

    Raises:
        ValidationError: an unknown time zone or an unsupported language, by field.
    """
    problems = {"timezone": _problem_of(check_timezone, timezone), "locale": _problem_of(check_locale, locale)}
    _refuse_any(problems)
    changed = [name for name, old, new in (("timezone", user.timezone, timezone), ("locale", user.locale, locale))
               if old != new]
    if not changed:
        return False
    audit.record(AuditAction.PROFILE_CHANGED, actor_id=user.id,
                 patient_id=user.id if user.role is Role.PATIENT else None, detail={"changed": changed})
    user.timezone, user.locale = timezone, locale
    db.session.commit()
    return True


def create_user(
    *,
    role: Role | str,
    name: str,
    email: str | None,
    password: str | None = None,
    phone: str | None = None,
    timezone: str = "UTC",
    locale: str = "en",
    practitioner_id: int | None = None,
    preferred_channels: Sequence[str] | None = None,
    quiet_hours: tuple[time, time] | None = None,
    created_by: User | None = None,
) -> User:
    """Validate every field, then create the user; raises ValidationError naming each bad field.

    `preferred_channels` become the patient's choice for every type; None leaves every type to
    the clinic's defaults. `created_by` is the admin who asked, for the audit log (None: the shell).
    """
    name = (name or "").strip()
    channels = list(preferred_channels) if preferred_channels is not None else None
    problems = {
        "role": _role_problem(role),
        "name": _name_problem(name),
        "email": _email_problem(email, role),
        "phone": _problem_of(normalise_phone, phone) if phone else None,
        "password": password_problem(password, name=name, email=email) if password is not None else None,
        "timezone": _problem_of(check_timezone, timezone),
        "locale": _problem_of(check_locale, locale),
        "preferred_channels": _channels_problem(channels or []),
        "practitioner": _practitioner_problem(practitioner_id),
    }
    _refuse_any(problems)
    user = _new_user(role=Role(role), name=name, email=email, phone=phone, password=password, timezone=timezone,
                     locale=locale, practitioner_id=practitioner_id, channels=channels, quiet_hours=quiet_hours)
    db.session.add(user)
    db.session.flush()
    _record_creation(user, created_by)
    db.session.commit()
    return user


def _new_user(*, role: Role, name: str, email: str | None, phone: str | None, password: str | None, timezone: str,
              locale: str, practitioner_id: int | None, channels: list[str] | None,
              quiet_hours: tuple[time, time] | None) -> User:
    """The user as stored, from fields already checked: addresses normalised, the password
    hashed, and a practitioner only for a patient."""
    return User(
        role=role,
        name=name,
        email=normalise_email(email) if email else None,
        phone=normalise_phone(phone) if phone else None,
        timezone=timezone,
        locale=locale,
        password_hash=hash_password(password) if password else None,
        practitioner_id=practitioner_id if role is Role.PATIENT else None,
        channel_choices=same_for_every_type(channels),
        quiet_hours_start=quiet_hours[0] if quiet_hours else None,
        quiet_hours_end=quiet_hours[1] if quiet_hours else None,
    )


def _record_creation(user: User, created_by: User | None) -> None:
    """A patient's record names them as the patient whose data it is; staff are only the user."""
    audit.record(AuditAction.USER_CREATED, actor_id=created_by.id if created_by else None,
                 patient_id=user.id if user.role is Role.PATIENT else None,
                 detail={"user": user.id, "role": user.role})


# Each check below says what is wrong with one field of a new user, or None when nothing is.


def _role_problem(role: Role | str) -> str | None:
    if Role.has_value(role):
        return None
    return f"Unknown role {role!r}; choose one of: {', '.join(r.value for r in Role)}"


def _name_problem(name: str) -> str | None:
    if not name or len(name) > NAME_MAX:
        return f"Enter a name of 1 to {NAME_MAX} characters"
    if not name.isprintable():
        return "A name cannot contain control characters"
    return None


def _email_problem(email: str | None, role: Role | str) -> str | None:
    """Staff sign in with their email, so they must have one; nobody may share one."""
    if not email:
        return "Staff sign in with their email: enter one" if role in (Role.ADMIN, Role.PRACTITIONER) else None
    try:
        address = normalise_email(email)
    except ValueError as exc:
        return str(exc)
    if db.session.scalar(sa.select(User.id).where(sa.func.lower(User.email) == address.lower())):
        return "A user with this email already exists"
    return None


def _channels_problem(channels: Sequence[str]) -> str | None:
    if all(Channel.has_value(c) for c in channels):
        return None
    return f"Channels are: {', '.join(c.value for c in Channel)}"


def _practitioner_problem(practitioner_id: int | None) -> str | None:
    if practitioner_id is None:
        return None
    practitioner = db.session.get(User, practitioner_id)
    if practitioner is None or practitioner.role is not Role.PRACTITIONER or not practitioner.active:
        return "Choose an active practitioner"
    return None


def _refuse_any(problems: Mapping[str, str | None]) -> None:
    """Refuse with every problem found, by field; with none, carry on."""
    errors = {field: problem for field, problem in problems.items() if problem}
    if errors:
        raise ValidationError(errors)


def _problem_of(check: Callable[[str], object], value: str) -> str | None:
    """The message of the ValueError `check` raises for `value`, or None."""
    try:
        check(value)
    except ValueError as exc:
        return str(exc)
    return None


def add_device(user: User, token: str, *, kind: str = "fcm", label: str | None = None) -> Device:
    token = (token or "").strip()
    if not token or len(token) > 4096:
        raise ValidationError({"token": "A device token is 1 to 4096 characters"})
    existing = db.session.scalar(sa.select(Device).where(Device.user_id == user.id, Device.token == token))
    if existing is not None:
        existing.invalidated_at = None
        db.session.commit()
        return existing
    device = Device(user_id=user.id, token=token, kind=kind, label=label)
    db.session.add(device)
    db.session.commit()
    return device


def find_user_by_email(email: str) -> User | None:
    if has_control_characters(email):
        return None  # no stored address has one, and PostgreSQL refuses a NUL in a query
    return db.session.scalar(sa.select(User).where(sa.func.lower(User.email) == email.strip().lower()))
