"""What every fake provider server keeps and lets a test control, whatever its protocol."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from tests.fakes.faults import COMMON_KINDS, FaultPlan

# How long a "timeout" fault holds a request unless told otherwise: far longer than the
# providers' timeout in tests, and released at once by reset() or stop().
DEFAULT_HOLD_SECONDS = 10.0
# How long a "slow" fault delays a correct answer unless told otherwise.
DEFAULT_SLOW_SECONDS = 0.2


class FakeState:
    """Accepted messages, connection and attempt counters, faults and latency."""

    fault_kinds: frozenset[str] = COMMON_KINDS

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._received: list[dict[str, Any]] = []
        self._connections = 0
        self._attempts = 0
        self._latency = 0.0
        # Set to let every held request go (reset, stop); replaced by a fresh one on reset.
        self._release = threading.Event()
        self._faults = FaultPlan(self.fault_kinds)
        self._before_answering: Callable[[dict[str, Any]], None] | None = None

    @property
    def received(self) -> list[dict[str, Any]]:
        """Every accepted message, oldest first (a copy)."""
        with self._lock:
            return list(self._received)

    @property
    def connections(self) -> int:
        """Distinct TCP connections accepted since the last reset."""
        with self._lock:
            return self._connections

    @property
    def attempts(self) -> int:
        """Delivery attempts seen since the last reset, whether accepted or failed."""
        with self._lock:
            return self._attempts

    def fail_next(self, kind: str, times: int = 1, **options: Any) -> None:
        """Fail the next `times` deliveries, whoever they are for, with `kind`."""
        self._faults.fail_next(kind, times, **options)

    def fail_for(self, recipient: str, kind: str, times: int | None = None, **options: Any) -> None:
        """Fail deliveries to `recipient` with `kind`, for ever unless `times` is given."""
        self._faults.fail_for(recipient, kind, times, **options)

    def fail_randomly(self, mix: dict[str, tuple[float, dict[str, Any]]], seed: int | None = None) -> None:
        """Fail each delivery without a queued fault with a kind drawn from `mix` at its share."""
        self._faults.fail_randomly(mix, seed)

    def set_latency(self, seconds: float) -> None:
        """Delay every answer by `seconds`."""
        self._latency = seconds

    def before_answering(self, callback: Callable[[dict[str, Any]], None] | None) -> None:
        """Call `callback(entry)` for each accepted message while its sender still waits.

        It runs in the server's handler thread after the message is recorded and before the
        answer goes back, so a test can look at the sender mid-request, or make something
        happen (a provider's callback, say) before the sender hears that its message went.
        """
        self._before_answering = callback

    def reset(self) -> None:
        """Forget messages, counters, faults, latency and hooks; release any held request."""
        self._faults.clear()
        self._latency = 0.0
        self._before_answering = None
        with self._lock:
            self._received.clear()
            self._connections = 0
            self._attempts = 0
            released, self._release = self._release, threading.Event()
        released.set()

    def record(self, entry: dict[str, Any]) -> None:
        with self._lock:
            self._received.append(entry)
        if self._before_answering is not None:
            self._before_answering(dict(entry))

    def _count_attempt(self) -> None:
        with self._lock:
            self._attempts += 1

    def _count_connection(self) -> None:
        with self._lock:
            self._connections += 1
