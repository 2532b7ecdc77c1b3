"""Where each role lands after signing in."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user, login_required

from app.models.enums import Role
from app.views.access import admin_required, staff_required

bp = Blueprint("home", __name__)


@bp.get("/")
@login_required
def index():
    """Send each role to its own home page."""
    if current_user.role is Role.PATIENT:
        return redirect(url_for("inbox.index"))
    if current_user.role is Role.ADMIN:
        return redirect(url_for("home.admin"))
    return redirect(url_for("home.dashboard"))


@bp.get("/dashboard")
@staff_required
def dashboard():
    """The practitioner's home."""
    return render_template("dashboard/home.html")


@bp.get("/admin")
@admin_required
def admin():
    """The admin's home."""
    return render_template("admin/home.html")
