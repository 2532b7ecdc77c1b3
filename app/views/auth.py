"""Signing in and out."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, Response, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_url, login_user, logout_user

from app.extensions import limiter, login_manager
from app.forms.auth import LoginForm
from app.models.user import User
from app.services import sign_in_sessions
from app.services.accounts import authenticate
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
def sign_in_first() -> Response:
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
)
def login():
    """Sign in with email and password."""
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    form = LoginForm()
    if form.validate_on_submit():
        user = authenticate(form.email.data, form.password.data)
        if user is not None:
            sign_in_sessions.start_session(user, client_address=request.remote_addr,
                                           user_agent=request.user_agent.string)
            login_user(user, remember=form.remember.data)
            return redirect(local_path(request.args.get("next")) or url_for("home.index"))
        form.password.errors.append("That email and password do not match an active account")
    return render_template("auth/login.html", form=form), 422 if form.errors else 200


@bp.post("/logout")
def logout():
    """Sign out everywhere (a POST, so another site cannot sign you out with a link)."""
    if current_user.is_authenticated:
        sign_in_sessions.end_all_sessions(current_user.id, sign_in_sessions.EndReason.SIGNED_OUT)
    logout_user()
    flash("You are signed out on every device.", "info")
    return redirect(url_for("auth.login"))

