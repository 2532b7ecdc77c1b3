"""Staff set up, move and turn off two-factor sign-in from their account."""

from __future__ import annotations

import segno
from flask import Blueprint, Flask, Response, flash, redirect, render_template, request, url_for
from flask_login import current_user
from markupsafe import Markup
from werkzeug.wrappers import Response as BaseResponse

from app.forms.account import TwoFactorCodeForm
from app.services import two_factor
from app.services.errors import Conflict, ValidationError
from app.views.access import staff_required
from app.views.account import account_page
from app.views.form_errors import show_errors
from app.views.htmx import is_htmx
from app.views.two_factor_steps import limit_code_attempts

bp = Blueprint("two_factor", __name__, url_prefix="/account/two-factor")

# What staff who must set up two-factor sign-in may still open: its set-up page and sign-out.
OPEN_BEFORE_SET_UP = frozenset({"two_factor.setup", "auth.logout", "static"})
# The JSON API knows no sign-in at all (its keys stand for themselves), so no sign-in redirects it.
SIGN_IN_FREE_BLUEPRINTS = frozenset({"api"})


def register(app: Flask) -> None:
    app.before_request(set_up_first)


def set_up_first() -> BaseResponse | None:
    """Send staff whom the clinic requires to use two-factor sign-in, and who have not set it up,
    to its set-up page from every other page (htmx requests move the whole page there)."""
    if request.blueprint in SIGN_IN_FREE_BLUEPRINTS or request.endpoint in OPEN_BEFORE_SET_UP:
        return None
    if not current_user.is_authenticated:
        return None
    if not two_factor.must_set_up(current_user):
        return None
    target = url_for("two_factor.setup")
    if is_htmx():
        return Response(status=403, headers={"HX-Redirect": target})
    return redirect(target)


@bp.route("/setup", methods=["GET", "POST"])
@staff_required
def setup():
    """Set up an authenticator app: scan the QR code, then prove it with a code."""
    form = TwoFactorCodeForm()
    if form.validate_on_submit():
        try:
            codes = two_factor.confirm_enrolment(current_user, form.code.data)
        except ValidationError as exc:
            show_errors(form, exc.errors)
        else:
            return render_template("account/recovery_codes.html", codes=codes)
    secret = two_factor.pending_secret(current_user)
    return render_template(
        "account/two_factor_setup.html", form=form,
        qr_svg=_qr_svg(two_factor.provisioning_uri(current_user, secret)),
        secret_groups=" ".join(secret[i:i + 4] for i in range(0, len(secret), 4)),
        must_set_up=two_factor.must_set_up(current_user),
    ), 422 if form.errors else 200


@bp.post("/disable")
@staff_required
@limit_code_attempts
def disable():
    """Turn two-factor sign-in off, with a current code."""
    form = TwoFactorCodeForm()
    if form.validate_on_submit():
        try:
            two_factor.disable(current_user, form.code.data)
        except ValidationError as exc:
            show_errors(form, exc.errors)
        except Conflict as exc:
            flash(exc.message, "error")
            return redirect(url_for("account.index"))
        else:
            flash("Two-factor sign-in is off. Signing in asks only for your password now.", "info")
            return redirect(url_for("account.index"))
    return account_page(disable_form=form), 422


def _qr_svg(uri: str) -> Markup:
    """The QR code as inline SVG: drawn here, so the secret never goes to a QR service, and
    inline, so the page needs no image source beyond its own."""
    return Markup(segno.make(uri, error="m").svg_inline(scale=5, dark="#000", light="#fff", svgclass="qr-code"))
