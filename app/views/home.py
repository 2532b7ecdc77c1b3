"""Where each role lands after signing in."""

from __future__ import annotations

from flask import Blueprint, redirect, url_for
from flask_login import current_user, login_required

from app.vocabulary import Role

bp = Blueprint("home", __name__)

LANDING = {Role.PATIENT: "inbox.index", Role.PRACTITIONER: "dashboard.monitor", Role.ADMIN: "admin.delivery_log"}


@bp.get("/")
@login_required
def index():
    """Send each role to its own home page."""
    return redirect(url_for(LANDING[current_user.role]))
