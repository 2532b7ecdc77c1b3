"""The patient's inbox pages."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, redirect, render_template, request, url_for
from flask_login import current_user

from app.services import devices, medication
from app.services import inbox as inbox_service
from app.services.access import visible_notification
from app.services.errors import ValidationError
from app.services.input_rules import as_id
from app.views.access import patient_required
from app.views.htmx import is_htmx, page_or_fragment
from app.views.preferences import preferences_page
from app.vocabulary import Role

bp = Blueprint("inbox", __name__, url_prefix="/inbox")


@bp.get("")
@patient_required
def index():
    """The inbox: unread first, then read, newest first; updates live over the socket."""
    before = as_id(request.args.get("before"))
    page = inbox_service.inbox_page(current_user, before=before)
    template = page_or_fragment("inbox/index.html", "partials/_inbox_read_page.html") if before else "inbox/index.html"
    return render_template(template, page=page)


@bp.get("/<public_id>")
@patient_required
def show(public_id: str):
    """One notification, in full."""
    item = visible_notification(current_user, public_id)
    return render_template("inbox/show.html", item=item, dose=medication.dose_of(item))


@bp.post("/<public_id>/taken")
@patient_required
def mark_taken(public_id: str):
    """The patient took the dose this medication reminder is about (saying it twice changes nothing)."""
    medication.mark_taken(current_user, public_id)
    return redirect(url_for("inbox.show", public_id=public_id))


@bp.post("/<public_id>/read")
@patient_required
def mark_read(public_id: str):
    """Mark one item read; htmx swaps the item and the badge, a plain form goes back to the inbox."""
    item = inbox_service.mark_read(current_user, public_id)
    unread = inbox_service.unread_count(current_user)
    if is_htmx():
        return render_template("partials/_inbox_item_read.html", item=item, unread=unread)
    return redirect(url_for("inbox.index"))


@bp.post("/read-all")
@patient_required
def mark_all_read():
    """Mark everything read."""
    inbox_service.mark_all_read(current_user)
    return redirect(url_for("inbox.index"))


@bp.post("/push-subscription")
@patient_required
def subscribe_browser():
    """Keep this browser's push subscription, so messages reach it with the inbox closed."""
    devices.register_browser(current_user, _json_object())
    return jsonify(subscribed=True), 201


@bp.post("/push-subscription/remove")
@patient_required
def unsubscribe_browser():
    """Forget this browser's push subscription (the patient turned notifications off here)."""
    return jsonify(removed=devices.unregister_browser(current_user, _json_object()))


def _json_object() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ValidationError({"request": "Send a JSON object"})
    return body


@bp.app_context_processor
def unread_badge() -> dict[str, int]:
    """Every page a patient sees shows their unread count in the navigation."""
    if current_user.is_authenticated and current_user.role is Role.PATIENT:
        return {"nav_unread": inbox_service.unread_count(current_user)}
    return {}


@bp.route("/preferences", methods=["GET", "POST"])
@patient_required
def own_preferences():
    """How the patient wants to hear from the clinic, besides this inbox."""
    return preferences_page(current_user, back=url_for("inbox.index"))

