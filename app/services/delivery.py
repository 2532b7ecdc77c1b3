"""Delivering notifications: the worker half of the pipeline.

A job carries a batch of ids. `deliver_batch` claims them with one compare-and-set UPDATE
(`transitions.claim`: pending -> `sending`, only rows still pointing at this job), so a job run
twice, or a job racing a cancel, sends each notification at most once. It then settles what
needs no provider in one transaction: it holds back what quiet hours forbid, suppresses what an
opt-out since creation forbids, and stores in-app items, which are announced to the live inbox
as soon as that commits. Only then, with no transaction open, does it call the providers for
the rest (DELIVERY_CONCURRENCY at once, over keep-alive connections), and it writes outcomes as
they come, each flush one executemany UPDATE and one multi-row event INSERT
(`transitions.write_outcomes`), after which it applies any provider receipt that overtook that
commit (`provider_events`). Meanwhile it renews the lease of the rows it still holds, so the
sweeper can tell this worker from a dead one within seconds. Retries and deferrals wait in the
database, granted to no job, until the scheduler enqueues them (`app.services.scheduler`).

Known duplicate window: a worker that dies after a provider accepted a message but before the
commit leaves the row in `sending`; the sweeper retries it once its lease lapses, and the
patient may get it twice. A message's slot is reused only after its outcome is committed, so
a crash repeats at most DELIVERY_CONCURRENCY messages per worker, never a whole batch.
"""

from __future__ import annotations

import itertools
import logging
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import sqlalchemy as sa
from flask import Flask, current_app

from app.channels.base import DeliveryResult, OutboundMessage, Outcome, Provider, WebPushSubscription
from app.channels.registry import get_provider
from app.clock import utcnow
from app.extensions import db, get_redis
from app.models.notification import EventKind, Notification
from app.models.status import Status
from app.models.user import Device, User
from app.services import email_unsubscribe, lease
from app.services.channel_choice import unreachable_reason
from app.services.database_outage import committed, is_outage
from app.services.enqueueing import DeliveryJob, enqueue_jobs
from app.services.fallback import Stranded, why_failed, why_unreachable, write_fallbacks
from app.services.live_inbox import publish_inbox_items
from app.services.provider_events import TWILIO_REFERENCE_ARG, apply_receipts_kept_for
from app.services.quiet_hours import quiet_hours_end
from app.services.retry_policy import retry_delay
from app.services.transitions import change_status, claim, renew_lease, write_outcomes
from app.vocabulary import Channel, DeviceKind

log = logging.getLogger(__name__)

STATUS_CALLBACK_PATH = "/webhooks/twilio/status"


@dataclass
class BatchReport:
    """What one job did, by outcome; logged by the job (counts only, no PHI)."""

    claimed: int = 0
    skipped: int = 0  # not claimable: cancelled, already handled, deleted, or another job's
    sent: int = 0
    delivered: int = 0
    retried: int = 0
    failed: int = 0
    deferred: int = 0
    suppressed: int = 0


@dataclass
class _Outcomes:
    """Per-row results gathered before the one write at the end of a batch."""

    updates: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    live: list[tuple[int, int]] = field(default_factory=list)
    invalid_tokens: set[str] = field(default_factory=set)
    stranded: list[Stranded] = field(default_factory=list)  # to fall back on another channel


def deliver_batch(ids: Sequence[int], job_id: str | None = None, *, now: datetime | None = None) -> BatchReport:
    """Deliver the notifications of one job; safe to run twice (the second run does nothing).

    `now` pins the clock for the whole batch; without it, each write of outcomes is stamped
    with its own time.
    """
    pinned = now
    clock: Callable[[], datetime] = utcnow if pinned is None else (lambda: pinned)
    now = clock()
    report = BatchReport()
    claimed = claim(ids, job_id, now=now)
    db.session.commit()
    report.claimed = len(claimed)
    report.skipped = len(set(ids)) - len(claimed)
    if not claimed:
        return report

    rows = _load(claimed)
    devices = _push_devices([r.user_id for r in rows if r.channel is Channel.PUSH])
    config = current_app.config
    settled = _Outcomes()
    to_send: list[tuple[Any, OutboundMessage]] = []
    suppressed: dict[str, list[Any]] = defaultdict(list)
    in_app: list[Any] = []

    for row in rows:
        quiet_until = None
        if row.channel.interrupts and not row.type.is_urgent:
            quiet_until = quiet_hours_end(row.quiet_hours_start, row.quiet_hours_end, row.timezone, now)
        if quiet_until is not None:
            _defer(settled, row, quiet_until, now)
            continue
        reason = unreachable_reason(row, row.channel, has_push_device=row.user_id in devices)
        if reason is not None:
            suppressed[reason].append(row)
            continue
        if row.channel is Channel.IN_APP:
            in_app.append(row)
            continue
        to_send.append((row, _message_for(row, devices, config)))

    # What needs no provider is stored, committed and announced before the first provider call:
    # the commit also ends the transaction the load began, so no connection sits idle in a
    # transaction while a batch of HTTP calls runs, and an inbox item does not wait on an SMS.
    _settle_without_provider(settled, suppressed, in_app, report, now)
    _write(settled, report, now)

    # Flask types current_app as the app itself; it is a proxy, and the sending threads need the app.
    _send_and_record(current_app._get_current_object(), to_send, report, clock)  # type: ignore[attr-defined]
    return report


