"""A person's own account: their password, time zone and language, whatever their role."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from app.extensions import limiter
from app.forms.account import ChangePasswordForm, TwoFactorCodeForm, ZoneAndLanguageForm
from app.services import two_factor
from app.services.accounts import change_password, change_zone_and_language
from app.services.errors import ValidationError
from app.views.form_errors import show_errors

bp = Blueprint("account", __name__, url_prefix="/account")


@bp.get("")
@login_required
def index():
    """The account page: your password, time zone and language; staff also manage two-factor sign-in."""
    return account_page()


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
            show_errors(form, exc.errors)
        else:
            flash("Your password is changed. You stay signed in here; everywhere else is signed out.", "info")
            return redirect(url_for("account.index"))
    return account_page(password_form=form), 422


@bp.post("/zone")
@login_required
def zone():
    """Change your time zone and language: every time and message after reads in them."""
    form = ZoneAndLanguageForm()
    if form.validate_on_submit():
        try:
            changed = change_zone_and_language(current_user, timezone=form.timezone.data or "",
                                               locale=form.locale.data or "")
        except ValidationError as exc:
            show_errors(form, exc.errors)
        else:
            flash("Saved. Times are now shown in your time zone." if changed else "Nothing to change.", "info")
            return redirect(url_for("account.index"))
    return account_page(zone_form=form), 422


def account_page(*, password_form: ChangePasswordForm | None = None,
                 disable_form: TwoFactorCodeForm | None = None, zone_form: ZoneAndLanguageForm | None = None) -> str:
    """The account page, with the form that was just sent (and its errors) where there is one."""
    offered = two_factor.offered_to(current_user)
    return render_template(
        "account/index.html",
        password_form=password_form or ChangePasswordForm(),
        zone_form=zone_form or ZoneAndLanguageForm(timezone=current_user.timezone, locale=current_user.locale),
        two_factor_offered=offered,
        two_factor_required=offered and two_factor.required_for(current_user),
        disable_form=disable_form or TwoFactorCodeForm(),
        recovery_codes_left=two_factor.recovery_codes_left(current_user) if offered else 0,
    )

