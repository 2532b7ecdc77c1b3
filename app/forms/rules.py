"""Field validators every form shares, each a thin wrapper over one rule in `input_rules`."""

from __future__ import annotations

from wtforms.validators import ValidationError

from app.services.input_rules import (
    CONTROL_CHARACTERS,
    DAY_OUT_OF_RANGE,
    NOT_AN_ID,
    as_id,
    has_control_characters,
    plausible_day,
)


def printable(form, field) -> None:
    """One line of text without control characters (a name, a title, a search)."""
    if field.data and has_control_characters(field.data):
        raise ValidationError(CONTROL_CHARACTERS)


def printable_text(form, field) -> None:
    """Text of several lines (a message body): line breaks and tabs, but no other control characters."""
    if field.data and has_control_characters(field.data, multiline=True):
        raise ValidationError(CONTROL_CHARACTERS)


def plausible_date(form, field) -> None:
    """A day where dates here can be, so day arithmetic and time zones work."""
    if field.data and not plausible_day(field.data):
        raise ValidationError(DAY_OUT_OF_RANGE)


def id_or_name(form, field) -> None:
    """A search for a person: part of a name, or an id that can be one ("²" or 25 digits cannot)."""
    text = (field.data or "").strip()
    if text.isdigit() and as_id(text) is None:
        raise ValidationError(NOT_AN_ID)
