"""Two-factor sign-in for staff: an authenticator app's codes (TOTP, RFC 6238) and recovery codes.

Staff see every patient's messages, so a stolen password alone must not be enough. A staff
member sets up an authenticator from their account page; signing in then asks for its current
code after the password. Ten one-time recovery codes, shown once, stand in for a lost phone.

Each accepted authenticator code moves the user's last used time step forward (a compare-and-set
in the database), so a code seen over a shoulder or in a proxy log cannot be used again, not even
by two requests racing. A recovery code is marked used the same way. The authenticator secret is
stored sealed (`sealed_secrets`) and never logged; recovery codes are stored as argon2 hashes.
"""

from __future__ import annotations

import hmac
import re
import secrets
from enum import StrEnum

import pyotp
import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app

from app.clock import utcnow
from app.extensions import db
from app.models.audit_event import AuditAction
from app.models.user import RecoveryCode, User
from app.services import audit
from app.services.clinic_settings import current_settings
from app.services.errors import Conflict, Forbidden, ValidationError
from app.services.row_counts import changed_rows
from app.services.sealed_secrets import seal, unseal
from app.vocabulary import Role

STAFF_ROLES = frozenset({Role.ADMIN, Role.PRACTITIONER})
# One 30-second step either side of now: phones' clocks drift, and people type slowly.
VALID_WINDOW = 1
RECOVERY_CODE_COUNT = 10
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i to misread
RECOVERY_CODE_LENGTH = 10  # about 49 random bits each
# Recovery codes are random, not chosen by people, so a costly hash adds nothing against guessing;
# a light argon2 keeps checking all ten of a user's codes quick.
_recovery_hasher = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1)

WRONG_CODE = "That code is not right, or it has been used already: enter the code your app shows now"


class CodeKind(StrEnum):
    AUTHENTICATOR = "authenticator"
    RECOVERY = "recovery"


def offered_to(user: User) -> bool:
    """Only staff use two-factor sign-in; patients read their own messages only."""
    return user.role in STAFF_ROLES


def required_for(user: User) -> bool:
    """Whether the clinic's settings make `user` use two-factor sign-in."""
    return offered_to(user) and current_settings().require_staff_two_factor


def must_set_up(user: User) -> bool:
    """`user` is required to use two-factor sign-in and has not set it up: they do that first."""
    return not user.two_factor_enabled and required_for(user)


def staff_without_two_factor() -> list[User]:
    """Active admins and practitioners who have not set it up, by name."""
    stmt = (sa.select(User).where(User.role.in_(STAFF_ROLES), User.active.is_(True),
                                  User.two_factor_enabled_at.is_(None)).order_by(User.name, User.id))
    return list(db.session.scalars(stmt))


def pending_secret(user: User) -> str:
    """The secret being set up for `user`'s authenticator: the one already begun, or a new one.

    Keeping the begun one means reloading the setup page does not invalidate a QR code the
    person has already scanned. An enrolled user's current secret stays in use until a new one
    is confirmed.

    Raises:
        Forbidden: `user` is not staff.
    """
    if not offered_to(user):
        raise Forbidden("Two-factor sign-in is for staff accounts")
    secret = unseal(user.totp_pending_secret)
    if secret is None:
        secret = pyotp.random_base32()
        user.totp_pending_secret = seal(secret)
        db.session.commit()
    return secret


