"""Template filters: times in the viewer's zone and language, text as paragraphs."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime, format_time
from flask import Flask, current_app
from flask_babel import gettext
from flask_login import current_user
from markupsafe import Markup

from app.clock import utcnow
from app.models.notification import EventKind, NotificationEvent
from app.models.status import Status
from app.services.rendering import paragraphs_html
from app.vocabulary import Channel


def viewer_zone() -> ZoneInfo:
    if current_user.is_authenticated:
        return current_user.zone
    return ZoneInfo(current_app.config["DEFAULT_TIMEZONE"])


def viewer_locale() -> str:
    return current_user.locale if current_user.is_authenticated else current_app.config["DEFAULT_LOCALE"]


def localtime(value: datetime | None, fmt: str = "medium") -> str:
    if value is None:
        return ""
    return format_datetime(value, format=fmt, tzinfo=viewer_zone(), locale=viewer_locale())


def when(value: datetime | None) -> str:
    """A moment in words in the viewer's zone, "Tue 2 Dec, 07:00" (with the year when it is not
    this year's): for when something is planned to happen."""
    if value is None:
        return ""
    zone = viewer_zone()
    this_year = datetime.now(zone).year == value.astimezone(zone).year
    pattern = "EEE d MMM, HH:mm" if this_year else "EEE d MMM y, HH:mm"
    return format_datetime(value, format=pattern, tzinfo=zone, locale=viewer_locale())


def day(value: date) -> str:
    """A calendar day in words in the viewer's language, "Wednesday 2 December"."""
    return format_date(value, "EEEE d MMMM y", locale=viewer_locale())


_EVENT_WORDS = {
    EventKind.QUEUED: "Queued to go now",
    EventKind.SCHEDULED: "Scheduled",
    EventKind.SUPPRESSED: "Skipped",
    EventKind.SENT: "Accepted by the provider",
    EventKind.DELIVERED: "Delivered",
    EventKind.RETRY: "Attempt failed; trying again",
    EventKind.FAILED: "Failed",
    EventKind.DEFERRED: "Held for quiet hours",
    EventKind.CANCELLED: "Cancelled",
    EventKind.RESCHEDULED: "Rescheduled",
    EventKind.READ: "Read by the patient",
    EventKind.REQUEUED: "Queued again: its job was lost",
    EventKind.RECOVERED: "Queued again: the worker sending it stopped",
    EventKind.FALLBACK: "Sent on another channel instead",
}
# How an event's time joins its words: "Scheduled for …", "Held for quiet hours until …".
_EVENT_TIME_WORD = {EventKind.DEFERRED: "until", EventKind.RETRY: "at"}


def event_headline(event: NotificationEvent) -> str:
    """What happened, in words, with any time it set in the viewer's zone:
    "Scheduled for Tue 2 Dec, 07:00", "Rescheduled to go now"."""
    words = _EVENT_WORDS[event.kind]
    if event.scheduled_for is not None:
        return f"{words} {_EVENT_TIME_WORD.get(event.kind, 'for')} {when(event.scheduled_for)}"
    if event.kind is EventKind.RESCHEDULED:
        return f"{words} to go now"
    return words


def status_pill(status: Status) -> Markup:
    """A status as a coloured pill. A filter rather than a macro: Monitor shows a few hundred."""
    return Markup('<span class="status status-{}">{}</span>').format(status.value, status.label)


def channel_label(channel: Channel) -> Markup:
    return Markup('<span class="channel channel-{}">{}</span>').format(channel.value, channel.label)


def short_time(value: datetime | None) -> str:
    """A time as a person says it, to the minute: "Today, 15:42", "Yesterday, 09:05",
    "1 Dec, 15:42", or "1 Dec 2025, 15:42" for another year (the viewer's zone and language)."""
    if value is None:
        return ""
    zone, locale = viewer_zone(), viewer_locale()
    local = value.astimezone(zone)
    today = utcnow().astimezone(zone).date()
    if local.date() == today:
        day = gettext("Today")
    elif local.date() == today - timedelta(days=1):
        day = gettext("Yesterday")
    else:
        day = format_date(local, "d MMM" if local.year == today.year else "d MMM y", locale=locale)
    return f"{day}, {format_time(local, 'HH:mm', locale=locale)}"


def reject_key(mapping, key: str) -> dict:
    """The mapping without `key` (for building "first page" links from the current filters)."""
    return {k: v for k, v in dict(mapping).items() if k != key}


def register(app: Flask) -> None:
    app.add_template_filter(localtime)
    app.add_template_filter(when)
    app.add_template_filter(day)
    app.add_template_filter(event_headline)
    app.add_template_filter(status_pill)
    app.add_template_filter(channel_label)
    app.add_template_filter(short_time)
    app.add_template_filter(paragraphs_html, name="paragraphs")
    app.add_template_filter(reject_key)
