"""One connection per calling thread, for providers that `send` from several threads at once.

An HTTP session or an SDK client is not safe to share between threads, and a new one per message
would pay for a connection every time; so each thread keeps its own, reused from one message to
the next, and the provider's `close` closes them all together.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class PerThread(Generic[T]):
    """What `make` builds, once per calling thread; `close` ends every one built so far."""

    def __init__(self, make: Callable[[], T], close: Callable[[T], None]) -> None:
        self._make = make
        self._close = close
        self._local = threading.local()
        self._made: list[T] = []
        self._lock = threading.Lock()

    def get(self) -> T:
        if not hasattr(self._local, "value"):
            self._local.value = self._make()
            with self._lock:
                self._made.append(self._local.value)
        return self._local.value

    def close(self) -> None:
        with self._lock:
            made, self._made = self._made, []
        for value in made:
            self._close(value)
        self._local = threading.local()
