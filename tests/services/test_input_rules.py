"""The one place that bounds typed ids, days, moments and text."""

from datetime import UTC, date, datetime, time, timedelta, timezone

import pytest

from app.services.input_rules import (
    MAX_ID,
    as_id,
    has_control_characters,
    parse_moment,
    parse_time_of_day,
    plausible_day,
)


@pytest.mark.parametrize("raw, expected", [
    ("1", 1), (7, 7), ("2147483647", 2147483647), (MAX_ID, MAX_ID),
    ("2147483648", None), (MAX_ID + 1, None), ("9" * 25, None), ("²", None), ("٣", None), ("0", None),
    ("-1", None), ("1e3", None), (" 7", None), ("", None), (None, None), (True, None), (1.0, None), ([1], None),
])
def test_an_id_is_a_whole_number_a_postgresql_integer_column_can_hold(raw, expected):
    assert as_id(raw) == expected


@pytest.mark.parametrize("day, plausible", [
    (date(1970, 1, 1), True), (date(2999, 12, 31), True), (date(1, 1, 1), False), (date(9999, 12, 31), False),
])
def test_days_are_plausible_between_1970_and_2999(day, plausible):
    assert plausible_day(day) is plausible


def test_a_moment_is_read_with_its_offset_and_given_in_utc():
    assert parse_moment("2026-12-01T09:30:00+05:30") == datetime(2026, 12, 1, 4, 0, tzinfo=UTC)


@pytest.mark.parametrize("raw, message", [
    ("tomorrow", "Give the time as ISO 8601 with an offset"),
    ("2026-12-01T09:30:00", "Include the time zone offset"),
    (datetime(2026, 12, 1, 9, 30), "Include the time zone offset"),
    ("0001-01-01T00:00:00+05:30", "Enter a date between 1970 and 2999"),
    ("9999-12-31T23:59:59-05:00", "Enter a date between 1970 and 2999"),
    (datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=5, minutes=30))), "Enter a date between 1970 and 2999"),
    (20261201, "Give the time as ISO 8601 with an offset"),
])
def test_a_moment_that_cannot_be_one_is_refused_in_words(raw, message):
    with pytest.raises(ValueError, match=message):
        parse_moment(raw)


@pytest.mark.parametrize("text", ["a\x00b", "\x1b[2J", "\x9b31m", "\x7f", "\udcff", "line\nbreak"])
def test_control_characters_are_found_in_one_line_text(text):
    assert has_control_characters(text)


@pytest.mark.parametrize("text", ["Priya Sharma", "प्रिया शर्मा", "क्‍ष", "\u202eRTL", "💊"])
def test_names_in_any_script_have_no_control_characters(text):
    assert not has_control_characters(text)


def test_a_message_may_break_lines_and_use_tabs_but_nothing_else():
    assert not has_control_characters("Morning:\tTriphala\r\nEvening", multiline=True)
    assert has_control_characters("Morning\x1b[31m", multiline=True)


@pytest.mark.parametrize("raw, expected", [("08:00", time(8)), ("8:05", time(8, 5)), (" 23:59 ", time(23, 59)),
                                           ("00:00", time(0))])
def test_a_time_of_day_is_read_to_the_minute_on_the_24_hour_clock(raw, expected):
    assert parse_time_of_day(raw) == expected


@pytest.mark.parametrize("raw", ["24:00", "8 am", "08:00:30", "08.00", "０８:００", "", None, 800])
def test_a_time_of_day_that_cannot_be_one_is_refused_in_words(raw):
    with pytest.raises(ValueError, match="HH:MM on the 24-hour clock"):
        parse_time_of_day(raw)
