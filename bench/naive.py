"""The naive delivery design, kept only as a benchmark baseline.

One RQ job per notification, run by RQ's forking `Worker` (a fork per job). Each job loads
its one row, builds a fresh twilio Client (so a new TCP connection per message, no
keep-alive), sends, writes the row's status and one event, and commits. This is the shape the
product started from; bench/delivery.py measures it beside the batched pipeline.

Use: `naive.APP = app` in the parent before the worker starts; each forked child inherits it
(call `db.engine.dispose()` before forking so no child inherits an open database connection).
"""

from __future__ import annotations

from flask import Flask
from rq import Queue
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from app.clock import utcnow
from app.extensions import db
from app.models.notification import EventKind, Notification, NotificationEvent
from app.models.status import Status
from app.models.user import User

QUEUE = "bench-naive"
FUNC = "bench.naive.deliver_one"

APP: Flask | None = None


def enqueue_each(queue: Queue, notification_ids: list[int]) -> None:
    """One job per notification, enqueued one at a time."""
    for nid in notification_ids:
        queue.enqueue(FUNC, nid, result_ttl=0, job_timeout=60)


def deliver_one(notification_id: int) -> str:
    """Deliver one SMS notification, naively."""
    assert APP is not None, "bench.naive.APP is not set"
    try:
        with APP.app_context():
            return _deliver(notification_id)
    finally:
        db.engine.dispose()  # this forked child is about to exit: close its own connection


def _deliver(notification_id: int) -> str:
    config = APP.config
    notification = db.session.get(Notification, notification_id)
    if notification is None or notification.status not in (Status.QUEUED, Status.SCHEDULED):
        return "skipped"
    user = db.session.get(User, notification.user_id)
    client = Client(
        config["TWILIO_ACCOUNT_SID"],
        config["TWILIO_AUTH_TOKEN"],
        http_client=TwilioHttpClient(timeout=config["PROVIDER_TIMEOUT_SECONDS"]),
    )
    client.api.base_url = config["TWILIO_BASE_URL"]
    now = utcnow()
    notification.attempts += 1
    notification.provider = "twilio"
    notification.updated_at = now
    try:
        message = client.messages.create(
            to=user.phone,
            from_=config["TWILIO_FROM_NUMBER"],
            body=notification.message,
            status_callback=config["PUBLIC_BASE_URL"].rstrip("/") + "/webhooks/twilio/status",
        )
    except TwilioRestException as exc:
        notification.status = Status.FAILED
        notification.failed_at = now
        notification.error_message = f"twilio error {exc.code} (http {exc.status})"
        kind = EventKind.FAILED
    else:
        notification.status = Status.SENT
        notification.sent_at = now
        notification.provider_message_id = message.sid
        kind = EventKind.SENT
    db.session.add(
        NotificationEvent(
            notification_id=notification.id,
            kind=kind,
            status=notification.status,
            provider="twilio",
            created_at=now,
        )
    )
    db.session.commit()
    return notification.status.value
