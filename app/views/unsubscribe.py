"""The one-click unsubscribe link in every non-urgent email (RFC 8058), open without signing in."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_babel import force_locale

from app.extensions import csrf
from app.services import email_unsubscribe
from app.services.email_unsubscribe import LinkExpired, Unsubscribe

bp = Blueprint("unsubscribe", __name__, url_prefix="/unsubscribe")
csrf.exempt(bp)  # mail clients POST with no form token (RFC 8058); the signed link stands in for it


@bp.get("/<token>")
def confirm(token: str):
    """What the link stops, with a button for that kind of email and one for all email."""
    try:
        link = email_unsubscribe.read_link(token)
    except LinkExpired:
        return render_template("unsubscribe/expired.html"), 410
    return _page(link, token, done=False)


@bp.post("/<token>")
def stop(token: str):
    """A mail client's one-click POST stops the link's kind; the page's second button, all email."""
    try:
        link = email_unsubscribe.unsubscribe(token, everything=request.form.get("scope") == "all")
    except LinkExpired:
        return render_template("unsubscribe/expired.html"), 410
    return _page(link, token, done=True)


def _page(link: Unsubscribe, token: str, *, done: bool):
    with force_locale(link.patient.locale):
        return render_template("unsubscribe/page.html", link=link, token=token, done=done)
