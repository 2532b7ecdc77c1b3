"""The fake provider servers of tests/fakes, run in a child process of their own.

A real provider's CPU is not ours: with the fake in the benchmark's own process, its handler
threads would compete with the worker for the GIL (and on 2 cores for the CPU) and the
figures would say more about the fake than about the pipeline. The parent talks to the child
over a pipe: settings at start, then `received` / `reset` / `stats` / `stop`, and the fault
controls a benchmark may call (`CONTROLS`).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import sys
from typing import Any

KINDS = ("twilio", "sendgrid")
# FakeState methods the parent may call in the child: faults and latency, nothing else.
CONTROLS = frozenset({"fail_next", "fail_for", "fail_randomly", "set_latency"})


def _make(kind: str):
    if kind == "twilio":
        from tests.fakes.twilio import FakeTwilio

        return FakeTwilio()
    if kind == "sendgrid":
        from tests.fakes.sendgrid import FakeSendGrid

        return FakeSendGrid()
    raise ValueError(f"unknown fake {kind!r}")


def _serve(kinds: tuple[str, ...], conn) -> None:
    """Child process: start the fakes, answer the parent's commands until told to stop."""
    fakes: dict[str, Any] = {}
    ready = False
    try:
        for kind in kinds:
            fakes[kind] = _make(kind).start()
        settings: dict[str, Any] = {}
        for fake in fakes.values():
            settings.update(fake.settings())
        conn.send(("ready", settings, {kind: fake.url for kind, fake in fakes.items()}))
        ready = True
        # From here on, socketserver's tracebacks for clients that hang up (a timed-out request)
        # are noise: the parent judges the run by what was received.
        sys.stderr = open(os.devnull, "w")  # noqa: SIM115
        while True:
            try:
                command, kind, *call = conn.recv()
            except EOFError:  # the parent went away: stop serving
                break
            if command == "stop":
                break
            if command == "received":
                conn.send(fakes[kind].received)
            elif command == "reset":
                fakes[kind].reset()
                conn.send(None)
            elif command in CONTROLS:
                args, kwargs = call
                getattr(fakes[kind], command)(*args, **kwargs)
                conn.send(None)
            elif command == "stats":
                conn.send(
                    {"connections": fakes[kind].connections, "attempts": fakes[kind].attempts}
                )
    except BaseException as exc:  # report start-up failures instead of hanging the parent
        if not ready:
            with contextlib.suppress(Exception):
                conn.send(("error", repr(exc), {}))
        raise
    finally:
        for fake in fakes.values():
            fake.stop()
        conn.close()


class FakeProviders:
    """Owns the child process. Use as a context manager; `stop()` is safe to call twice."""

    def __init__(self, kinds: tuple[str, ...] = ("twilio",)) -> None:
        unknown = set(kinds) - set(KINDS)
        if unknown:
            raise ValueError(f"unknown fakes {sorted(unknown)}")
        self.kinds = kinds
        self.settings: dict[str, Any] = {}
        self.urls: dict[str, str] = {}
        self._conn = None
        self._process = None

    def start(self) -> FakeProviders:
        ctx = multiprocessing.get_context("spawn")  # a clean interpreter: no inherited app state
        self._conn, child = ctx.Pipe()
        self._process = ctx.Process(
            target=_serve, args=(self.kinds, child), name="fake-providers", daemon=True
        )
        self._process.start()
        child.close()
        if not self._conn.poll(30):
            self.stop()
            raise RuntimeError("fake provider servers did not start within 30 s")
        state, settings, urls = self._conn.recv()
        if state != "ready":
            self.stop()
            raise RuntimeError(f"fake provider servers failed to start: {settings}")
        self.settings, self.urls = settings, urls
        return self

    def received(self, kind: str) -> list[dict[str, Any]]:
        self._conn.send(("received", kind))
        return self._conn.recv()

    def reset(self, kind: str) -> None:
        self._conn.send(("reset", kind))
        self._conn.recv()

    def stats(self, kind: str) -> dict[str, int]:
        self._conn.send(("stats", kind))
        return self._conn.recv()

    def control(self, kind: str, method: str, *args: Any, **kwargs: Any) -> None:
        """Call one of the fake's fault or latency controls (`CONTROLS`) in the child."""
        if method not in CONTROLS:
            raise ValueError(f"{method!r} is not a fault control")
        self._conn.send((method, kind, args, kwargs))
        self._conn.recv()

    def stop(self) -> None:
        if self._process is None:
            return
        with contextlib.suppress(OSError, ValueError):
            self._conn.send(("stop", None))
        self._process.join(10)
        if self._process.is_alive():
            self._process.kill()
            self._process.join(5)
        self._conn.close()
        self._process = None

    def __enter__(self) -> FakeProviders:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
