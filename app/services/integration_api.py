"""What the JSON API does, on the services the pages use: the outbox sends, the Monitor's cancel
and reschedule, the admin's stats and queue health. A key acts as the admin who made it.

Each function answers with the API's models (`app.schemas.api`), so the routes only read input,
check the key's scope and call one of these.
"""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from app.clock import utcnow
from app.extensions import db, get_redis
from app.models.api_key import ApiKey
from app.models.notification import Notification, NotificationGroup, is_public_id
from app.schemas.api import (
    ChangeAnswer,
    ChannelOutcome,
    ChannelState,
    ChannelTotals,
    FailureReasonOut,
    NotificationOut,
    NotificationPage,
    NotificationQuery,
    QueueOut,
    RecipientOutcome,
    SendAnswer,
    StatsAnswer,
    StatsQuery,
)
from app.schemas.send import SendRequest
from app.services import api_keys, outbox, queue_health, scheduling, stats
from app.services.access import visible_notification, visible_notifications
from app.services.api_idempotency import Answer
from app.services.errors import NotFound, ValidationError
from app.services.scheduling import ChannelChange

UTC_ZONE = ZoneInfo("UTC")
_CURSOR_TAG = "n1:"
BAD_CURSOR = "This cursor is not one the API gave; start again without it"


# --- sending -------------------------------------------------------------------------------


def send(key: ApiKey, request: SendRequest, *, now: datetime | None = None) -> Answer:
    """Write a send exactly as the compose form does (the outbox's `write_send`), in the
    caller's transaction, naming the key in the audit log; its jobs go after the commit.

    Raises:
        ValidationError: bad input, field by field; nothing was written.
    """
    now = now or utcnow()
    written = outbox.write_send(key.created_by, request, now=now)
    result = outbox.result_of(written.group_id, created=True)
    api_keys.record_use(key, "send", send=result.group_id)
    return Answer(201, send_answer(result).model_dump(mode="json"),
                  after_commit=lambda: outbox.enqueue_written([written]))


def send_answer(result: outbox.SendResult) -> SendAnswer:
    by_patient: dict[int, list[ChannelOutcome]] = {}
    for item in result.items:
        by_patient.setdefault(item.recipient_id, []).append(
            ChannelOutcome(notification_id=item.notification_id, channel=item.channel, status=item.status,
                           reason=item.reason)
        )
    return SendAnswer(
        send_id=result.group_id, created=result.created, scheduled_at=result.scheduled_at,
        recipients=[RecipientOutcome(patient_id=patient_id, channels=channels)
                    for patient_id, channels in by_patient.items()],
    )


# --- reading -------------------------------------------------------------------------------


def notification(key: ApiKey, public_id: str) -> NotificationOut:
    """One notification (NotFound for an unknown id)."""
    return _out(_visible(key, public_id))


def _visible(key: ApiKey, public_id: str) -> Notification:
    """The notification `public_id` names; NotFound without asking the database for what
    cannot be an id (PostgreSQL refuses a NUL in a query outright)."""
    if not is_public_id(public_id):
        raise NotFound("No such notification")
    return visible_notification(key.created_by, public_id)


def notification_page(key: ApiKey, query: NotificationQuery) -> NotificationPage:
    """Newest first, `query.limit` at a time. The cursor is the last id of the page before, so a
    page costs the same however deep, and nothing written meanwhile shifts an item across pages
    (new ones appear on the first page, never twice)."""
    stmt = visible_notifications(key.created_by).order_by(Notification.id.desc()).limit(query.limit + 1)
    if query.status is not None:
        stmt = stmt.where(Notification.status == query.status)
    if query.type is not None:
        stmt = stmt.where(Notification.type == query.type)
    if query.channel is not None:
        stmt = stmt.where(Notification.channel == query.channel)
    if query.patient is not None:
        stmt = stmt.where(Notification.user_id == query.patient)
    if query.since is not None:
        stmt = stmt.where(Notification.created_at >= query.since)
    if query.cursor is not None:
        stmt = stmt.where(Notification.id < decode_cursor(query.cursor))
    rows = list(db.session.scalars(stmt))
    shown = rows[: query.limit]
    more = len(rows) > query.limit
    return NotificationPage(items=_outs(shown), next_cursor=encode_cursor(shown[-1].id) if more else None)


