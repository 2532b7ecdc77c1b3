"""Browser push: Web Push with VAPID (RFC 8030, 8291, 8292) through pywebpush.

It reaches a patient whose inbox page is closed, on every browser where they turned
notifications on. pywebpush encrypts the payload for each subscription (aes128gcm) and posts it
to the browser's push service; this provider signs the VAPID claim once per push service origin
and hour, keeps one keep-alive session per thread, and reads the push service's answer: 404 and
410 mean the subscription is gone (its endpoint comes back in `invalid_tokens`), 429 and 5xx
pass, any other refusal is permanent.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Mapping
from typing import Any, Self
from urllib.parse import urlsplit

import requests
from cryptography.hazmat.primitives import serialization
from py_vapid import Vapid, b64urlencode
from pywebpush import WebPusher, WebPushException

from app.channels.base import DeliveryResult, OutboundMessage, Outcome, WebPushSubscription
from app.channels.devices import DeviceFailure, result_for_devices
from app.channels.http_errors import is_retryable_status, retry_after_seconds
from app.channels.per_thread import PerThread
from app.vocabulary import Channel

CLAIM_SECONDS = 12 * 3600  # push services refuse a VAPID claim that lives longer than 24 h
_GONE = frozenset({404, 410})


def new_key_pair() -> tuple[str, str]:
    """A VAPID key pair as browsers and VAPID_PRIVATE_KEY take it: (public, private), base64url."""
    vapid = Vapid()
    vapid.generate_keys()
    public = vapid.public_key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    private = vapid.private_key.private_numbers().private_value.to_bytes(32, "big")
    return b64urlencode(public), b64urlencode(private)


class WebPushProvider:
    """Sends a notification (title, body, the inbox link) to every browser subscription of a patient."""

    name = "webpush"
    channel = Channel.PUSH

    def __init__(self, private_key: str, subject: str, *, timeout: float = 10.0, ttl: int = 24 * 3600) -> None:
        if not private_key:
            raise ValueError("VAPID_PRIVATE_KEY is required")
        if not subject.startswith(("mailto:", "https:")):
            raise ValueError("VAPID_SUBJECT must be a mailto: or https: address push services can contact")
        self._vapid = Vapid.from_string(private_key)
        self._subject = subject
        self._timeout = timeout
        self._ttl = ttl
        self._sessions = PerThread(requests.Session, requests.Session.close)
        self._claims: dict[str, tuple[float, dict[str, str]]] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> Self:
        """Build the provider from the app settings (see app/config.py)."""
        return cls(
            settings.get("VAPID_PRIVATE_KEY") or "",
            settings.get("VAPID_SUBJECT") or "",
            timeout=float(settings.get("PROVIDER_TIMEOUT_SECONDS", 10)),
        )

    def send(self, message: OutboundMessage) -> DeliveryResult:
        """Send to every subscription; OK when at least one push service accepted it."""
        if not message.web_push:
            return DeliveryResult(Outcome.PERMANENT, self.name, error="no valid browser subscription")
        payload = json.dumps({
            "title": message.subject,
            "body": message.body,
            "reference": message.reference,
            "url": f"/inbox/{message.reference}",
        })
        accepted: list[str] = []
        failures: list[DeviceFailure] = []
        invalid: list[str] = []
        for subscription in message.web_push:
            answer = self._push(subscription, payload)
            if isinstance(answer, str):
                accepted.append(answer)
                continue
            failure = answer
            failures.append(failure)
            if failure.token_gone:
                invalid.append(subscription.endpoint)
        return result_for_devices(self.name, accepted, failures, tuple(invalid))

    def close(self) -> None:
        """Close every thread's connection."""
        self._sessions.close()

    def _push(self, subscription: WebPushSubscription, payload: str) -> str | DeviceFailure:
        """The push service's id for the message (its Location), or why it was not taken."""
        info = {"endpoint": subscription.endpoint, "keys": {"p256dh": subscription.p256dh, "auth": subscription.auth}}
        try:
            pusher = WebPusher(info, requests_session=self._sessions.get())
            response = pusher.send(payload, headers={**self._authorization(subscription.endpoint), "Urgency": "high"},
                                   ttl=self._ttl, timeout=self._timeout)
        except requests.RequestException:
            return DeviceFailure(Outcome.RETRYABLE, "no answer")
        except (WebPushException, ValueError, TypeError):
            # Keys a browser could never have made: this subscription cannot be encrypted for.
            return DeviceFailure(Outcome.PERMANENT, "unusable subscription", token_gone=True)
        return _classify(response) or response.headers.get("Location", "")[-120:]

    def _authorization(self, endpoint: str) -> dict[str, str]:
        """The VAPID header for this push service, signed at most once an hour per origin."""
        parts = urlsplit(endpoint)
        origin = f"{parts.scheme}://{parts.netloc}"
        now = time.time()
        with self._lock:
            cached = self._claims.get(origin)
            if cached is None or cached[0] < now + CLAIM_SECONDS - 3600:
                expires = int(now) + CLAIM_SECONDS
                header = self._vapid.sign({"sub": self._subject, "aud": origin, "exp": expires})
                cached = (expires, {"Authorization": header["Authorization"]})
                self._claims[origin] = cached
        return cached[1]


def _classify(response: requests.Response) -> DeviceFailure | None:
    status = response.status_code
    if status < 300:
        return None
    if status in _GONE:
        return DeviceFailure(Outcome.PERMANENT, "subscription gone", status, token_gone=True)
    if is_retryable_status(status):
        retry_after = retry_after_seconds(response.headers.get("Retry-After")) if status == 429 else None
        return DeviceFailure(Outcome.RETRYABLE, f"HTTP {status}", status, retry_after)
    return DeviceFailure(Outcome.PERMANENT, f"HTTP {status}", status)
