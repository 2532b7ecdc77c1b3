"""Field readers the request schemas share: text as typed, and a moment in time."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from app.services.input_rules import CONTROL_CHARACTERS, has_control_characters, parse_moment


def text(*, multiline: bool) -> Callable[[Any], str]:
    """Text as typed, less surrounding blanks; a control character is refused, never dropped."""

    def parse(raw: Any) -> str:
        if raw is None:
            return ""
        if not isinstance(raw, str):
            raise ValueError("Give this as text")
        if has_control_characters(raw, multiline=multiline):
            raise ValueError(CONTROL_CHARACTERS)
        return raw.strip()

    return parse


def moment(raw: Any) -> datetime | None:
    return None if raw is None or raw == "" else parse_moment(raw)


def at_most(limit: int, what: str) -> Callable[[str], str]:
    """Text no longer than `limit`, saying how long it is when it is longer."""

    def check(value: str) -> str:
        if len(value) > limit:
            raise ValueError(f"The {what} is {len(value)} characters; the limit is {limit}")
        return value

    return check
