"""The step between a right password and a right code, and the limit on code attempts.

After the password, an enrolled user is not signed in: the session holds only who is half-way
and until when, so no other page opens (every page needs Flask-Login's signed-in user). The
session cookie is signed, not secret, and a copy of it can be replayed, so the count of wrong
codes is kept on the server, per person, where replaying a cookie cannot reset it.
"""

from __future__ import annotations

import time

from flask import current_app, session
from flask_login import current_user

from app.extensions import db, limiter
from app.models.user import User

PENDING_KEY = "two_factor_pending"
PENDING_SECONDS = 300


def begin(user: User, *, remember: bool, next_path: str | None) -> None:
    """Remember that `user` gave the right password and still owes a code."""
    session[PENDING_KEY] = {"user_id": user.id, "remember": remember, "next": next_path,
                            "until": int(time.time()) + PENDING_SECONDS}


def pending() -> tuple[User, bool, str | None] | None:
    """The half-signed-in user, whether to remember them, and where they were going; or None
    when nobody is half-way, the step has expired, or the account changed meanwhile."""
    state = session.get(PENDING_KEY)
    if not isinstance(state, dict) or not isinstance(state.get("user_id"), int):
        return None
    if state.get("until", 0) < time.time():
        session.pop(PENDING_KEY, None)
        return None
    user = db.session.get(User, state["user_id"])
    if user is None or not user.active or not user.two_factor_enabled:
        return None
    return user, bool(state.get("remember")), state.get("next")


def end() -> None:
    session.pop(PENDING_KEY, None)


def _attempting_user_key() -> str:
    if current_user.is_authenticated:
        return f"user:{current_user.id}"
    state = session.get(PENDING_KEY)
    return f"user:{state.get('user_id')}" if isinstance(state, dict) else "user:none"


# One budget per person for every place a two-factor code is tried (the sign-in step, turning
# it off); only refused codes spend it.
limit_code_attempts = limiter.shared_limit(
    lambda: current_app.config["TWO_FACTOR_RATE_LIMIT"],
    scope="two-factor-code",
    key_func=_attempting_user_key,
    methods=["POST"],
    deduct_when=lambda response: response.status_code != 302,
    error_message="Too many wrong codes for this account. Wait a while, then try again.",
)
