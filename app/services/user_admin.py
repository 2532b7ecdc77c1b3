"""Managing people from the admin area: listing, creating, (de)activating, assigning patients.

Creation goes through `accounts.create_user`, which owns the field rules; this module adds
what only the admin area decides: which roles it creates, that staff start with a password,
and that an admin never locks themselves out.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.models.audit_event import AuditAction
from app.models.user import User
from app.services import audit, two_factor
from app.services.accounts import create_user
from app.services.errors import Conflict, NotFound, ValidationError
from app.services.input_rules import as_id
from app.services.password_policy import MIN_LENGTH
from app.services.sign_in_sessions import EndReason, end_all_sessions
from app.vocabulary import Role

PAGE_SIZE = 50
CREATABLE_ROLES = (Role.PATIENT, Role.PRACTITIONER)


@dataclass(frozen=True)
class UserPage:
    users: list[User]
    next_before: int | None


def users_page(*, role: Role | None = None, search: str | None = None, before: int | None = None,
               size: int = PAGE_SIZE) -> UserPage:
    """Users, newest first, optionally of one role and matching part of a name or email."""
    stmt = sa.select(User).options(joinedload(User.practitioner)).order_by(User.id.desc())
    if role is not None:
        stmt = stmt.where(User.role == role)
    if search and search.strip():
        text = search.strip()
        stmt = stmt.where(sa.or_(User.name.icontains(text, autoescape=True),
                                 User.email.icontains(text, autoescape=True)))
    if before is not None:
        stmt = stmt.where(User.id < before)
    users = list(db.session.scalars(stmt.limit(size + 1)).unique())
    next_before = users[size - 1].id if len(users) > size else None
    return UserPage(users=users[:size], next_before=next_before)


def practitioners() -> list[User]:
    """Active practitioners, by name: who a patient may be assigned to."""
    stmt = (sa.select(User).where(User.role == Role.PRACTITIONER, User.active.is_(True))
            .order_by(User.name, User.id))
    return list(db.session.scalars(stmt))


def get_user(user_id: int) -> User:
    user = db.session.get(User, user_id) if as_id(user_id) else None
    if user is None:
        raise NotFound("No such user")
    return user


def create_account(acting_admin: User, *, role: str, name: str, email: str | None, phone: str | None,
                   timezone: str, locale: str, practitioner_id: int | None, password: str | None) -> User:
    """Create a patient or a practitioner; every bad field is reported at once.

    Practitioners sign in with a password, so theirs is required; patients may be given one
    later (or never, if they only receive messages).
    """
    if role not in {r.value for r in CREATABLE_ROLES}:
        raise ValidationError({"role": "Choose patient or practitioner"})
    is_staff = role == Role.PRACTITIONER
    try:
        return create_user(
            role=role,
            name=name,
            email=email or None,
            phone=phone or None,
            timezone=timezone,
            locale=locale,
            practitioner_id=practitioner_id if not is_staff else None,
            # An empty password makes create_user report it along with any other bad field.
            password=(password or "") if is_staff else (password or None),
            created_by=acting_admin,
        )
    except ValidationError as exc:
        if is_staff and not password and "password" in exc.errors:
            exc.errors["password"] = ("Practitioners sign in with a password: enter one of at least "
                                      f"{MIN_LENGTH} characters")
        raise


def set_active(acting_admin: User, user_id: int, active: bool) -> User:
    """Deactivate or reactivate a user. A deactivated user cannot sign in, and every session
    and live socket they have open ends (reactivating brings none back).

    Raises:
        NotFound: no such user.
        Conflict: an admin tried to deactivate themselves (nobody would be left to undo it).
    """
    user = get_user(user_id)
    if not active and user.id == acting_admin.id:
        raise Conflict("You cannot deactivate your own account")
    user.active = active
    audit.record(AuditAction.USER_REACTIVATED if active else AuditAction.USER_DEACTIVATED, actor_id=acting_admin.id,
                 patient_id=_patient_id(user), detail={"user": user.id, "role": user.role})
    if active:
        db.session.commit()
    else:
        end_all_sessions(user.id, EndReason.DEACTIVATED)  # commits the deactivation and its record with it
    return user


def reset_two_factor(acting_admin: User, user_id: int) -> User:
    """Turn off a staff member's two-factor sign-in for them (a lost phone, no recovery codes
    left) and end every sign-in they have open, so whoever holds the old phone or a session is out.

    Raises:
        NotFound: no such user.
        Conflict: they have no two-factor sign-in, or it is the admin's own (which they move
            from their account page, proving they hold it).
    """
    user = get_user(user_id)
    if user.id == acting_admin.id:
        raise Conflict("Your own two-factor sign-in is moved or turned off from your account page")
    if not user.two_factor_enabled:
        raise Conflict(f"{user.name} has no two-factor sign-in to reset")
    two_factor.forget(user)
    audit.record(AuditAction.TWO_FACTOR_RESET, actor_id=acting_admin.id, detail={"user": user.id, "role": user.role})
    end_all_sessions(user.id, EndReason.TWO_FACTOR_RESET)  # commits the reset and its record with it
    return user


def assign_practitioner(acting_admin: User, user_id: int, practitioner_id: int | None) -> User:
    """Make `practitioner_id` the patient's practitioner (None: nobody).

    Raises:
        NotFound: no such user.
        ValidationError: the user is not a patient, or the practitioner is not an active one.
    """
    patient = get_user(user_id)
    if patient.role is not Role.PATIENT:
        raise ValidationError({"practitioner_id": "Only patients have a practitioner"})
    if practitioner_id is not None:
        practitioner = db.session.get(User, practitioner_id)
        if practitioner is None or practitioner.role is not Role.PRACTITIONER or not practitioner.active:
            raise ValidationError({"practitioner_id": "Choose an active practitioner"})
    patient.practitioner_id = practitioner_id
    audit.record(AuditAction.PRACTITIONER_ASSIGNED, actor_id=acting_admin.id, patient_id=patient.id,
                 detail={"practitioner": practitioner_id or "none"})
    db.session.commit()
    return patient


def _patient_id(user: User) -> int | None:
    return user.id if user.role is Role.PATIENT else None
