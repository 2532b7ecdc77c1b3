"""The only place that reads the environment.

Every setting the product knows is listed here with its default; `.env.example` documents each
one for operators. The defaults are the embedded ones: SQLite under `instance/`, an embedded
Redis started by `make run`, and console providers that need no credentials.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent
INSTANCE_DIR = PROJECT_ROOT / "instance"
# Written by `make run` while its embedded Redis is up, so `flask` commands in another terminal
# reach the same Redis without any setup.
EMBEDDED_REDIS_URL_FILE = INSTANCE_DIR / "embedded-redis.url"

_TRUE = {"1", "true", "yes", "on"}


def _flag(value: str) -> bool:
    return value.strip().lower() in _TRUE


def _optional(value: str) -> str | None:
    return value or None


# name -> (default as the environment would spell it, parser)
_SETTINGS: dict[str, tuple[str, Any]] = {
    "SECRET_KEY": ("", str),
    "DATABASE_URL": (f"sqlite:///{INSTANCE_DIR / 'sutra.db'}", str),
    "REDIS_URL": ("", _optional),
    # The port `make run` serves on; links in messages follow it unless PUBLIC_BASE_URL is set.
    "PORT": ("5000", int),
    "PUBLIC_BASE_URL": ("", str),
    "CLINIC_NAME": ("Sutra Ayurveda Clinic", str),
    "DEFAULT_TIMEZONE": ("Asia/Kolkata", str),
    "DEFAULT_LOCALE": ("en", str),
    "SESSION_COOKIE_SECURE": ("false", _flag),
    "TRUSTED_PROXIES": ("0", int),
    "LOGIN_RATE_LIMIT": ("10 per minute;100 per hour", str),
    # What SMS and push carry: "minimal" sends a notice and keeps the full text in the inbox
    # behind login; "full" sends the free text itself.
    "SMS_PUSH_BODIES": ("minimal", str),
    # Providers, one per channel.
    "SMS_PROVIDER": ("console", str),
    "EMAIL_PROVIDER": ("console", str),
    "PUSH_PROVIDER": ("console", str),
    "PROVIDER_TIMEOUT_SECONDS": ("10", float),
    "TWILIO_ACCOUNT_SID": ("", str),
    "TWILIO_AUTH_TOKEN": ("", str),
    "TWILIO_FROM_NUMBER": ("", str),
    "TWILIO_MESSAGING_SERVICE_SID": ("", str),
    "TWILIO_BASE_URL": ("", _optional),
    "SENDGRID_API_KEY": ("", str),
    "SENDGRID_BASE_URL": ("", _optional),
    "SENDGRID_WEBHOOK_PUBLIC_KEY": ("", str),
    "EMAIL_FROM": ("clinic@example.org", str),
    "EMAIL_FROM_NAME": ("Sutra Ayurveda Clinic", str),
    "SMTP_HOST": ("localhost", str),
    "SMTP_PORT": ("587", int),
    "SMTP_USERNAME": ("", str),
    "SMTP_PASSWORD": ("", str),
    "SMTP_STARTTLS": ("true", _flag),
    "FCM_CREDENTIALS_FILE": ("", _optional),
    "FCM_PROJECT_ID": ("", _optional),
    "FCM_BASE_URL": ("", _optional),
    # Delivery pipeline.
    "DELIVERY_BATCH_SIZE": ("200", int),
    "DELIVERY_CONCURRENCY": ("8", int),
    "MAX_ATTEMPTS": ("5", int),
    "RETRY_BASE_SECONDS": ("30", float),
    "RETRY_MAX_SECONDS": ("3600", float),
    "JOB_TIMEOUT_SECONDS": ("600", int),
    "SWEEP_INTERVAL_SECONDS": ("30", float),
    "SWEEP_GRACE_SECONDS": ("30", float),
    "WEBHOOK_MAX_AGE_SECONDS": ("300", int),
    "MAX_BODY_CHARS": ("5000", int),
    "MAX_RECIPIENTS": ("10000", int),
}


def load_settings(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Read every setting from the environment, falling back to the embedded defaults."""
    environ = os.environ if environ is None else environ
    settings: dict[str, Any] = {}
    for name, (default, parse) in _SETTINGS.items():
        settings[name] = parse(environ.get(name) or default)  # empty means "use the default"
    if not settings["PUBLIC_BASE_URL"]:
        settings["PUBLIC_BASE_URL"] = f"http://127.0.0.1:{settings['PORT']}"
    if settings["REDIS_URL"] is None and EMBEDDED_REDIS_URL_FILE.exists():
        settings["REDIS_URL"] = EMBEDDED_REDIS_URL_FILE.read_text().strip()
    return settings


def setting_names() -> list[str]:
    """Every setting the product reads, so the `.env.example` test can prove each is documented."""
    return list(_SETTINGS)
