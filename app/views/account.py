"""A person's own account: every signed-in user, whatever their role."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from app.extensions import limiter
from app.forms.account import ChangePasswordForm
from app.services.accounts import change_password
from app.services.errors import ValidationError

bp = Blueprint("account", __name__, url_prefix="/account")


@bp.get("")
@login_required
def index():
    """The account page: change your password."""
    return render_template("account/index.html", password_form=ChangePasswordForm())


@bp.post("/password")
@login_required
@limiter.limit(
    lambda: current_app.config["LOGIN_RATE_LIMIT"],
    error_message="Too many password attempts from here. Wait a minute, then try again.",
)
def password():
    """Change your password: the current one, then the new one twice."""
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            change_password(current_user, current=form.current_password.data, new=form.new_password.data)
        except ValidationError as exc:
            for name, message in exc.errors.items():
                form[name].errors = [*form[name].errors, message]
        else:
            flash("Your password is changed. You stay signed in here; everywhere else is signed out.", "info")
            return redirect(url_for("account.index"))
    return render_template("account/index.html", password_form=form), 422
