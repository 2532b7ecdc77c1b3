"""SMS through Twilio's Messages API.

The twilio SDK opens one requests session per client and has no timeout by default, so each
sending thread keeps its own client (one keep-alive connection) with the configured timeout.
Its transport is a small `TwilioHttpClient` subclass that sends every Twilio domain to
TWILIO_BASE_URL when that is set (the local fake in tests) and remembers the last response,
because the SDK's exception drops the headers and a 429's Retry-After lives there.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from functools import cache
from typing import Any, Self
from urllib.parse import SplitResult, urlsplit, urlunsplit

import requests
from twilio.base.exceptions import TwilioRestException, TwilioServiceException
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

from app.channels.base import DeliveryResult, OutboundMessage, Outcome
from app.channels.http_errors import is_retryable_status, retry_after_seconds
from app.channels.per_thread import PerThread
from app.vocabulary import Channel

# Twilio error codes that mean this recipient cannot get SMS from us: retrying never helps.
RECIPIENT_ERROR_CODES = frozenset(
    {
        21211,  # invalid 'To' number
        21408,  # sending to this region is not enabled on the account
        21610,  # the recipient replied STOP
        21612,  # the 'To' number is not reachable from this sender
        21614,  # the 'To' number is not a mobile number
    }
)


class _TwilioTransport(TwilioHttpClient):
    """The SDK's own HTTP client, pointed at `base_url` and keeping the last response."""

    def __init__(self, *, timeout: float, base_url: str | None) -> None:
        super().__init__(timeout=timeout, logger=_sdk_logger())
        self._base = urlsplit(base_url) if base_url else None
        self.last_response: Response | None = None

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Response:
        """Send the request, to the overriding base URL when one is configured."""
        if self._base is not None:
            url = _rebase(url, self._base)
        self.last_response = None
        self.last_response = super().request(method, url, *args, **kwargs)
        return self.last_response

    def close(self) -> None:
        if self.session is not None:
            self.session.close()


@cache
def _sdk_logger() -> logging.Logger:
    """The SDK logs every request's headers and parameters at INFO, phone numbers included:
    no PHI in logs, and on a busy worker that logging cost a third of each send's CPU."""
    logger = logging.getLogger(f"{__name__}.twilio_sdk")
    logger.setLevel(logging.WARNING)
    return logger


def _rebase(url: str, base: SplitResult) -> str:
    parts = urlsplit(url)
    path = base.path.rstrip("/") + parts.path
    return urlunsplit((base.scheme, base.netloc, path, parts.query, parts.fragment))


class TwilioSmsProvider:
    """Sends one SMS per message from a number or a Messaging Service."""

    name = "twilio"
    channel = Channel.SMS

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        *,
        from_number: str = "",
        messaging_service_sid: str = "",
        base_url: str | None = None,
        timeout: float = 10.0,
    ) -> None:
        if not account_sid or not auth_token:
            raise ValueError("TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN are required")
        if not from_number and not messaging_service_sid:
            raise ValueError("TWILIO_FROM_NUMBER or TWILIO_MESSAGING_SERVICE_SID is required")
        self._account_sid = account_sid
        self._auth_token = auth_token
        # A Messaging Service picks the sender itself, so it wins over a fixed number.
        if messaging_service_sid:
            self._sender = {"messaging_service_sid": messaging_service_sid}
        else:
            self._sender = {"from_": from_number}
        self._base_url = base_url
        self._timeout = timeout
        self._clients = PerThread(self._new_client, lambda pair: pair[1].close())

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> Self:
        """Build the provider from the app settings (see app/config.py)."""
        return cls(
            settings.get("TWILIO_ACCOUNT_SID", ""),
            settings.get("TWILIO_AUTH_TOKEN", ""),
            from_number=settings.get("TWILIO_FROM_NUMBER", ""),
            messaging_service_sid=settings.get("TWILIO_MESSAGING_SERVICE_SID", ""),
            base_url=settings.get("TWILIO_BASE_URL") or None,
            timeout=float(settings.get("PROVIDER_TIMEOUT_SECONDS", 10)),
        )

    def send(self, message: OutboundMessage) -> DeliveryResult:
        """Create the Twilio message; classify every failure instead of raising."""
        client, transport = self._clients.get()
        options: dict[str, Any] = dict(self._sender)
        if message.status_callback_url:
            options["status_callback"] = message.status_callback_url
        try:
            created = client.messages.create(to=message.to, body=message.body, **options)
        except (TwilioRestException, TwilioServiceException) as exc:
            return self._rejected(exc, transport.last_response)
        except requests.ConnectTimeout:  # never reached Twilio
            return self._result(Outcome.RETRYABLE, error="twilio connection timed out")
        except requests.Timeout:
            return self._result(Outcome.RETRYABLE, error="twilio timed out", ambiguous=True)
        except requests.ConnectionError:
            return self._result(Outcome.RETRYABLE, error="twilio connection failed")
        except requests.RequestException as exc:
            return self._result(Outcome.RETRYABLE, error=f"twilio {type(exc).__name__}")
        status = transport.last_response.status_code if transport.last_response else None
        return self._result(Outcome.OK, provider_message_id=created.sid, http_status=status)

    def close(self) -> None:
        """Close every thread's keep-alive connection."""
        self._clients.close()

    def _new_client(self) -> tuple[Client, _TwilioTransport]:
        transport = _TwilioTransport(timeout=self._timeout, base_url=self._base_url)
        return Client(self._account_sid, self._auth_token, http_client=transport), transport

    def _rejected(
        self, exc: TwilioRestException | TwilioServiceException, response: Response | None
    ) -> DeliveryResult:
        # The exception's message often quotes the phone number: only status and code go out.
        status = exc.status
        code = exc.code
        if code in RECIPIENT_ERROR_CODES:
            outcome = Outcome.PERMANENT
        elif is_retryable_status(status):
            outcome = Outcome.RETRYABLE
        else:
            outcome = Outcome.PERMANENT
        retry_after = None
        if status == 429 and response is not None:
            retry_after = retry_after_seconds(response.headers.get("Retry-After"))
        return self._result(
            outcome,
            http_status=status,
            error=f"twilio error {code} (http {status})",
            retry_after=retry_after,
        )

    def _result(self, outcome: Outcome, **fields: Any) -> DeliveryResult:
        return DeliveryResult(outcome=outcome, provider=self.name, **fields)

