"""Channel fallback: a message that cannot reach its patient on one channel goes on another, once.

A notification falls back when its channel fails for good: the provider refused it permanently
(an invalid number, a rejected address, an unregistered device), the retry policy gave up on
it, or the patient could not be reached on it when it was created or sent (no push device, no
number, an opt-out). A retryable failure (5xx, 429, a timeout) does not: it falls back only
once the retry policy has given up, and never when an attempt timed out after its request
went: the provider may have that message, and its receipt would settle it (a fallback would
then be the same message twice, on two channels). The fallback is the first channel in the clinic's order
(push, then SMS, then email unless an admin changed it) that

- is not already part of the message (this patient's notifications of the send, whatever
  became of them), and is not the inbox, which every message keeps as it is;
- can reach the patient now: a number, an address or a device, and no opt-out (STOP, an
  unsubscribe or a bounce is never overridden).

A channel the patient turned off for the type may carry the fallback: it is the way left to
reach them with a message they were meant to get (a medication reminder to a patient with no
push device goes by SMS). Each message falls back once at most: a fallback that fails is not
itself fallen back from, and of two of a message's channels failing at once only one falls
back, which the `message_fallbacks` key keeps true across workers.

The fallback row is written in the transaction that records the failure, and its job is
enqueued after that commits (the outbox pattern), so a crash between the two loses nothing and
sends nothing twice. Both timelines say why: "SMS failed permanently: twilio error 21211 (http
400); falling back to email".
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.models.notification import (
    EventKind,
    MessageFallback,
    Notification,
    NotificationEvent,
    NotificationGroup,
    new_public_id,
)
from app.models.status import Status
from app.models.user import Device, User
from app.schemas.send import TITLE_MAX
from app.services import lease
from app.services.channel_choice import fallback_channel
from app.services.clinic_settings import fallback_order
from app.services.composing import composer_for_content, template_context
from app.services.enqueueing import DeliveryJob
from app.services.queues import QUEUE_FOR_PRIORITY
from app.services.rendering import FreeText, RenderError
from app.services.transitions import record_events
from app.vocabulary import Channel

CHUNK = 500  # rows per statement


@dataclass(frozen=True, slots=True)
class Stranded:
    """A notification that cannot reach its patient, and why in words for its timeline."""

    notification_id: int
    why: str


def why_failed(channel: Channel, *, permanent: bool, error: str | None, attempts: int) -> str:
    """"SMS failed permanently: twilio error 21211 (http 400)", "Email failed after 5 attempts"."""
    if permanent:
        return f"{channel.label} failed permanently: {error or 'refused by the provider'}"[:200]
    return f"{channel.label} failed after {attempts} attempts"


def why_unreachable(channel: Channel, reason: str) -> str:
    """"Push cannot reach the patient: no push device"."""
    return f"{channel.label} cannot reach the patient: {reason}"


def write_fallbacks(stranded: Sequence[Stranded], *, now: datetime) -> list[DeliveryJob]:
    """Write each stranded message's fallback in the caller's transaction, committing nothing;
    return the jobs to enqueue once it commits (none for a fallback that waits for its time).

    A stranded notification that has since moved on (no longer failed or suppressed) or is in
    the inbox, a message that already fell back, and one with no channel left are passed over.
    """
    if not stranded:
        return []
    why = {s.notification_id: s.why for s in stranded}
    failed = _failed_rows(why)
    if not failed:
        return []
    messages = {(row.group_id, row.user_id) for row in failed}
    used = _channels_used(messages)
    fell_back = _messages_fallen_back(messages)
    first_of_message: dict[tuple[int, int], Any] = {}
    for row in sorted(failed, key=lambda r: r.id):
        key = (row.group_id, row.user_id)
        if key not in fell_back:
            first_of_message.setdefault(key, row)
    if not first_of_message:
        return []
    plans = _plan(list(first_of_message.values()), used)
    claimed = _claim([(row, channel) for row, channel, _ in plans], now)
    planned = [(row, channel, rendered) for row, channel, rendered in plans if (row.group_id, row.user_id) in claimed]
    return _insert(planned, why, now) if planned else []


# --- what fell through ----------------------------------------------------------------------------


def _failed_rows(why: dict[int, str]) -> list[Any]:
    stmt = sa.select(
        Notification.id, Notification.group_id, Notification.user_id, Notification.sender_id, Notification.type,
        Notification.channel, Notification.priority, Notification.status, Notification.data,
        Notification.scheduled_at,
    ).where(Notification.id.in_(list(why)), Notification.status.in_([Status.FAILED, Status.SUPPRESSED]),
            Notification.channel != Channel.IN_APP,
            ~sa.exists().where(NotificationEvent.notification_id == Notification.id,
                               NotificationEvent.ambiguous.is_(True)))
    return list(db.session.execute(stmt).all())


def _channels_used(messages: set[tuple[int, int]]) -> dict[tuple[int, int], set[Channel]]:
    """Every channel each message has a notification on (the query may find other patients of
    the same sends too; they are not asked about)."""
    used: dict[tuple[int, int], set[Channel]] = defaultdict(set)
    stmt = sa.select(Notification.group_id, Notification.user_id, Notification.channel).where(
        Notification.group_id.in_({group_id for group_id, _ in messages}),
        Notification.user_id.in_({user_id for _, user_id in messages}))
    for group_id, user_id, channel in db.session.execute(stmt):
        used[(group_id, user_id)].add(channel)
    return used


def _messages_fallen_back(messages: set[tuple[int, int]]) -> set[tuple[int, int]]:
    stmt = sa.select(MessageFallback.group_id, MessageFallback.user_id).where(
        MessageFallback.group_id.in_({group_id for group_id, _ in messages}),
        MessageFallback.user_id.in_({user_id for _, user_id in messages}))
    return {(group_id, user_id) for group_id, user_id in db.session.execute(stmt)} & messages


# --- choosing and rendering -----------------------------------------------------------------------


def _plan(rows: list[Any], used: dict[tuple[int, int], set[Channel]]) -> list[tuple[Any, Channel, Any]]:
    """(row, fallback channel, its rendering) for each row that has somewhere to go."""
    order = fallback_order()
    users = {u.id: u for u in db.session.scalars(
        sa.select(User).where(User.id.in_({row.user_id for row in rows})).options(selectinload(User.practitioner)))}
    with_devices = set(db.session.scalars(sa.select(Device.user_id).where(
        Device.user_id.in_(list(users)), Device.invalidated_at.is_(None)).distinct()))
    groups = {g.id: g for g in db.session.scalars(
        sa.select(NotificationGroup).where(NotificationGroup.id.in_({row.group_id for row in rows})))}
    composers: dict[int, Any] = {}
    plans = []
    for row in rows:
        patient, group = users[row.user_id], groups[row.group_id]
        channel = fallback_channel(patient, used[(row.group_id, row.user_id)], order,
                                   has_push_device=patient.id in with_devices)
        if channel is None or (group.body is None and group.template_key is None):
            continue  # nowhere left to go, or a send made before its content was kept to render again
        if group.id not in composers:
            free_text = FreeText(group.title, group.body) if group.body is not None else None
            composers[group.id] = composer_for_content(group.type, free_text, group.template_key)
        context = template_context(patient.name, patient.practitioner.name if patient.practitioner else None, row.data)
        try:
            rendered = composers[group.id].render(channel, patient.locale, context)
        except RenderError:
            continue  # the clinic has no template for that channel: the failure stands as it is
        plans.append((row, channel, rendered))
    return plans


# --- writing --------------------------------------------------------------------------------------


def _claim(plans: list[tuple[Any, Channel]], now: datetime) -> set[tuple[int, int]]:
    """Take each message's one fallback; the messages taken (another worker may have won one)."""
    if not plans:
        return set()
    dialect = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
    claimed: set[tuple[int, int]] = set()
    for start in range(0, len(plans), CHUNK):
        values = [{"group_id": row.group_id, "user_id": row.user_id, "failed_id": row.id, "channel": channel,
                   "created_at": now} for row, channel in plans[start : start + CHUNK]]
        stmt = (dialect.insert(MessageFallback).values(values)
                .on_conflict_do_nothing(index_elements=["group_id", "user_id"])
                .returning(MessageFallback.group_id, MessageFallback.user_id))
        claimed.update((group_id, user_id) for group_id, user_id in db.session.execute(stmt))
    return claimed


