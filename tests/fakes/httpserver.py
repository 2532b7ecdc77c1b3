"""The small threaded HTTP/1.1 server every fake provider API is built on.

It binds 127.0.0.1 on an ephemeral port, keeps connections alive, and sets TCP_NODELAY on
each (without it every keep-alive request waits ~40 ms for Nagle + delayed ACK). A subclass
implements `handle(request)`; this base counts connections, applies latency and queued faults,
records what was accepted, and stops cleanly: held requests are released and idle keep-alive
connections are shut down so every handler thread ends.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit

from tests.fakes.state import DEFAULT_HOLD_SECONDS, DEFAULT_SLOW_SECONDS, FakeState


@dataclass(frozen=True)
class FakeRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: Message
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body or b"null")

    def form(self) -> dict[str, str]:
        """Form fields, the first value of each (what Twilio's API reads)."""
        fields = parse_qs(self.body.decode(), keep_blank_values=True)
        return {name: values[0] for name, values in fields.items()}


@dataclass(frozen=True)
class FakeResponse:
    status: int
    body: Any = b""  # bytes, str, or anything JSON-serialisable
    headers: Mapping[str, str] = field(default_factory=dict)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: _Server

    def do_GET(self) -> None:
        self._dispatch()

    do_POST = do_PUT = do_DELETE = do_GET

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the tests read the fake's state, not its log."""

    def _dispatch(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        parts = urlsplit(self.path)
        request = FakeRequest(self.command, parts.path, parse_qs(parts.query), self.headers, body)
        response = self.server.fake._serve(request)
        if response is None:
            self.close_connection = True
            return
        payload, content_type = _encode(response.body)
        self.send_response(response.status)
        headers = {"Content-Type": content_type, **response.headers}
        for name, value in headers.items():
            self.send_header(name, str(value))
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


def _encode(body: Any) -> tuple[bytes, str]:
    if isinstance(body, bytes):
        return body, "application/octet-stream" if body else "text/plain"
    if isinstance(body, str):
        return body.encode(), "text/plain; charset=utf-8"
    return json.dumps(body).encode(), "application/json"


class _Server(ThreadingHTTPServer):
    daemon_threads = False
    block_on_close = True  # server_close() joins every handler thread

    def __init__(self, fake: FakeHttpServer) -> None:
        self.fake = fake
        super().__init__(("127.0.0.1", 0), _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        self.fake._connection_opened(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        self.fake._connection_closed(request)
        super().shutdown_request(request)


class FakeHttpServer(FakeState):
    """Base of the fake provider APIs: an HTTP server around `FakeState`.

    Subclasses implement `handle(request)` and `error_response(kind, options, recipient)`,
    call `respond(recipient, accept)` where the real API would deliver, and `record(entry)`
    for each accepted message.
    """

    def __init__(self) -> None:
        super().__init__()
        self._open: set[socket.socket] = set()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # lifecycle

    def start(self) -> Self:
        self._server = _Server(self)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"{type(self).__name__}-server",
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, release held requests, drop open connections, join every thread."""
        if self._server is None:
            return
        self._release.set()
        self._server.shutdown()
        with self._lock:
            still_open = list(self._open)
        for sock in still_open:
            with contextlib.suppress(OSError):  # the client may have closed it already
                sock.shutdown(socket.SHUT_RDWR)
        self._server.server_close()
        if self._thread is not None:
            self._thread.join()
        self._server = None
        self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self._server is not None, "fake server is not running"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    # for subclasses

    def handle(self, request: FakeRequest) -> FakeResponse | None:
        raise NotImplementedError

    def error_response(self, kind: str, options: dict[str, Any], recipient: str) -> FakeResponse:
        raise NotImplementedError

    def respond(
        self, recipient: str | None, accept: Callable[[], FakeResponse]
    ) -> FakeResponse | None:
        """Count a delivery attempt and answer it: with the queued fault, else `accept()`.

        None means: close the connection without an answer.
        """
        self._count_attempt()
        fault = self._faults.take(recipient)
        if fault is None:
            return accept()
        if fault.kind == "timeout":
            self.pause(fault.options.get("hold", DEFAULT_HOLD_SECONDS))
            return None
        if fault.kind == "slow":
            self.pause(fault.options.get("delay", DEFAULT_SLOW_SECONDS))
            return accept()
        return self.error_response(fault.kind, fault.options, recipient or "")

    def pause(self, seconds: float) -> None:
        """Sleep, unless reset() or stop() releases held requests first."""
        if seconds > 0:
            self._release.wait(seconds)

    # called by the server

    def _serve(self, request: FakeRequest) -> FakeResponse | None:
        self.pause(self._latency)
        return self.handle(request)

    def _connection_opened(self, sock: socket.socket) -> None:
        self._count_connection()
        with self._lock:
            self._open.add(sock)

    def _connection_closed(self, sock: socket.socket) -> None:
        with self._lock:
            self._open.discard(sock)


def bearer_token(request: FakeRequest) -> str | None:
    scheme, _, token = (request.headers.get("Authorization") or "").partition(" ")
    return token if scheme.lower() == "bearer" and token else None
