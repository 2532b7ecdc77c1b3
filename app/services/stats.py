"""Delivery statistics: sent, delivered and failed per channel per day, and why sends fail.

What is counted: events, by kind, on the day they happened in the viewer's time zone.

- sent: `sent` events, a provider accepting a message (once per notification);
- delivered: `delivered` events, a provider (or the inbox) confirming delivery. In-app items
  are stored and delivered in one step, so they count as delivered and never as sent;
- failed: `failed` events, a notification given up on (a permanent error, the last retry, or
  a bounce reported later). Retries that were attempted again are not failures.

Counting events rather than current statuses keeps each number where it happened: a message
sent on Monday and read on Tuesday stays one of Monday's sent, and later changes do not
rewrite past days.

The failure rate of a channel over the period counts notifications, not events: of those that
reached an outcome in these days (went out, were delivered, or were given up on), the share
given up on. A message sent and then bounced counts once, as a failure.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from app.extensions import db
from app.models.notification import EventKind, Notification, NotificationEvent
from app.models.types import UTCDateTime
from app.services.errors import ValidationError
from app.services.query_filters import day_range
from app.vocabulary import Channel

DEFAULT_DAYS = 14
MAX_DAYS = 366
TOP_REASONS = 10
COUNTED = {EventKind.SENT: "sent", EventKind.DELIVERED: "delivered", EventKind.FAILED: "failed"}


@dataclass(frozen=True)
class DayCounts:
    day: date
    sent: int = 0
    delivered: int = 0
    failed: int = 0


@dataclass(frozen=True)
class ChannelSeries:
    channel: Channel
    days: list[DayCounts]

    @property
    def total(self) -> DayCounts:
        return DayCounts(
            day=self.days[0].day,
            sent=sum(d.sent for d in self.days),
            delivered=sum(d.delivered for d in self.days),
            failed=sum(d.failed for d in self.days),
        )

    @property
    def newest_first(self) -> list[DayCounts]:
        """The days for a table a clinic reads from today backwards."""
        return self.days[::-1]

    @property
    def ticks(self) -> list[int]:
        """Round values for the y axis, from 0 to at or above the busiest day."""
        peak = max((max(d.sent, d.delivered, d.failed) for d in self.days), default=0)
        return axis_ticks(peak)


@dataclass(frozen=True)
class FailureReason:
    reason: str
    count: int


@dataclass(frozen=True)
class PeriodTotals:
    """One channel's numbers for the whole period (or every channel's, when `channel` is None)."""

    channel: Channel | None
    sent: int
    delivered: int
    failed: int
    outcomes: int  # notifications that went out, were delivered or were given up on
    failures: int  # of those, the ones given up on

    @property
    def failure_rate(self) -> float | None:
        """failures / outcomes as a percentage, None when nothing reached an outcome."""
        return round(100 * self.failures / self.outcomes, 1) if self.outcomes else None


@dataclass(frozen=True)
class StatsReport:
    first: date
    last: date
    channels: list[ChannelSeries]
    failure_reasons: list[FailureReason]
    totals: list[PeriodTotals]  # one per channel, in the order of `channels`

    @property
    def overall(self) -> PeriodTotals:
        """Every channel together."""
        return PeriodTotals(None, *(sum(getattr(t, name) for t in self.totals)
                                    for name in ("sent", "delivered", "failed", "outcomes", "failures")))


def default_range(today: date) -> tuple[date, date]:
    """The last DEFAULT_DAYS days, today included."""
    return today - timedelta(days=DEFAULT_DAYS - 1), today


def chosen_range(first: date | None, last: date | None, today: date) -> tuple[date, date]:
    """The days to show for what the admin entered: a missing end is today, a missing start
    is DEFAULT_DAYS before the end. Raises ValidationError for a range `check_range` refuses."""
    last = last or today
    first = first or last - timedelta(days=DEFAULT_DAYS - 1)
    check_range(first, last)
    return first, last


def check_range(first: date, last: date) -> None:
    """Raise ValidationError unless `first`..`last` is an ordered range of at most MAX_DAYS."""
    if first > last:
        raise ValidationError({"to": "The end date must be on or after the start date"})
    if (last - first).days + 1 > MAX_DAYS:
        raise ValidationError({"to": f"Choose a range of at most {MAX_DAYS} days"})


def delivery_stats(first: date, last: date, zone: ZoneInfo) -> StatsReport:
    """Counts for every channel and every day from `first` to `last` (local days in `zone`)."""
    check_range(first, last)
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    counts = _counts_by_day(days, zone)
    channels = [
        ChannelSeries(
            channel=channel,
            days=[DayCounts(day=day, **counts.get((channel, i), {})) for i, day in enumerate(days)],
        )
        for channel in Channel
    ]
    starts, ends = day_range(first, last, zone)
    outcomes = _outcomes_by_channel(starts, ends)
    totals = [
        PeriodTotals(series.channel, series.total.sent, series.total.delivered, series.total.failed,
                     *outcomes.get(series.channel, (0, 0)))
        for series in channels
    ]
    return StatsReport(first=first, last=last, channels=channels,
                       failure_reasons=_failure_reasons(starts, ends), totals=totals)


def _outcomes_by_channel(starts: datetime | None, ends: datetime | None) -> dict[Channel, tuple[int, int]]:
    """Per channel: how many notifications reached an outcome in the period, and how many of
    them failed (each notification once, however many events it had)."""
    failed = sa.case((NotificationEvent.kind == EventKind.FAILED, NotificationEvent.notification_id))
    stmt = (
        sa.select(Notification.channel, sa.func.count(NotificationEvent.notification_id.distinct()),
                  sa.func.count(failed.distinct()))
        .select_from(NotificationEvent)
        .join(Notification, Notification.id == NotificationEvent.notification_id)
        .where(
            NotificationEvent.created_at >= starts,
            NotificationEvent.created_at < ends,
            NotificationEvent.kind.in_(list(COUNTED)),
        )
        .group_by(Notification.channel)
    )
    return {channel: (outcomes, failures) for channel, outcomes, failures in db.session.execute(stmt)}


def _counts_by_day(days: list[date], zone: ZoneInfo) -> dict[tuple[Channel, int], dict[str, int]]:
    """One grouped query; days are joined as UTC ranges so zones and DST shifts are exact.

    The database buckets nothing by itself: a table of each local day's UTC bounds is joined
    to the events, which lets every day use the `created_at` index, on SQLite and
    PostgreSQL alike.
    """
    bounds = sa.values(
        sa.column("day", sa.Integer), sa.column("starts", UTCDateTime()), sa.column("ends", UTCDateTime()),
        name="days",
    ).data([(i, *day_range(day, day, zone)) for i, day in enumerate(days)]).cte("days")
    starts, ends = day_range(days[0], days[-1], zone)
    stmt = (
        sa.select(bounds.c.day, Notification.channel, NotificationEvent.kind, sa.func.count())
        .select_from(NotificationEvent)
        .join(bounds, sa.and_(NotificationEvent.created_at >= bounds.c.starts,
                              NotificationEvent.created_at < bounds.c.ends))
        .join(Notification, Notification.id == NotificationEvent.notification_id)
        .where(
            NotificationEvent.created_at >= starts,
            NotificationEvent.created_at < ends,
            NotificationEvent.kind.in_(list(COUNTED)),
        )
        .group_by(bounds.c.day, Notification.channel, NotificationEvent.kind)
    )
    found: dict[tuple[Channel, int], dict[str, int]] = {}
    for day, channel, kind, count in db.session.execute(stmt):
        found.setdefault((channel, day), {})[COUNTED[kind]] = count
    return found


def _failure_reasons(starts: datetime | None, ends: datetime | None,
                     limit: int = TOP_REASONS) -> list[FailureReason]:
    """The commonest reasons notifications failed: the provider's error, else the event's detail."""
    reason = sa.func.coalesce(NotificationEvent.error, NotificationEvent.detail)
    stmt = (
        sa.select(reason, sa.func.count().label("n"))
        .where(
            NotificationEvent.kind == EventKind.FAILED,
            NotificationEvent.created_at >= starts,
            NotificationEvent.created_at < ends,
        )
        .group_by(reason)
        .order_by(sa.desc("n"), reason)
        .limit(limit)
    )
    return [FailureReason(reason=text or "No reason recorded", count=count)
            for text, count in db.session.execute(stmt)]


def axis_ticks(peak: int, most: int = 5) -> list[int]:
    """0 and evenly spaced round values (steps of 1, 2 or 5 times a power of ten) up to `peak`."""
    step = 1
    while True:
        for factor in (1, 2, 5):
            size = step * factor
            top = -(-max(peak, 1) // size) * size
            if top // size + 1 <= most:
                return list(range(0, top + 1, size))
        step *= 10