def _insert(planned: list[tuple[Any, Channel, Any]], why: dict[int, str], now: datetime) -> list[DeliveryJob]:
    """Insert the fallback rows and both timelines' events; return the jobs of those due now."""
    config = current_app.config
    due: dict[str, list[int]] = defaultdict(list)  # queue -> positions of rows due now
    rows: list[dict[str, Any]] = []
    for position, (row, channel, rendered) in enumerate(planned):
        later = row.scheduled_at is not None and row.scheduled_at > now
        if not later:
            due[QUEUE_FOR_PRIORITY[row.priority]].append(position)
        rows.append({
            "public_id": new_public_id(), "group_id": row.group_id, "user_id": row.user_id,
            "sender_id": row.sender_id, "type": row.type, "channel": channel, "priority": row.priority,
            "title": rendered.subject[:TITLE_MAX], "message": rendered.body, "html": rendered.html,
            "data": row.data, "status": Status.SCHEDULED if later else Status.QUEUED,
            "max_attempts": config["MAX_ATTEMPTS"], "scheduled_at": row.scheduled_at,
            "next_attempt_at": row.scheduled_at if later else now, "created_at": now, "updated_at": now,
            **lease.granted_to(None),
        })
    jobs_of: list[tuple[str, str, list[int]]] = []
    for queue, positions in due.items():
        for job_id, batch in lease.grant_batches(positions, config["DELIVERY_BATCH_SIZE"]).items():
            for position in batch:
                rows[position].update(lease.granted_to(job_id))
            jobs_of.append((job_id, queue, batch))
    ids = list(db.session.scalars(
        sa.insert(Notification).returning(Notification.id, sort_by_parameter_order=True), rows))
    events: list[dict[str, Any]] = []
    for (row, channel, _), new_id, new in zip(planned, ids, rows, strict=True):
        detail = f"{why[row.id]}; falling back to {channel.noun}"
        events.append({"notification_id": row.id, "kind": EventKind.FALLBACK, "status": row.status,
                       "detail": detail, "created_at": now})
        events.append({"notification_id": new_id, "kind": EventKind.SCHEDULED if new["status"] is Status.SCHEDULED
                       else EventKind.QUEUED, "status": new["status"], "detail": detail,
                       "scheduled_for": new["scheduled_at"] if new["status"] is Status.SCHEDULED else None,
                       "created_at": now})
    record_events(events)
    return [DeliveryJob(job_id, queue, tuple(ids[p] for p in batch)) for job_id, queue, batch in jobs_of]

