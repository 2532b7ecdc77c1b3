"""The password rules: long enough, not common, nothing of the holder's name or email."""

import pytest

from app.services.password_policy import (
    HAS_EMAIL,
    HAS_NAME,
    TOO_COMMON,
    TOO_LONG,
    TOO_SHORT,
    password_problem,
)

NAME, EMAIL = "Dr. Vaidya Ramesh", "priya.sharma@clinic.test"


def problem(password: str) -> str | None:
    return password_problem(password, name=NAME, email=EMAIL)


def test_eleven_characters_are_too_short():
    assert problem("river stone") == TOO_SHORT


def test_twelve_characters_of_anything_else_are_enough():
    assert problem("river stones") is None


def test_more_than_128_characters_are_too_long():
    assert (problem("m" * 128), problem("m" * 129)) == (None, TOO_LONG)


def test_a_common_password_is_refused_whatever_its_case():
    assert problem("QwertyUiop123") == TOO_COMMON


def test_a_common_password_with_digits_and_symbols_added_is_still_common():
    assert problem("iloveyou2024!!") == TOO_COMMON


@pytest.mark.parametrize("password", ["my RAMESH account", "vaidya-and-the-rest"])
def test_a_password_containing_part_of_the_name_is_refused(password):
    assert problem(password) == HAS_NAME


def test_titles_and_initials_in_a_name_do_not_count():
    assert problem("drumming on the roof") is None


@pytest.mark.parametrize("password", ["Priya.Sharma@home", "login-of-sharma"])
def test_a_password_containing_the_email_before_the_at_is_refused(password):
    assert problem(password) == HAS_EMAIL

