"""Signing in and out."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, Response, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_url, login_user, logout_user
from werkzeug.wrappers import Response as BaseResponse

from app.extensions import limiter, login_manager
from app.forms.account import TwoFactorCodeForm
from app.forms.auth import LoginForm
from app.models.user import User
from app.services import sign_in, sign_in_sessions, two_factor
from app.services import sign_in_throttle as throttle
from app.views import two_factor_steps
from app.views.filters import when
from app.views.htmx import is_htmx
from app.views.safe_redirect import local_path

bp = Blueprint("auth", __name__)

login_manager.login_view = "auth.login"
login_manager.login_message = "Please sign in to continue."
login_manager.login_message_category = "info"
login_manager.session_protection = "strong"
# Cookies carry a revocable sign-in token (app/services/sign_in_sessions.py), not the user id.
login_manager.id_attribute = "get_sign_in_token"
# Pages that refresh themselves send this header (static/js/app.js): a screen left open is idle.
POLL_HEADER = "X-Poll"


@login_manager.user_loader
def load_user(token: str) -> User | None:
    return sign_in_sessions.user_for_token(token, activity=POLL_HEADER not in request.headers)


@login_manager.unauthorized_handler
def sign_in_first() -> BaseResponse:
    """Off to sign in, then back. An htmx request (a page polling after its sign-in ended) moves
    the whole page there, instead of swapping the sign-in form into a part of it."""
    if POLL_HEADER not in request.headers:  # the page a person opens next says it, once
        flash(login_manager.login_message, login_manager.login_message_category)
    if is_htmx():
        page = urlsplit(request.headers.get("HX-Current-URL", ""))
        back = local_path(page.path + (f"?{page.query}" if page.query else ""))
        return Response(status=401, headers={"HX-Redirect": url_for("auth.login", next=back)})
    return redirect(login_url(login_manager.login_view, next_url=request.url))


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(
    lambda: current_app.config["LOGIN_RATE_LIMIT"],
    methods=["POST"],
    error_message="Too many sign-in attempts from here. Wait a minute, then try again.",
    # Only failures count, so a clinic's staff signing in from one address do not use it up.
    deduct_when=lambda response: response.status_code != 302,
)
def login():
    """Sign in with email and password."""
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    form = LoginForm()
    if form.validate_on_submit():
        outcome = sign_in.sign_in(
            form.email.data, form.password.data,
            device_cookie=request.cookies.get(throttle.KNOWN_DEVICE_COOKIE),
            client_address=request.remote_addr, user_agent=request.user_agent.string,
        )
        if outcome.user is not None:
            if outcome.earlier_failures is not None:
                flash(_failures_warning(outcome.earlier_failures), "error")
            next_path = local_path(request.args.get("next"))
            if outcome.code_needed:
                two_factor_steps.begin(outcome.user, remember=form.remember.data, next_path=next_path)
                response = redirect(url_for("auth.login_code"))
            else:
                login_user(outcome.user, remember=form.remember.data)
                response = redirect(next_path or url_for("home.index"))
            _remember_device(response, outcome.device_cookie)
            return response
        if outcome.wait_seconds:
            form.password.errors.append(
                f"This account has had too many failed sign-ins. Try again in {_duration(outcome.wait_seconds)}."
            )
            return render_template("auth/login.html", form=form), 429
        form.password.errors.append("That email and password do not match an active account")
    return render_template("auth/login.html", form=form), 422 if form.errors else 200


def _remember_device(response: BaseResponse, cookie: str | None) -> None:
    """This browser now counts as known for the account: failures elsewhere do not block it."""
    if cookie:
        response.set_cookie(
            throttle.KNOWN_DEVICE_COOKIE, cookie, max_age=int(throttle.KNOWN_DEVICE_LIFETIME.total_seconds()),
            secure=current_app.config["SESSION_COOKIE_SECURE"], httponly=True,
            samesite=current_app.config["SESSION_COOKIE_SAMESITE"],
        )


def _failures_warning(failures: throttle.FailedAttempts) -> str:
    return (f"There were {failures.count} failed sign-in attempts on your account since {when(failures.since)}. "
            "If they were not you, tell your clinic's administrator.")


def _duration(seconds: int) -> str:
    if seconds < 60:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = -(-seconds // 60)
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


@bp.route("/login/code", methods=["GET", "POST"])
@limiter.limit(
    lambda: current_app.config["LOGIN_RATE_LIMIT"],
    methods=["POST"],
    error_message="Too many sign-in attempts from here. Wait a minute, then try again.",
    deduct_when=lambda response: response.status_code != 302,
)
@two_factor_steps.limit_code_attempts
def login_code():
    """Second step of signing in for staff with two-factor sign-in: the authenticator's code."""
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    half_way = two_factor_steps.pending()
    if half_way is None:
        two_factor_steps.end()
        flash("Sign in with your email and password first.", "info")
        return redirect(url_for("auth.login"))
    user, remember, next_path = half_way
    form = TwoFactorCodeForm()
    if form.validate_on_submit():
        kind = sign_in.sign_in_with_code(user, form.code.data, client_address=request.remote_addr,
                                         user_agent=request.user_agent.string)
        if kind is not None:
            two_factor_steps.end()
            login_user(user, remember=remember)
            if kind is two_factor.CodeKind.RECOVERY:
                flash(f"You used a recovery code; {two_factor.recovery_codes_left(user)} left. If you lost your "
                      "phone, set up two-factor sign-in on a new one from your account page.", "info")
            return redirect(next_path or url_for("home.index"))
        form.code.errors.append(two_factor.WRONG_CODE)
    return render_template("auth/login_code.html", form=form), 422 if form.errors else 200


@bp.post("/logout")
def logout():
    """Sign out everywhere (a POST, so another site cannot sign you out with a link)."""
    two_factor_steps.end()
    if current_user.is_authenticated:
        sign_in.sign_out(current_user)
    logout_user()
    flash("You are signed out on every device.", "info")
    return redirect(url_for("auth.login"))

