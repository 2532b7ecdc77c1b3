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


def _hours(value: str) -> tuple[float, ...]:
    """Hours before an event, comma-separated ("24,2"); "none" for none at all."""
    if value.strip().lower() == "none":
        return ()
    hours = tuple(float(part) for part in value.split(","))
    if any(not 0 < h <= 24 * 30 for h in hours):
        raise ValueError(f"hours before an appointment must be above 0 and at most 720, not {value!r}")
    return hours


def _window_hours(value: str) -> float:
    """How far ahead medication reminders are written: more than the hour between refills."""
    hours = float(value)
    if not 2 <= hours <= 24 * 30:
        raise ValueError(f"the medication reminder window is 2 to 720 hours, not {value!r}")
    return hours


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
    # A sign-in ends after this long without a request: sooner for staff, whose screens stand
    # in shared rooms, than for patients on their own phones.
    # Per account: failed sign-ins allowed before each further attempt must wait, the first wait
    # (doubling with every failure) and the longest.
    "LOGIN_ACCOUNT_FREE_FAILURES": ("5", int),
    "LOGIN_ACCOUNT_DELAY_SECONDS": ("30", int),
    "LOGIN_ACCOUNT_MAX_DELAY_SECONDS": ("900", int),
    "STAFF_IDLE_TIMEOUT_MINUTES": ("30", int),
    "PATIENT_IDLE_TIMEOUT_MINUTES": ("1440", int),
    "LOGIN_SESSION_RETENTION_DAYS": ("30", int),
    # Requests each API key may make (Flask-Limiter's notation; counted in Redis across processes).
    "API_RATE_LIMIT": ("600 per minute", str),
    # Wrong two-factor codes allowed per account, wherever they are tried.
    "TWO_FACTOR_RATE_LIMIT": ("5 per minute;30 per day", str),
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
    # Browser push (Web Push): the clinic's VAPID key pair, which `make run` writes into .env once.
    "VAPID_PUBLIC_KEY": ("", str),
    "VAPID_PRIVATE_KEY": ("", str),
    "VAPID_SUBJECT": ("mailto:clinic@example.org", str),
    # Delivery pipeline.
    "DELIVERY_BATCH_SIZE": ("200", int),
    "DELIVERY_CONCURRENCY": ("8", int),
    "MAX_ATTEMPTS": ("5", int),
    "RETRY_BASE_SECONDS": ("30", float),
    "RETRY_MAX_SECONDS": ("3600", float),
    "JOB_TIMEOUT_SECONDS": ("600", int),
    "LEASE_SECONDS": ("10", float),
    "DATABASE_OUTAGE_SECONDS": ("120", float),
    "SWEEP_INTERVAL_SECONDS": ("10", float),
    "SWEEP_GRACE_SECONDS": ("5", float),
    "SCHEDULER_LOCK_SECONDS": ("10", float),
    "WEBHOOK_MAX_AGE_SECONDS": ("300", int),
    "WEBHOOK_STATUS_RECEIPT_DAYS": ("30", int),
    "MAX_BODY_CHARS": ("5000", int),
    "MAX_RECIPIENTS": ("10000", int),
    "APPOINTMENT_REMINDER_HOURS": ("24,2", _hours),
    "UNSUBSCRIBE_LINK_DAYS": ("90", int),
    "MEDICATION_REMINDER_WINDOW_HOURS": ("48", _window_hours),
}


# Keys copied from examples and tutorials: anyone can sign a session cookie with them.
PLACEHOLDER_SECRET_KEYS = frozenset({
    "change-me", "changeme", "change_me", "change-this", "changethis", "replace-me", "secret", "secret-key",
    "secretkey", "your-secret-key", "my-secret-key", "dev", "development", "test", "testing", "default",
    "password", "xxx", "none", "null", "please-change-me", "insecure", "not-a-secret",
})
MIN_SECRET_KEY_BYTES = 32
MIN_SECRET_KEY_DISTINCT = 8  # "0000…" is long enough and still no secret


def secret_key_problem(key: str) -> str | None:
    """Why `key` cannot sign sessions and form tokens, or None when it can."""
    remedy = "set SECRET_KEY to a random value, e.g. `python -c 'import secrets; print(secrets.token_hex(32))'`"
    if not key:
        return f"SECRET_KEY is not set: {remedy} in the environment or in .env (`make run` writes one)"
    if key.strip().lower() in PLACEHOLDER_SECRET_KEYS:
        return f"SECRET_KEY is the placeholder {key.strip()!r} from an example: {remedy}"
    if len(key.encode()) < MIN_SECRET_KEY_BYTES:
        return f"SECRET_KEY is {len(key.encode())} bytes; use at least {MIN_SECRET_KEY_BYTES}: {remedy}"
    if len(set(key)) < MIN_SECRET_KEY_DISTINCT:
        return f"SECRET_KEY repeats a few characters, so it is easy to guess: {remedy}"
    return None


def load_settings(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Read every setting from the process environment, or from `environ` alone, over the defaults.

    Only the process environment also finds the embedded Redis that `make run` started: settings
    read from a given mapping (`{}` for the bare defaults) depend on nothing else on the machine.
    """
    source = os.environ if environ is None else environ
    settings: dict[str, Any] = {}
    for name, (default, parse) in _SETTINGS.items():
        settings[name] = parse(source.get(name) or default)  # empty means "use the default"
    if not settings["PUBLIC_BASE_URL"]:
        settings["PUBLIC_BASE_URL"] = f"http://127.0.0.1:{settings['PORT']}"
    if environ is None and settings["REDIS_URL"] is None and EMBEDDED_REDIS_URL_FILE.exists():
        settings["REDIS_URL"] = EMBEDDED_REDIS_URL_FILE.read_text().strip()
    return settings


def setting_names() -> list[str]:
    """Every setting the product reads, so the `.env.example` test can prove each is documented."""
    return list(_SETTINGS)


def environment_spelling(value: Any) -> str:
    """A setting's value as the environment spells it, so a process started with it reads the
    same value back (`none` for no hours, `24,2` for two)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, tuple):
        return ",".join(f"{v:g}" if isinstance(v, float) else str(v) for v in value) or "none"
    return str(value)