def _send_and_record(app: Flask, to_send: list[tuple[Any, OutboundMessage]], report: BatchReport,
                     clock: Callable[[], datetime]) -> None:
    """Send, writing outcomes as they come, and renew the lease of what is still held."""
    holding = {row.id for row, _ in to_send}
    renewal = lease.Renewal()
    for finished in _send_window(app, to_send, renewal.due_in):
        if finished:
            now = clock()
            outcomes = _Outcomes()
            for row, result, latency_ms in finished:
                _record_attempt(outcomes, row, result, latency_ms, now, app.config)
                holding.discard(row.id)
            _write(outcomes, report, now)
        if holding and renewal.due_in() == 0:
            try:
                renew_lease(holding, now=clock())
                db.session.commit()
            except sa.exc.DBAPIError as error:  # the next outcome write waits for the database
                db.session.rollback()
                if not is_outage(error):
                    raise
            renewal.done()


def _settle_without_provider(outcomes: _Outcomes, suppressed: dict[str, list[Any]], in_app: list[Any],
                             report: BatchReport, now: datetime) -> None:
    for reason, rows in suppressed.items():
        moved = change_status([r.id for r in rows], Status.SUPPRESSED, EventKind.SUPPRESSED,
                              only_from=[Status.SENDING], values={"status_reason": reason}, detail=reason, now=now)
        report.suppressed += len(moved)
        channel_of = {r.id: r.channel for r in rows}
        outcomes.stranded.extend(Stranded(nid, why_unreachable(channel_of[nid], reason)) for nid in moved)
    if in_app:
        delivered = change_status(
            [r.id for r in in_app], Status.DELIVERED, EventKind.DELIVERED, only_from=[Status.SENDING],
            values={"delivered_at": now, "provider": "in_app", "attempts": Notification.attempts + 1},
            detail="stored in the inbox", now=now,
        )
        report.delivered += len(delivered)
        user_of = {r.id: r.user_id for r in in_app}
        outcomes.live.extend((user_of[nid], nid) for nid in delivered)


def _write(outcomes: _Outcomes, report: BatchReport, now: datetime) -> None:
    """Store and commit the outcomes (through a database outage) with the fallbacks of what
    could not reach its patient, then enqueue those and announce inbox items."""

    def store() -> tuple[list[Any], list[DeliveryJob]]:
        applied = write_outcomes(outcomes.updates, outcomes.events, now=now)
        _invalidate_devices(outcomes.invalid_tokens, now)
        fallbacks = write_fallbacks(outcomes.stranded, now=now)
        db.session.commit()
        return applied, fallbacks

    applied, fallbacks = committed(store, what=f"{len(outcomes.updates)} outcome(s)")
    enqueue_jobs(get_redis(), fallbacks, timeout=current_app.config["JOB_TIMEOUT_SECONDS"])
    if len(applied) != len(outcomes.updates):
        log.warning("%d outcome(s) arrived after their rows were recovered", len(outcomes.updates) - len(applied))
    # A provider's receipt can overtake the commit above (or report on an ambiguous attempt
    # while this one ran); it was kept, and applies now.
    if applied:
        apply_receipts_kept_for([update["id"] for update in applied])
        db.session.commit()

    publish_inbox_items(get_redis(), outcomes.live)
    for update in applied:
        status = update["status"]
        if status is Status.SENT:
            report.sent += 1
        elif status is Status.QUEUED:
            report.retried += 1
        elif status is Status.FAILED:
            report.failed += 1
        elif status is Status.SCHEDULED:
            report.deferred += 1


# --- load ---------------------------------------------------------------------------------


