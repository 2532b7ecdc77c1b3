"""Template filters: times in the viewer's zone and language, text as paragraphs."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from flask import Flask, current_app
from flask_login import current_user

from app.services.rendering import paragraphs_html


def viewer_zone() -> ZoneInfo:
    if current_user.is_authenticated:
        return current_user.zone
    return ZoneInfo(current_app.config["DEFAULT_TIMEZONE"])


def viewer_locale() -> str:
    return current_user.locale if current_user.is_authenticated else current_app.config["DEFAULT_LOCALE"]


def localtime(value: datetime | None, fmt: str = "medium") -> str:
    if value is None:
        return ""
    return format_datetime(value, format=fmt, tzinfo=viewer_zone(), locale=viewer_locale())


def reject_key(mapping, key: str) -> dict:
    """The mapping without `key` (for building "first page" links from the current filters)."""
    return {k: v for k, v in dict(mapping).items() if k != key}


def register(app: Flask) -> None:
    app.add_template_filter(localtime)
    app.add_template_filter(paragraphs_html, name="paragraphs")
    app.add_template_filter(reject_key)
