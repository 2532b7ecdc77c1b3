"""Sign-in sessions the server can end: at sign-out, on a password change, on deactivation,
and after a while without activity.

Each sign-in gets a random token; Flask-Login keeps it in the session cookie and the
remember-me cookie instead of the user id, and every request looks it up here. Ending a
session is a database write, so a copied cookie stops working everywhere at once; the ending
is also announced on Redis (`SESSION_ENDED_CHANNEL`) so every web process closes that user's
live sockets within a second or two.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
from datetime import datetime, timedelta
from enum import StrEnum

import sqlalchemy as sa
from flask import current_app
from redis.exceptions import RedisError
from sqlalchemy.orm import joinedload

from app.clock import utcnow
from app.extensions import db, get_redis
from app.models.login_session import LoginSession
from app.models.user import User
from app.services.row_counts import changed_rows
from app.vocabulary import Role

log = logging.getLogger(__name__)

SESSION_ENDED_CHANNEL = "session-ended"
TOKEN_BYTES = 32
MAX_TOKEN_LENGTH = 100  # a token is 43 characters; anything much longer is not one of ours
# A session's last activity is written at most this often, so pages and polls do not write on
# every request; the idle timeout is therefore exact to within this much.
TOUCH_EVERY = timedelta(seconds=60)


class EndReason(StrEnum):
    SIGNED_OUT = "signed out"
    PASSWORD_CHANGED = "password changed"
    DEACTIVATED = "deactivated"
    TWO_FACTOR_RESET = "two-factor reset"
    IDLE = "idle"


def start_session(user: User, *, client_address: str | None, user_agent: str | None) -> str:
    """Open a sign-in session for `user` and return its token (what the cookies will carry)."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    db.session.add(LoginSession(
        user_id=user.id,
        token_hash=_digest(token),
        client_address=(client_address or "")[:45] or None,
        user_agent=(user_agent or "")[:255] or None,
    ))
    db.session.commit()
    user.sign_in_token = token
    return token


def user_for_token(token: str, *, activity: bool = True) -> User | None:
    """The user whose open sign-in session `token` names, or None.

    A session idle longer than its role's timeout is ended here. `activity=False` checks the
    session without counting as activity (a live socket's re-check, a page polling itself).
    """
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    row = db.session.scalar(
        sa.select(LoginSession).options(joinedload(LoginSession.user))
        .where(LoginSession.token_hash == _digest(token), LoginSession.ended_at.is_(None))
    )
    if row is None or not row.user.active:
        return None
    now = utcnow()
    if now - row.last_seen_at > idle_timeout(row.user.role):
        row.ended_at, row.end_reason = now, EndReason.IDLE.value
        db.session.commit()
        announce_ended(row.user_id)
        return None
    if activity and now - row.last_seen_at >= TOUCH_EVERY:
        row.last_seen_at = now
        db.session.commit()
    row.user.sign_in_token = token
    return row.user


def idle_timeout(role: Role) -> timedelta:
    """Staff screens stand in shared rooms, so they time out sooner than a patient's phone."""
    setting = "PATIENT_IDLE_TIMEOUT_MINUTES" if role is Role.PATIENT else "STAFF_IDLE_TIMEOUT_MINUTES"
    return timedelta(minutes=current_app.config[setting])


def end_all_sessions(user_id: int, reason: str, *, keep_token: str | None = None) -> int:
    """End every open sign-in session of the user (all but `keep_token`'s, when given) and
    close their live sockets; returns how many ended.

    Sign-out, a password change and deactivation call this: whoever holds a copy of a cookie
    is out on their next request, on every device.
    """
    stmt = sa.update(LoginSession).where(LoginSession.user_id == user_id, LoginSession.ended_at.is_(None))
    if keep_token:
        stmt = stmt.where(LoginSession.token_hash != _digest(keep_token))
    ended = changed_rows(db.session.execute(
        stmt.values(ended_at=utcnow(), end_reason=reason).execution_options(synchronize_session=False)
    ))
    db.session.commit()
    announce_ended(user_id)
    return ended


def forget_old_sessions(*, now: datetime | None = None) -> int:
    """Delete sign-ins that ended, or went idle past every timeout, more than
    LOGIN_SESSION_RETENTION_DAYS ago; return how many went.

    They sign nobody in any more, and each keeps an address and a browser: no reason to hold
    them for ever (the audit log keeps every sign-in and sign-out).
    """
    config = current_app.config
    cutoff = (now or utcnow()) - timedelta(days=config["LOGIN_SESSION_RETENTION_DAYS"])
    longest_idle = timedelta(minutes=max(config["STAFF_IDLE_TIMEOUT_MINUTES"], config["PATIENT_IDLE_TIMEOUT_MINUTES"]))
    result = db.session.execute(sa.delete(LoginSession).where(sa.or_(
        LoginSession.ended_at < cutoff,
        sa.and_(LoginSession.ended_at.is_(None), LoginSession.last_seen_at < cutoff - longest_idle),
    )))
    db.session.commit()
    return changed_rows(result)


def announce_ended(user_id: int) -> None:
    """Tell every web process to re-check this user's sockets; they also re-check on their own
    every few seconds, so a lost announcement only delays the closing."""
    try:
        get_redis().publish(SESSION_ENDED_CHANNEL, json.dumps({"user_id": user_id}))
    except RedisError:
        log.warning("could not announce an ended session; sockets close at their next re-check")


def user_id_of_announcement(data: str) -> int | None:
    try:
        user_id = json.loads(data)["user_id"]
    except (ValueError, KeyError, TypeError):
        return None
    return user_id if isinstance(user_id, int) else None


def _digest(token: str) -> str:
    """Rows keep a hash, so a copy of the database signs nobody in."""
    return hashlib.sha256(token.encode()).hexdigest()
