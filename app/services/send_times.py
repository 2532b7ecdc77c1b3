"""When a send goes: the time a caller asks for, read and bounded in one place.

Compose, the CLI and rescheduling all ask for a moment in the same words and get the same
refusals: a moment in the past (beyond a minute's grace for a form submitted a moment ago), or
more than a year ahead.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo

from app.services.input_rules import parse_moment

PAST_TOLERANCE = timedelta(minutes=1)  # "now" from a form submitted a moment ago is still now
FURTHEST_SCHEDULE = timedelta(days=366)


def check_schedule_time(raw: datetime | str | None, now: datetime, errors: dict[str, str]) -> datetime | None:
    """The UTC time to send at, None for now; problems go into `errors['scheduled_at']`."""
    if raw is None or raw == "":
        return None
    try:
        when = parse_moment(raw)
    except ValueError as exc:
        errors["scheduled_at"] = str(exc)
        return None
    if problem := schedule_problem(when, now):
        errors["scheduled_at"] = problem
        return None
    return when if when > now else None


def schedule_problem(when: datetime, now: datetime) -> str | None:
    """Why `when` cannot be a send time at `now`: too far in the past, or too far ahead."""
    if when < now - PAST_TOLERANCE:
        return "The scheduled time is in the past"
    if when > now + FURTHEST_SCHEDULE:
        return "Schedule no more than a year ahead"
    return None


def in_zone(local: datetime, zone: tzinfo) -> datetime:
    """The UTC moment a wall-clock time (no zone) names in `zone`.

    Raises:
        ValueError: the time does not exist there that day (the clocks go forward over it) or
            happens twice (they go back over it); no rule guesses which one the sender meant.
    """
    first, second = local.replace(tzinfo=zone, fold=0), local.replace(tzinfo=zone, fold=1)
    if first.utcoffset() != second.utcoffset():
        if first.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != local:
            raise ValueError(f"does not exist in {zone} (the clocks go forward over it)")
        raise ValueError(f"happens twice in {zone} (the clocks go back over it)")
    return first.astimezone(UTC)


def recurring_moment(local: datetime, zone: tzinfo) -> datetime:
    """The UTC moment a recurring wall-clock time (a daily dose at 08:00) names in `zone` on
    its day, even across a change of the clocks, where nobody is there to ask.

    A time the clocks skip (02:30 when they go from 02:00 to 03:00) goes the gap's length
    later, at 03:30 on the new clock: as late after the change as it would have been without it.
    A time that happens twice (01:30 when they go back from 02:00 to 01:00) goes at its first
    occurrence: the earlier one, never twice. (Python's fold=0 reading gives both.)
    """
    return local.replace(tzinfo=zone, fold=0).astimezone(UTC)
