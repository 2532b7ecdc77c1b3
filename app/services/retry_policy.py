"""How long to wait before trying a provider again."""

from __future__ import annotations

import random

RETRY_AFTER_CEILING = 24 * 3600.0  # a provider asking for more than a day is treated as a day


def retry_delay(
    attempt: int,
    *,
    base: float,
    cap: float,
    retry_after: float | None = None,
    rng: random.Random | None = None,
) -> float:
    """Seconds to wait after failed attempt number `attempt` (1 for the first).

    Exponential backoff with jitter: the wait is drawn between half and all of base * 2^(n-1),
    capped, so retries of a group send that failed together do not hit the provider together.
    A provider's Retry-After is a floor: we never come back sooner than it asked.
    """
    ceiling = min(cap, base * 2 ** (attempt - 1))
    delay = (rng or random).uniform(ceiling / 2, ceiling)
    if retry_after is not None and retry_after > 0:
        delay = max(delay, min(retry_after, RETRY_AFTER_CEILING))
    return delay