_LOAD_COLUMNS = (
    Notification.id,
    Notification.public_id,
    Notification.user_id,
    Notification.channel,
    Notification.type,
    Notification.title,
    Notification.message,
    Notification.html,
    Notification.data,
    Notification.attempts,
    Notification.max_attempts,
    User.email,
    User.phone,
    User.timezone,
    User.quiet_hours_start,
    User.quiet_hours_end,
    User.sms_opted_out_at,
    User.email_opted_out_at,
)


def _load(ids: Sequence[int]) -> list[Any]:
    stmt = sa.select(*_LOAD_COLUMNS).join(User, User.id == Notification.user_id).where(Notification.id.in_(list(ids)))
    return list(db.session.execute(stmt).all())


@dataclass(slots=True)
class _Devices:
    """A patient's valid push devices: app tokens, and browser subscriptions."""

    tokens: list[str] = field(default_factory=list)
    browsers: list[WebPushSubscription] = field(default_factory=list)


def _push_devices(user_ids: Sequence[int]) -> dict[int, _Devices]:
    if not user_ids:
        return {}
    stmt = sa.select(Device.user_id, Device.kind, Device.token, Device.web_push_p256dh, Device.web_push_auth).where(
        Device.user_id.in_(set(user_ids)), Device.invalidated_at.is_(None)
    ).order_by(Device.id)
    found: dict[int, _Devices] = defaultdict(_Devices)
    for user_id, kind, token, p256dh, auth in db.session.execute(stmt):
        if kind == DeviceKind.WEB_PUSH:
            found[user_id].browsers.append(WebPushSubscription(token, p256dh or "", auth or ""))
        else:
            found[user_id].tokens.append(token)
    return found


def _message_for(row: Any, devices: dict[int, _Devices], config: Any) -> OutboundMessage:
    to = {Channel.SMS: row.phone, Channel.EMAIL: row.email}.get(row.channel, str(row.user_id))
    push = devices.get(row.user_id, _Devices()) if row.channel is Channel.PUSH else _Devices()
    return OutboundMessage(
        notification_id=row.id,
        reference=row.public_id,
        channel=row.channel,
        to=to or "",
        subject=row.title,
        body=row.message,
        html=row.html,
        push_tokens=tuple(push.tokens),
        web_push=tuple(push.browsers),
        data={"type": row.type.value},
        # Our reference rides in the callback URL, so a receipt for an attempt whose answer never
        # came (and whose message id we never heard) still finds its notification.
        status_callback_url=config["PUBLIC_BASE_URL"].rstrip("/") + STATUS_CALLBACK_PATH + "?"
        + urlencode({TWILIO_REFERENCE_ARG: row.public_id})
        if row.channel is Channel.SMS
        else None,
        unsubscribe_url=email_unsubscribe.link_for(row.user_id, row.email, row.type, config)
        if row.channel is Channel.EMAIL and row.email
        else None,
    )


# --- sending ------------------------------------------------------------------------------


Finished = list[tuple[Any, DeliveryResult, int]]


def _send_window(app: Flask, to_send: list[tuple[Any, OutboundMessage]],
                 wake_in: Callable[[], float]) -> Iterator[Finished]:
    """Yield what has finished, as (row, result, latency in ms), each time some has, or an
    empty list when `wake_in()` seconds pass with nothing finished (time to renew the lease).

    At most DELIVERY_CONCURRENCY messages are out at once, and a finished message's slot goes to
    the next one only once the caller has taken what was yielded (and written it): sent but not
    yet recorded never exceeds the slots. The pool's threads keep their provider connections open
    from one batch to the next; providers are looked up here, in the app context.
    """
    if not to_send:
        return
    providers = {message.channel: get_provider(app, message.channel) for _, message in to_send}
    pool = _pool(app)
    waiting = iter(to_send)
    out: dict[Future, Any] = {}

    def fill(slots: int) -> None:
        for row, message in itertools.islice(waiting, slots):
            out[pool.submit(_timed_send, providers[message.channel], message)] = row

    fill(app.config["DELIVERY_CONCURRENCY"])
    while out:
        done, _ = wait(out, timeout=wake_in(), return_when=FIRST_COMPLETED)
        finished = [(out.pop(future), *future.result()) for future in done]
        yield finished
        fill(len(finished))