def encode_cursor(notification_id: int) -> str:
    return base64.urlsafe_b64encode(f"{_CURSOR_TAG}{notification_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    """Raises ValidationError for anything `encode_cursor` did not make."""
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
    except (binascii.Error, ValueError):
        raise ValidationError({"cursor": BAD_CURSOR}) from None
    digits = text.removeprefix(_CURSOR_TAG)
    if not text.startswith(_CURSOR_TAG) or not digits.isascii() or not digits.isdigit() or len(digits) > 18:
        raise ValidationError({"cursor": BAD_CURSOR})
    return int(digits)


def _outs(rows: list[Notification]) -> list[NotificationOut]:
    sends = dict(db.session.execute(
        sa.select(NotificationGroup.id, NotificationGroup.public_id)
        .where(NotificationGroup.id.in_({row.group_id for row in rows}))
    ).all()) if rows else {}
    return [_out(row, sends[row.group_id]) for row in rows]


def _out(row: Notification, send_id: str | None = None) -> NotificationOut:
    return NotificationOut(
        id=row.public_id, send_id=send_id or row.group.public_id, patient_id=row.user_id, type=row.type,
        channel=row.channel, priority=row.priority, status=row.status, status_reason=row.status_reason,
        title=row.title, attempts=row.attempts, scheduled_at=row.scheduled_at, next_attempt_at=row.next_attempt_at,
        sent_at=row.sent_at, delivered_at=row.delivered_at, read_at=row.read_at, cancelled_at=row.cancelled_at,
        failed_at=row.failed_at, created_at=row.created_at, updated_at=row.updated_at,
    )


# --- changing ------------------------------------------------------------------------------


def cancel(key: ApiKey, public_id: str) -> Answer:
    """Cancel the message the notification is a channel of, as Monitor's Cancel does."""
    item = _visible(key, public_id)
    api_keys.record_use(key, "cancel", notification=item.public_id)
    change = scheduling.cancel_message(key.created_by, item.group.public_id, item.user_id)
    return Answer(200, _change_answer(change, change.sentence("Cancelled", too_late="Too late to cancel")))


def reschedule(key: ApiKey, public_id: str, when: datetime | None) -> Answer:
    """Move the message the notification is a channel of, as Monitor's Reschedule does.

    Raises:
        ValidationError: the time has passed or is too far ahead.
    """
    item = _visible(key, public_id)
    api_keys.record_use(key, "reschedule", notification=item.public_id)
    change = scheduling.reschedule_message(key.created_by, item.group.public_id, item.user_id, when or "")
    return Answer(200, _change_answer(change, change.sentence("Rescheduled", too_late="Too late to reschedule")))


def _change_answer(change: ChannelChange, sentence: str) -> dict:
    return ChangeAnswer(
        changed=list(change.changed),
        untouched=[ChannelState(channel=channel, status=status) for channel, status in change.untouched],
        scheduled_at=change.run_at, message=sentence,
    ).model_dump(mode="json")


# --- stats ---------------------------------------------------------------------------------


def stats_answer(query: StatsQuery) -> StatsAnswer:
    """The admin's Stats and Queues pages in one answer (days in UTC).

    Raises:
        ValidationError: the range is backwards or longer than a year.
    """
    today = datetime.now(UTC).date()
    first, last = stats.chosen_range(query.date_from, query.date_to, today)
    report = stats.delivery_stats(first, last, UTC_ZONE)
    summary = queue_health.summary(get_redis())

    def totals(t: stats.PeriodTotals) -> ChannelTotals:
        return ChannelTotals(channel=t.channel, sent=t.sent, delivered=t.delivered, failed=t.failed,
                             failure_rate=t.failure_rate)

    return StatsAnswer(
        date_from=first, date_to=last,
        channels=[totals(t) for t in report.totals], overall=totals(report.overall),
        failure_reasons=[FailureReasonOut(reason=r.reason, count=r.count) for r in report.failure_reasons],
        queues=[QueueOut(name=q.name, queued=q.queued, scheduled=q.scheduled, started=q.started, failed=q.failed)
                for q in summary.queues],
        workers=len(summary.workers),
    )
