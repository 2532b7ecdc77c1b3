"""Quiet hours: the patient's local window in which nothing may wake them."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo


def quiet_hours_end(start: time | None, end: time | None, timezone: str, now: datetime) -> datetime | None:
    """When the quiet window around `now` ends (UTC), or None if `now` is outside it.

    The window is in the patient's local time and may cross midnight (22:00 to 07:00).
    """
    if start is None or end is None or start == end:
        return None
    zone = ZoneInfo(timezone)
    local = now.astimezone(zone)
    clock = local.time().replace(tzinfo=None)
    if start < end:
        if not start <= clock < end:
            return None
        end_day = local.date()
    else:
        if end <= clock < start:
            return None
        end_day = local.date() + timedelta(days=1) if clock >= start else local.date()
    return datetime.combine(end_day, end, tzinfo=zone).astimezone(UTC)
