"""Hypothesis strategies and settings for the fuzz tests of what people type.

Fuzz tests use the ordinary function-scoped fixtures (the app, signed-in clients, a patient)
once for all their examples. Hypothesis warns about that by default because fixtures are not
reset between examples; these tests are written for it instead: each example checks what it
changed against counts taken just before it, so nothing one example leaves behind (a send
that was accepted, a user created) can make another pass or fail.
"""

from __future__ import annotations

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

# Enough examples to meet each kind of odd input several times, and still a few seconds a test.
FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
FUZZ_SLOW = settings(FUZZ, max_examples=30)  # where each example hashes a password

# Inputs that broke or bent something once, or sit at the edge of a rule.
KNOWN_ODD = st.sampled_from([
    "", " ", "²", "٣", "9" * 25, "-1", "0", "1e3", "1.0", "\x00", "a\x00b", "\x1b[2J", "\x9b31m", "\x07",
    "0001-01-01", "9999-12-31", "1969-12-31", "2026-02-30", "24:00", "23:59", "%", "_", "\\", "' OR 1=1 --",
    "\u202eevil", "💊" * 3, "x" * 501, "all", "+91 98765 abcde", "[1,2]", "{}", '{"when": "Mon"}',
    "0001-01-01T00:00:00+05:30", "9999-12-31T23:59:59-12:00", "2026-12-01T10:00:00",
])


def odd_text(max_size: int = 40) -> st.SearchStrategy[str]:
    """Known odd values, any text (control characters included), and long runs of digits."""
    return st.one_of(KNOWN_ODD, st.text(max_size=max_size), st.from_regex(r"\A[0-9]{1,30}\Z"))


def odd_date() -> st.SearchStrategy[str]:
    return st.one_of(KNOWN_ODD, st.dates().map(str), st.text(max_size=12))


def odd_time() -> st.SearchStrategy[str]:
    return st.one_of(KNOWN_ODD, st.times().map(lambda t: t.strftime("%H:%M")), st.text(max_size=6))


def odd_moment() -> st.SearchStrategy[str]:
    """ISO 8601 moments from any year, with and without offsets, and odd text."""
    offsets = st.sampled_from(["", "Z", "+05:30", "-12:00", "+14:00"])
    moments = st.tuples(st.datetimes(), offsets).map(lambda pair: pair[0].isoformat() + pair[1])
    return st.one_of(KNOWN_ODD, moments, st.text(max_size=30))


def json_values_of(text: st.SearchStrategy[str]) -> st.SearchStrategy[object]:
    """Any JSON value, nested a little, with `text` for strings and object keys."""
    return st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | text,
        lambda children: st.lists(children, max_size=4) | st.dictionaries(text, children, max_size=4),
        max_leaves=12,
    )


def choice_or_odd(*valid: str) -> st.SearchStrategy[str]:
    """One of a field's real choices, or anything else."""
    return st.one_of(st.sampled_from(valid), odd_text(20))
