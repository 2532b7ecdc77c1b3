"""Normalising the addresses patients are reached at, so every stored one is deliverable in form."""

from __future__ import annotations

from functools import cache
from zoneinfo import available_timezones

import phonenumbers
from email_validator import EmailNotValidError, validate_email

SUPPORTED_LOCALES = ("en", "hi")


def normalise_phone(raw: str, default_region: str = "IN") -> str:
    """Return the number in E.164, or raise ValueError with a message for the user.

    Letters are refused rather than read as keypad digits (phonenumbers turns "abcde" into
    22233), which would store a number nobody gave.
    """
    if any(c.isalpha() for c in raw):
        raise ValueError("A phone number has only digits, spaces and +: remove the letters")
    try:
        number = phonenumbers.parse(raw.strip(), default_region)
    except phonenumbers.NumberParseException as exc:
        raise ValueError("Enter a phone number with its country code, like +91 98765 43210") from exc
    if not phonenumbers.is_valid_number(number):
        raise ValueError("This phone number is not valid")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalise_email(raw: str) -> str:
    """Return the address with its domain normalised, or raise ValueError for the user."""
    try:
        return validate_email(raw.strip(), check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise ValueError(f"This email address is not valid: {exc}") from exc


def check_timezone(name: str) -> str:
    if name not in _timezones():
        raise ValueError(f"Unknown time zone {name!r}; use a name like Asia/Kolkata")
    return name


def check_locale(code: str) -> str:
    if code not in SUPPORTED_LOCALES:
        raise ValueError(f"Unsupported language {code!r}; choose one of {', '.join(SUPPORTED_LOCALES)}")
    return code


@cache
def _timezones() -> frozenset[str]:
    return frozenset(available_timezones())
