"""What typed input may be: ids, days, moments in time and text. Each rule lives here once.

Forms, views, services and the CLI all parse through these, so "²", a 25-digit id, the year 1
or a NUL byte is refused in the same words everywhere, instead of failing deep inside `int()`,
the database driver or date arithmetic (which is where a 500 or a traceback came from).
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, date, datetime, time

# Ids are INTEGER columns, 32-bit in PostgreSQL: no row has a larger one, and comparing a column
# with a larger number fails there ("integer out of range"). A bigger id in a URL, a form or a
# command line names nothing. (Widen this with the columns, never before them.)
MAX_ID = 2**31 - 1
# Days outside these make no sense here, and near the ends of Python's calendar (years 1 and
# 9999) converting between time zones overflows.
FIRST_DAY = date(1970, 1, 1)
LAST_DAY = date(2999, 12, 31)

DAY_OUT_OF_RANGE = f"Enter a date between {FIRST_DAY.year} and {LAST_DAY.year}"
NOT_A_MOMENT = "Give the time as ISO 8601 with an offset, like 2026-12-01T09:30:00+05:30"
NO_OFFSET = "Include the time zone offset, like +05:30"
CONTROL_CHARACTERS = "Remove the control characters from this field"
NOT_A_TIME_OF_DAY = "Give a time of day as HH:MM on the 24-hour clock, like 08:00 or 20:30"
NOT_AN_ID = f"An id is a whole number from 1 to {MAX_ID} in the digits 0 to 9"

# Categories no stored text may hold: control characters (C0, DEL and C1: NUL, terminal escape
# sequences) and lone surrogates, which cannot be encoded at all.
_REFUSED_CATEGORIES = frozenset({"Cc", "Cs"})
_LINE_BREAKS = frozenset("\n\r\t")
_TIME_OF_DAY = re.compile(r"([01]?[0-9]|2[0-3]):([0-5][0-9])")


def as_id(value: object) -> int | None:
    """The id `value` names (an int, or a string of ASCII digits) within 1..MAX_ID, else None.

    None for "²" (a digit to `str.isdigit`, not to `int`), "-1", "1e9", 1.0, True or 25 digits.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        if not (value.isascii() and value.isdigit()):
            return None
        value = int(value)
    if not isinstance(value, int):
        return None
    return value if 0 < value <= MAX_ID else None


def plausible_day(day: date) -> bool:
    """Whether `day` lies where dates here can be (and where time zone arithmetic works)."""
    return FIRST_DAY <= day <= LAST_DAY


def parse_moment(raw: str | datetime) -> datetime:
    """The moment `raw` names (ISO 8601 text or an aware datetime), in UTC.

    Raises:
        ValueError: with words for whoever typed it: not a time, no offset, or a day out of range.
    """
    if isinstance(raw, str):
        try:
            when = datetime.fromisoformat(raw.strip())
        except ValueError:
            raise ValueError(NOT_A_MOMENT) from None
    elif isinstance(raw, datetime):
        when = raw
    else:
        raise ValueError(NOT_A_MOMENT)
    if when.tzinfo is None or when.utcoffset() is None:
        raise ValueError(NO_OFFSET)
    if not plausible_day(when.date()):
        raise ValueError(DAY_OUT_OF_RANGE)
    return when.astimezone(UTC)


def parse_wall_clock(raw: str | datetime) -> datetime:
    """The wall-clock time `raw` names (ISO 8601 text or a naive datetime), with no zone: one to
    be read in each person's own zone.

    Raises:
        ValueError: with words for whoever typed it: not a time, an offset given, or a day out of range.
    """
    try:
        when = raw if isinstance(raw, datetime) else datetime.fromisoformat(str(raw).strip())
    except ValueError:
        raise ValueError("Give the local time as ISO 8601 without an offset, like 2026-12-01T08:00") from None
    if when.tzinfo is not None:
        raise ValueError("Give the local time without a zone: it is read in each patient's own zone")
    if not plausible_day(when.date()):
        raise ValueError(DAY_OUT_OF_RANGE)
    return when


def parse_time_of_day(raw: object) -> time:
    """The wall-clock time of day `raw` names ("8:00", "20:30"), to the minute.

    Raises:
        ValueError: with words for whoever typed it ("8 am", "25:00", "08:00:30").
    """
    match = _TIME_OF_DAY.fullmatch(raw.strip()) if isinstance(raw, str) and raw.isascii() else None
    if match is None:
        raise ValueError(NOT_A_TIME_OF_DAY)
    return time(int(match[1]), int(match[2]))


def has_control_characters(text: str, *, multiline: bool = False) -> bool:
    """Whether `text` holds characters no stored text may (PostgreSQL refuses NUL outright, and
    escape sequences rewrite the terminal of whoever reads a log or runs a command).

    Line breaks and tabs are allowed in multi-line text such as a message body.
    """
    return any(
        unicodedata.category(c) in _REFUSED_CATEGORIES and not (multiline and c in _LINE_BREAKS)
        for c in text
    )
