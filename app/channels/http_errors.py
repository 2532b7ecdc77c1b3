"""How HTTP providers' answers are classified, in one place for every provider."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

# 401/403 mean our credentials or sender are misconfigured: retrying gives an operator the
# backoff window to fix the settings before the clinic's reminders fail for good.
RETRYABLE_STATUSES = frozenset({401, 403, 408, 429})


def is_retryable_status(status: int) -> bool:
    """5xx, timeouts, rate limits and our own auth problems pass; other 4xx never will."""
    return status >= 500 or status in RETRYABLE_STATUSES


def retry_after_seconds(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, (parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds())
    except (TypeError, ValueError):
        return None