def provisioning_uri(user: User, secret: str) -> str:
    """The otpauth:// address an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=user.email or str(user.id),
                                               issuer_name=current_app.config["CLINIC_NAME"])


def confirm_enrolment(user: User, code: str) -> list[str]:
    """Turn on two-factor sign-in with the pending secret, once a code from it proves the app has it.

    Returns the new recovery codes (any earlier ones stop working); they are shown once, and
    only their hashes are kept.

    Raises:
        ValidationError: on `code`, when it is not the pending secret's current code.
    """
    secret = unseal(user.totp_pending_secret)
    if secret is None:
        raise ValidationError({"code": "Set-up has expired: scan the new QR code, then enter its code"})
    step = _matching_step(secret, _normalised(code), after=None)
    if step is None:
        raise ValidationError({"code": WRONG_CODE})
    user.totp_secret, user.totp_pending_secret = user.totp_pending_secret, None
    user.totp_last_step = step
    user.two_factor_enabled_at = utcnow()
    codes = _replace_recovery_codes(user)
    audit.record(AuditAction.TWO_FACTOR_ENABLED, actor_id=user.id)
    db.session.commit()
    return codes


def check_code(user: User, code: str) -> CodeKind | None:
    """Which kind of code `code` was, if it is one `user` may use now (using it up), else None.

    Six digits are an authenticator code; anything else is tried as a recovery code.
    """
    if not user.two_factor_enabled:
        return None
    code = _normalised(code)
    if re.fullmatch(r"\d{6}", code):
        return CodeKind.AUTHENTICATOR if _use_authenticator_code(user, code) else None
    return CodeKind.RECOVERY if _use_recovery_code(user, code) else None


def recovery_codes_left(user: User) -> int:
    stmt = sa.select(sa.func.count()).select_from(RecoveryCode).where(
        RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
    return db.session.scalar(stmt) or 0


def disable(user: User, code: str) -> None:
    """Turn two-factor sign-in off, proven by a current code (authenticator or recovery).

    Raises:
        Conflict: the clinic requires it of this user (they may move it to a new phone instead).
        ValidationError: on `code`, when it is not one the user may use now.
    """
    if required_for(user):
        raise Conflict("Your clinic requires two-factor sign-in for staff, so it cannot be turned off. "
                       "To use a new phone, move it there instead.")
    if check_code(user, code) is None:
        audit.record_now(AuditAction.TWO_FACTOR_FAILED, actor_id=user.id, detail={"step": "turn_off"})
        raise ValidationError({"code": WRONG_CODE})
    forget(user)
    audit.record(AuditAction.TWO_FACTOR_DISABLED, actor_id=user.id)
    db.session.commit()


def forget(user: User) -> None:
    """Drop `user`'s authenticator and recovery codes, in the caller's transaction: signing in
    then asks for the password alone (or, where the clinic requires it, a new set-up)."""
    user.totp_secret = user.totp_pending_secret = None
    user.totp_last_step = None
    user.two_factor_enabled_at = None
    db.session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))


def _normalised(code: str) -> str:
    return re.sub(r"[\s-]", "", code or "").lower()


def _matching_step(secret: str, code: str, *, after: int | None) -> int | None:
    """The latest time step near now whose code is `code` and that comes after `after`."""
    if not re.fullmatch(r"\d{6}", code):
        return None
    totp = pyotp.TOTP(secret)
    now = totp.timecode(utcnow())
    for step in range(now + VALID_WINDOW, now - VALID_WINDOW - 1, -1):
        if (after is None or step > after) and hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _use_authenticator_code(user: User, code: str) -> bool:
    secret = unseal(user.totp_secret)
    step = _matching_step(secret, code, after=user.totp_last_step) if secret else None
    if step is None:
        return False
    moved = changed_rows(db.session.execute(
        sa.update(User)
        .where(User.id == user.id, sa.or_(User.totp_last_step.is_(None), User.totp_last_step < step))
        .values(totp_last_step=step)
        .execution_options(synchronize_session=False)
    ))
    db.session.commit()
    return moved == 1


def _use_recovery_code(user: User, code: str) -> bool:
    if len(code) != RECOVERY_CODE_LENGTH:
        return False
    unused = db.session.scalars(sa.select(RecoveryCode).where(
        RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))).all()
    for row in unused:
        try:
            _recovery_hasher.verify(row.code_hash, code)
        except (VerificationError, InvalidHashError):
            continue
        used = changed_rows(db.session.execute(
            sa.update(RecoveryCode).where(RecoveryCode.id == row.id, RecoveryCode.used_at.is_(None))
            .values(used_at=utcnow()).execution_options(synchronize_session=False)
        ))
        db.session.commit()
        return used == 1
    return False


def _replace_recovery_codes(user: User) -> list[str]:
    db.session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = ["".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_CODE_LENGTH))
             for _ in range(RECOVERY_CODE_COUNT)]
    db.session.add_all(RecoveryCode(user_id=user.id, code_hash=_recovery_hasher.hash(code)) for code in codes)
    half = RECOVERY_CODE_LENGTH // 2
    return [f"{code[:half]}-{code[half:]}" for code in codes]
