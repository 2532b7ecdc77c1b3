"""The one small interface every delivery provider speaks.

A provider turns an `OutboundMessage` into exactly one `DeliveryResult` and never raises for a
delivery problem: the pipeline decides what to do (mark sent, retry later, give up) from the
result's `outcome` alone, so every provider must classify its own errors. `send` may be called
from several threads at once; providers keep their HTTP sessions per thread and reuse them
across calls, so a batch pays for one connection, not one per message.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from app.vocabulary import Channel


class Outcome(StrEnum):
    OK = "ok"
    RETRYABLE = "retryable"  # try again later: 5xx, 429, timeouts (ambiguous), connection errors
    PERMANENT = "permanent"  # never retry: invalid number, bad address, unregistered token


@dataclass(frozen=True, slots=True)
class WebPushSubscription:
    """What a browser gives when its user turns notifications on: where to post, and the keys
    to encrypt for (RFC 8291). The endpoint names the subscription, as a token names an app."""

    endpoint: str
    p256dh: str  # the browser's public key, base64url
    auth: str  # its authentication secret, base64url


@dataclass(frozen=True, slots=True)
class OutboundMessage:
    """What to send, already rendered for its channel and addressed."""

    notification_id: int
    reference: str  # the notification's public id; providers pass it along where they can
    channel: Channel
    to: str  # E.164 phone (sms), email address (email), user id (in_app); unused for push
    subject: str
    body: str
    html: str | None = None  # email only
    push_tokens: tuple[str, ...] = ()  # push only: every valid app (FCM) token of the patient
    web_push: tuple[WebPushSubscription, ...] = ()  # push only: every valid browser subscription
    data: Mapping[str, str] = field(default_factory=dict)  # push data payload
    status_callback_url: str | None = None  # sms only: where the provider reports delivery
    unsubscribe_url: str | None = None  # email only: the one-click opt-out link (RFC 8058)

    @property
    def unsubscribe_headers(self) -> dict[str, str]:
        """RFC 8058's pair: mail clients show an unsubscribe button that POSTs to the link."""
        if not self.unsubscribe_url:
            return {}
        return {"List-Unsubscribe": f"<{self.unsubscribe_url}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}


@dataclass(frozen=True, slots=True)
class DeliveryResult:
    outcome: Outcome
    provider: str
    provider_message_id: str | None = None
    http_status: int | None = None
    error: str | None = None
    retry_after: float | None = None  # seconds the provider asked us to wait (429)
    invalid_tokens: tuple[str, ...] = ()  # push tokens (or Web Push endpoints) gone for good
    # The request reached the provider and no answer came back in time: it may have accepted the
    # message, so a retry may be a duplicate and a receipt that comes later tells what happened.
    ambiguous: bool = False

    @property
    def ok(self) -> bool:
        return self.outcome is Outcome.OK


class Provider(Protocol):
    """A configured sender for one channel."""

    name: str
    channel: Channel

    def send(self, message: OutboundMessage) -> DeliveryResult:
        """Deliver one message; classify every failure instead of raising."""
        ...

    def close(self) -> None:
        """Release connections; called when the worker shuts down."""
        ...
