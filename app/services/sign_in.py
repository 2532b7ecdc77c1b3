"""Signing in: the account's throttle first, then the password, then (for staff with two-factor
sign-in) a code, then a new sign-in session; and signing out. Each step's outcome is audited."""

from __future__ import annotations

from dataclasses import dataclass

from app.models.audit_event import AuditAction
from app.models.user import User
from app.services import audit, two_factor
from app.services import sign_in_throttle as throttle
from app.services.accounts import authenticate, find_user_by_email
from app.services.sign_in_sessions import EndReason, end_all_sessions, start_session


@dataclass(frozen=True)
class SignInOutcome:
    """Signed in (`user`), told to wait (`wait_seconds`), or refused (neither).

    With `code_needed`, the password was right but no session is open yet: the user owes a
    two-factor code (`sign_in_with_code`).
    """

    user: User | None = None
    code_needed: bool = False
    wait_seconds: int = 0
    # Failed attempts on the account since its last sign-in, when there were many.
    earlier_failures: throttle.FailedAttempts | None = None
    # The known-device cookie to give this browser after a success.
    device_cookie: str | None = None


def sign_in(email: str, password: str, *, device_cookie: str | None, client_address: str | None,
            user_agent: str | None) -> SignInOutcome:
    """Check the password unless the account must cool down first, and open a session.

    Unknown and real accounts get the same answers and waits: nothing here tells which exist.
    """
    account = throttle.account_key(email)
    device = throttle.read_known_device(device_cookie)
    wait = throttle.seconds_to_wait(account, device)
    if wait:
        _record_failure(email, account, reason="throttled")
        return SignInOutcome(wait_seconds=wait)
    user = authenticate(email, password)
    if user is None:
        throttle.record_failure(account, device)
        _record_failure(email, account, reason="credentials")
        return SignInOutcome()
    earlier = throttle.record_success(account, device)
    if not user.two_factor_enabled:
        audit.record(AuditAction.SIGNED_IN, actor_id=user.id)
        start_session(user, client_address=client_address, user_agent=user_agent)
    known = (device or throttle.KnownDevice()).with_account(account)
    return SignInOutcome(user=user, code_needed=user.two_factor_enabled, earlier_failures=earlier,
                         device_cookie=throttle.device_cookie(known))


def sign_in_with_code(user: User, code: str, *, client_address: str | None,
                      user_agent: str | None) -> two_factor.CodeKind | None:
    """The second step: a code `user` may use now (using it up) opens their session.

    Returns which kind of code it was, or None (and no session) when it is not one.
    """
    kind = two_factor.check_code(user, code)
    if kind is None:
        audit.record_now(AuditAction.TWO_FACTOR_FAILED, actor_id=user.id, detail={"step": "sign_in"})
        return None
    audit.record(AuditAction.TWO_FACTOR_PASSED, actor_id=user.id, detail={"code": kind})
    audit.record(AuditAction.SIGNED_IN, actor_id=user.id, detail={"second_factor": kind})
    start_session(user, client_address=client_address, user_agent=user_agent)
    return kind


def sign_out(user: User) -> None:
    """End every sign-in of `user`, on every device."""
    audit.record(AuditAction.SIGNED_OUT, actor_id=user.id)
    end_all_sessions(user.id, EndReason.SIGNED_OUT)  # commits the record with the endings


def _record_failure(email: str, account: str, *, reason: str) -> None:
    """A refused sign-in is the account's, when the email names one; for any other email the
    record keeps only its keyed hash (the throttle's name for it), never what was typed."""
    known = find_user_by_email(email)
    audit.record_now(AuditAction.SIGN_IN_FAILED, actor_id=known.id if known else None,
                     detail={"reason": reason, "account": None if known else account})