def _timed_send(provider: Provider, message: OutboundMessage) -> tuple[DeliveryResult, int]:
    started = time.perf_counter()
    try:
        result = provider.send(message)
    except Exception as exc:  # a provider bug must not lose the notification: retry it
        log.exception("provider %s raised instead of answering", provider.name)
        result = DeliveryResult(Outcome.RETRYABLE, provider.name, error=f"provider error: {type(exc).__name__}")
    return result, round((time.perf_counter() - started) * 1000)


def _pool(app: Flask) -> ThreadPoolExecutor:
    pool = app.extensions.get("delivery_pool")
    if pool is None:
        pool = ThreadPoolExecutor(max_workers=app.config["DELIVERY_CONCURRENCY"], thread_name_prefix="deliver")
        app.extensions["delivery_pool"] = pool
    return pool


def shutdown_pool(app: Flask) -> None:
    pool = app.extensions.pop("delivery_pool", None)
    if pool is not None:
        pool.shutdown(wait=True)


# --- outcomes -----------------------------------------------------------------------------


def _record_attempt(outcomes: _Outcomes, row: Any, result: DeliveryResult, latency_ms: int,
                    now: datetime, config: Any) -> None:
    attempts = row.attempts + 1
    update = _blank_update(row.id)
    update.update(attempts=attempts, provider=result.provider,
                  provider_message_id=result.provider_message_id, error_message=result.error)
    detail = None
    run_at = None
    if result.ok:
        update.update(status=Status.SENT, sent_at=now)
        kind = EventKind.SENT
    elif result.outcome is Outcome.RETRYABLE and attempts < row.max_attempts:
        delay = retry_delay(attempts, base=config["RETRY_BASE_SECONDS"], cap=config["RETRY_MAX_SECONDS"],
                            retry_after=result.retry_after)
        run_at = now + timedelta(seconds=delay)
        # Granted to no job: it waits in the database until the scheduler enqueues it, when due.
        update.update(status=Status.QUEUED, next_attempt_at=run_at, **lease.granted_to(None))
        kind = EventKind.RETRY
        detail = f"attempt {attempts} of {row.max_attempts} {_what_went_wrong(result)}; retrying in {round(delay)} s"
    else:
        update.update(status=Status.FAILED, failed_at=now, status_reason=_failure_reason(result, attempts))
        kind = EventKind.FAILED
        detail = update["status_reason"]
        outcomes.stranded.append(Stranded(row.id, why_failed(
            row.channel, permanent=result.outcome is Outcome.PERMANENT, error=result.error, attempts=attempts)))
    outcomes.updates.append(update)
    outcomes.invalid_tokens.update(result.invalid_tokens)
    outcomes.events.append(
        {"notification_id": row.id, "kind": kind, "status": update["status"], "detail": detail,
         "provider": result.provider, "http_status": result.http_status, "latency_ms": latency_ms,
         "error": result.error[:500] if result.error else None, "scheduled_for": run_at, "created_at": now,
         "ambiguous": result.ambiguous}
    )


def _what_went_wrong(result: DeliveryResult) -> str:
    return "timed out (the provider may have it: its receipt would settle it)" if result.ambiguous else "failed"


def _failure_reason(result: DeliveryResult, attempts: int) -> str:
    if result.outcome is Outcome.PERMANENT:
        return f"rejected by {result.provider}: {result.error or 'permanent error'}"[:200]
    return f"gave up after {attempts} attempts: {result.error or 'provider unavailable'}"[:200]


def _defer(outcomes: _Outcomes, row: Any, until: datetime, now: datetime) -> None:
    update = _blank_update(row.id)
    update.update(status=Status.SCHEDULED, attempts=row.attempts, next_attempt_at=until, **lease.granted_to(None))
    outcomes.updates.append(update)
    outcomes.events.append(
        {"notification_id": row.id, "kind": EventKind.DEFERRED, "status": Status.SCHEDULED,
         "detail": "quiet hours", "scheduled_for": until, "created_at": now}
    )


_UPDATE_FIELDS = (
    "status", "attempts", "provider", "provider_message_id", "error_message", "status_reason",
    "sent_at", "failed_at", "next_attempt_at", "job_id",
)


def _blank_update(notification_id: int) -> dict[str, Any]:
    """Every outcome sets the same columns (one executemany); those it does not use are null."""
    update: dict[str, Any] = dict.fromkeys(_UPDATE_FIELDS)
    update["id"] = notification_id
    return update


def _invalidate_devices(tokens: set[str], now: datetime) -> None:
    if tokens:
        db.session.execute(
            sa.update(Device).where(Device.token.in_(tokens), Device.invalidated_at.is_(None))
            .values(invalidated_at=now).execution_options(synchronize_session=False)
        )
