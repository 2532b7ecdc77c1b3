"""Fault injection shared by every fake provider server.

A test queues faults with `fail_next(kind, times, **options)` (whatever recipient comes next)
or `fail_for(recipient, kind, **options)` (only that recipient, every time unless `times` is
given); each request takes at most one fault, recipient-specific ones first. A benchmark can
also ask for a mix drawn at random for every request that has no queued fault
(`fail_randomly({kind: (share, options)}, seed)`).
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field
from typing import Any

# Kinds every fake understands; a fake may add its own (e.g. SMTP "disconnect").
COMMON_KINDS = frozenset({"server_error", "rate_limited", "timeout", "slow", "permanent"})


@dataclass
class Fault:
    kind: str
    remaining: int | None  # None: for ever
    options: dict[str, Any] = field(default_factory=dict)


class FaultPlan:
    """A thread-safe queue of faults, consumed one per request."""

    def __init__(self, kinds: frozenset[str] = COMMON_KINDS) -> None:
        self._kinds = kinds
        self._lock = threading.Lock()
        self._next: list[Fault] = []
        self._by_recipient: dict[str, list[Fault]] = {}
        self._mix: list[tuple[float, str, dict[str, Any]]] = []
        self._random = random.Random()

    def fail_next(self, kind: str, times: int = 1, **options: Any) -> None:
        """Answer the next `times` requests (after those already queued) with `kind`."""
        self._check(kind)
        with self._lock:
            self._next.append(Fault(kind, times, options))

    def fail_for(self, recipient: str, kind: str, times: int | None = None, **options: Any) -> None:
        """Answer requests for `recipient` with `kind`, for ever unless `times` is given."""
        self._check(kind)
        with self._lock:
            self._by_recipient.setdefault(recipient, []).append(Fault(kind, times, options))

    def fail_randomly(self, mix: dict[str, tuple[float, dict[str, Any]]], seed: int | None = None) -> None:
        """Fail each request that has no queued fault with `kind` at its `share` (0.3: 30%)."""
        for kind in mix:
            self._check(kind)
        if sum(share for share, _ in mix.values()) > 1:
            raise ValueError("the shares of a fault mix add up to more than 1")
        with self._lock:
            self._mix = [(share, kind, dict(options)) for kind, (share, options) in mix.items()]
            self._random = random.Random(seed)

    def take(self, recipient: str | None) -> Fault | None:
        """The fault for this request, if any, counting it as used."""
        with self._lock:
            queue = self._by_recipient.get(recipient or "") or self._next
            if not queue:
                return self._drawn()
            fault = queue[0]
            if fault.remaining is not None:
                fault.remaining -= 1
                if fault.remaining <= 0:
                    queue.pop(0)
            return Fault(fault.kind, fault.remaining, dict(fault.options))

    def clear(self) -> None:
        with self._lock:
            self._next.clear()
            self._by_recipient.clear()
            self._mix.clear()

    def _drawn(self) -> Fault | None:
        draw = self._random.random()
        for share, kind, options in self._mix:
            if draw < share:
                return Fault(kind, 0, dict(options))
            draw -= share
        return None

    def _check(self, kind: str) -> None:
        if kind not in self._kinds:
            raise ValueError(f"unknown fault kind {kind!r}; expected one of {sorted(self._kinds)}")
