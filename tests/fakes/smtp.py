"""A fake SMTP relay on aiosmtpd: plain SMTP with AUTH (PLAIN/LOGIN), faults at RCPT.

No STARTTLS: the providers' settings from `settings()` turn it off.
"""

from __future__ import annotations

import asyncio
import time
from email import message_from_bytes, policy
from typing import Any, Self

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from tests.fakes.faults import COMMON_KINDS
from tests.fakes.state import DEFAULT_HOLD_SECONDS, DEFAULT_SLOW_SECONDS, FakeState


class FakeSmtp(FakeState):
    """An SMTP server on 127.0.0.1 that records every accepted message.

    received: {"to", "from", "from_header", "subject", "text", "html", "message_id", "headers"}.
    Faults (taken at RCPT, so fail_for(address, ...) fails just that recipient):
    server_error (451, option code), rate_limited (450 4.7.1), timeout (no answer for option
    hold seconds), slow (answer after option delay), permanent (550 5.1.1, option code),
    disconnect (close the connection instead of answering). Latency delays every RCPT.
    """

    username = "clinic-relay"
    password = "fake-smtp-password"
    fault_kinds = COMMON_KINDS | {"disconnect"}

    def __init__(self) -> None:
        super().__init__()
        self._open: set[asyncio.Transport] = set()
        self._controller: _Controller | None = None

    # lifecycle

    def start(self) -> Self:
        self._controller = _Controller(self)
        self._controller.start()
        self.reset()
        return self

    def stop(self) -> None:
        """Release held commands, close every client connection, stop the loop thread."""
        if self._controller is None:
            return
        self._release.set()
        self.drop_connections()
        self._controller.stop()
        self._controller = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # what tests read

    @property
    def host(self) -> str:
        return "127.0.0.1"

    @property
    def port(self) -> int:
        assert self._controller is not None, "fake server is not running"
        return self._controller.port

    def settings(self, **extra: Any) -> dict[str, Any]:
        """App settings that send email through this fake."""
        return {
            "EMAIL_PROVIDER": "smtp",
            "SMTP_HOST": self.host,
            "SMTP_PORT": self.port,
            "SMTP_USERNAME": self.username,
            "SMTP_PASSWORD": self.password,
            "SMTP_STARTTLS": False,
            "EMAIL_FROM": "clinic@example.org",
            "EMAIL_FROM_NAME": "Sutra Test Clinic",
            "PROVIDER_TIMEOUT_SECONDS": 0.5,
            **extra,
        }

    # what tests control

    def drop_connections(self) -> None:
        """Close every client connection, as a relay does with idle ones."""
        controller = self._controller
        if controller is None:
            return

        async def close_all() -> None:
            with self._lock:
                transports = list(self._open)
            for transport in transports:
                transport.close()

        asyncio.run_coroutine_threadsafe(close_all(), controller.loop).result(timeout=5)

    # aiosmtpd hooks (run on the server's event loop)

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list
    ) -> str:
        await self._pause(self._latency)
        self._count_attempt()
        fault = self._faults.take(address)
        kind = fault.kind if fault else None
        if kind == "timeout":
            await self._pause(fault.options.get("hold", DEFAULT_HOLD_SECONDS))
            return "451 4.4.2 Timeout"
        if kind == "slow":
            await self._pause(fault.options.get("delay", DEFAULT_SLOW_SECONDS))
        elif kind == "disconnect":
            assert server.transport is not None
            server.transport.close()
            return "421 4.3.2 Closing connection"
        elif kind == "server_error":
            return f"{fault.options.get('code', 451)} 4.3.0 Local error in processing"
        elif kind == "rate_limited":
            return "450 4.7.1 Too many messages, slow down"
        elif kind == "permanent":
            code = fault.options.get("code", 550)
            return f"{code} 5.1.1 <{address}>: Recipient address rejected: User unknown"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        message = message_from_bytes(envelope.original_content or b"", policy=policy.default)
        text = message.get_body(("plain",))
        html = message.get_body(("html",))
        self.record(
            {
                "to": envelope.rcpt_tos[0] if envelope.rcpt_tos else None,
                "from": envelope.mail_from,
                "from_header": message["From"],
                "subject": message["Subject"],
                "text": text.get_content() if text is not None else None,
                "html": html.get_content() if html is not None else None,
                "message_id": message["Message-ID"],
                "headers": {name: str(value) for name, value in message.items()},
            }
        )
        return "250 2.0.0 OK: queued"

    def authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        ok = isinstance(data, LoginPassword) and (
            data.login.decode(),
            data.password.decode(),
        ) == (self.username, self.password)
        return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd answers 535

    async def _pause(self, seconds: float) -> None:
        """Sleep without blocking the loop, unless reset() or stop() releases it first."""
        release = self._release
        deadline = time.monotonic() + seconds
        while not release.is_set() and time.monotonic() < deadline:
            await asyncio.sleep(min(0.02, max(0.0, deadline - time.monotonic())))

    def _connection_opened(self, transport: asyncio.Transport) -> None:
        self._count_connection()
        with self._lock:
            self._open.add(transport)

    def _connection_closed(self, transport: asyncio.Transport) -> None:
        with self._lock:
            self._open.discard(transport)


class _CountingSMTP(SMTP):
    """aiosmtpd's SMTP protocol, telling the fake when connections open and close."""

    def __init__(self, fake: FakeSmtp, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._fake = fake

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self._fake._connection_opened(transport)  # type: ignore[arg-type]

    def connection_lost(self, error: Exception | None) -> None:
        transport = self.transport
        super().connection_lost(error)
        if transport is not None:
            self._fake._connection_closed(transport)  # type: ignore[arg-type]


class _Controller(Controller):
    def __init__(self, fake: FakeSmtp) -> None:
        super().__init__(
            fake,
            hostname="127.0.0.1",
            port=0,
            authenticator=fake.authenticate,
            auth_required=True,
            auth_require_tls=False,
        )
        self._fake = fake

    def factory(self) -> SMTP:
        return _CountingSMTP(self._fake, self.handler, **self.SMTP_kwargs)

    def _trigger_server(self) -> None:
        # Bound to port 0: learn the real port before aiosmtpd's start-up probe connects.
        assert self.server is not None
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()
