"""Provider webhooks: the only routes without a login, so every request must prove its sender.

Twilio signs with the account's auth token over the public URL it called; SendGrid signs with
an ECDSA key over timestamp + body. A webhook whose provider is not configured does not exist
(404), and anything unsigned, mis-signed or stale is refused before it is read. Twilio signs
no time, so its requests are acted on once each, by message sid (a replay gets a 2xx and
changes nothing).
"""

from __future__ import annotations

import binascii
import json
import time

from flask import Blueprint, Response, abort, current_app, jsonify, request
from sendgrid.helpers.eventwebhook import EventWebhook, EventWebhookHeader
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from app.extensions import csrf
from app.services import provider_events
from app.services.errors import ValidationError

bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")
csrf.exempt(bp)  # providers cannot hold a CSRF token; their signatures stand in for it

MAX_BODY_BYTES = 1024 * 1024


@bp.post("/twilio/status")
def twilio_status():
    """Twilio's delivery report for an SMS we sent (a replayed one is acknowledged, ignored)."""
    _verify_twilio()
    try:
        provider_events.apply_twilio_status(
            request.form.get("MessageSid", ""), request.form.get("MessageStatus", ""),
            request.form.get("ErrorCode"), request.args.get(provider_events.TWILIO_REFERENCE_ARG),
        )
    except ValidationError as error:
        return jsonify(error="invalid", message=error.message), 400
    return Response(status=204)


@bp.post("/twilio/inbound")
def twilio_inbound():
    """An SMS a patient sent us: STOP, START and HELP are honoured once; the reply is TwiML."""
    _verify_twilio()
    try:
        reply = provider_events.apply_inbound_sms(
            request.form.get("MessageSid") or request.form.get("SmsSid", ""), request.form.get("From", ""),
            request.form.get("Body", ""), clinic=current_app.config["CLINIC_NAME"],
        )
    except ValidationError as error:
        return jsonify(error="invalid", message=error.message), 400
    twiml = MessagingResponse()
    if reply.message:
        twiml.message(reply.message)
    return Response(str(twiml), mimetype="text/xml")


@bp.post("/sendgrid/events")
def sendgrid_events():
    """SendGrid's Event Webhook: delivered, bounced, dropped, spam reports, unsubscribes."""
    payload = _verified_sendgrid_body()
    try:
        events = json.loads(payload)
    except (ValueError, RecursionError):  # RecursionError: nested deeper than the parser goes
        return jsonify(error="invalid", message="the body is not JSON"), 400
    if not isinstance(events, list):
        return jsonify(error="invalid", message="the body must be a JSON array of events"), 400
    changed = provider_events.apply_sendgrid_events(events)
    return jsonify(received=len(events), changed=changed)


def _verify_twilio() -> None:
    token = current_app.config["TWILIO_AUTH_TOKEN"]
    if current_app.config["SMS_PROVIDER"] != "twilio" or not token:
        abort(404)
    _refuse_large_bodies()
    # Twilio signs the URL it called: behind a proxy that is the public one, not ours.
    url = current_app.config["PUBLIC_BASE_URL"].rstrip("/") + request.full_path.rstrip("?")
    signature = request.headers.get("X-Twilio-Signature", "")
    if not signature or not RequestValidator(token).validate(url, request.form.to_dict(), signature):
        abort(403)


def _verified_sendgrid_body() -> bytes:
    key = current_app.config["SENDGRID_WEBHOOK_PUBLIC_KEY"]
    if not key:
        abort(404)
    _refuse_large_bodies()
    payload = request.get_data(cache=True)
    signature = request.headers.get(EventWebhookHeader.SIGNATURE, "")
    timestamp = request.headers.get(EventWebhookHeader.TIMESTAMP, "")
    # isdigit() alone accepts digits int() cannot read, such as "²".
    if not signature or not (timestamp.isascii() and timestamp.isdigit()):
        abort(403)
    # The SDK does not check freshness: a replayed old batch is refused here.
    if abs(time.time() - int(timestamp)) > current_app.config["WEBHOOK_MAX_AGE_SECONDS"]:
        abort(403)
    try:
        valid = EventWebhook(key).verify_signature(payload.decode("utf-8"), signature, timestamp)
    except (binascii.Error, ValueError, UnicodeDecodeError):
        valid = False
    if not valid:
        abort(403)
    return payload


def _refuse_large_bodies() -> None:
    if (request.content_length or 0) > MAX_BODY_BYTES:
        abort(413)
