"""A fake browser push service (RFC 8030) and the browsers subscribed to it.

`subscribe()` plays a browser turning notifications on: it makes the P-256 key pair and the
auth secret a browser would and returns the subscription the page would post to the app. A push
to /push/<id> is accepted only with a VAPID authorization (RFC 8292) signed for this origin and
an aes128gcm body (RFC 8291) that decrypts with that browser's keys: what the browser would show
is recorded.
"""

from __future__ import annotations

import base64
import json
import os
import re
import time
import uuid
from typing import Any

import http_ece
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, utils

from app.channels.base import WebPushSubscription
from app.channels.web_push import new_key_pair
from tests.fakes.httpserver import FakeHttpServer, FakeRequest, FakeResponse

_PUSH_PATH = re.compile(r"^/push/(?P<id>[A-Za-z0-9_-]+)$")
_VAPID = re.compile(r"^vapid t=(?P<t>[^,\s]+),\s*k=(?P<k>[^,\s]+)$")


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class FakeWebPush(FakeHttpServer):
    """POST /push/<subscription id>; 201 + Location on success.

    received: {"subscription", "payload" (the decrypted JSON), "ttl", "urgency", "vapid_subject"}.
    Faults (per subscription id with fail_for): server_error (500, option status),
    rate_limited (429, option retry_after), timeout, slow, permanent (410 Gone, option status:
    404 for a subscription that never existed, 400 or 413 for a refused request).
    """

    def __init__(self) -> None:
        super().__init__()
        self._browsers: dict[str, tuple[ec.EllipticCurvePrivateKey, bytes]] = {}

    def reset(self) -> None:
        super().reset()
        with self._lock:
            self._browsers.clear()

    def subscribe(self) -> WebPushSubscription:
        """A new browser subscription, as PushManager.subscribe() would give it."""
        key = ec.generate_private_key(ec.SECP256R1())
        auth = os.urandom(16)
        subscription_id = uuid.uuid4().hex
        with self._lock:
            self._browsers[subscription_id] = (key, auth)
        public = key.public_key().public_bytes(serialization.Encoding.X962,
                                               serialization.PublicFormat.UncompressedPoint)
        return WebPushSubscription(f"{self.url}/push/{subscription_id}", b64url(public), b64url(auth))

    def settings(self, **extra: Any) -> dict[str, Any]:
        """App settings that reach browsers subscribed here: a VAPID key pair of the clinic's."""
        public, private = new_key_pair()
        return {"VAPID_PUBLIC_KEY": public, "VAPID_PRIVATE_KEY": private, "VAPID_SUBJECT": "mailto:clinic@example.org",
                **extra}

    def handle(self, request: FakeRequest) -> FakeResponse | None:
        match = _PUSH_PATH.match(request.path)
        if request.method != "POST" or not match:
            return FakeResponse(404, "no such subscription")
        subscription_id = match["id"]
        with self._lock:
            browser = self._browsers.get(subscription_id)
        if browser is None:
            return FakeResponse(404, "no such subscription")
        claims = self._vapid_claims(request.headers.get("Authorization", ""))
        if claims is None:
            return FakeResponse(401, "missing or invalid VAPID authorization")
        if request.headers.get("Content-Encoding") != "aes128gcm" or request.headers.get("TTL") is None:
            return FakeResponse(400, "aes128gcm body and TTL header required")
        key, auth = browser
        try:
            payload = http_ece.decrypt(request.body, private_key=key, auth_secret=auth, version="aes128gcm")
        except Exception:  # noqa: BLE001 (http_ece raises bare exceptions for any bad body)
            return FakeResponse(400, "payload does not decrypt")
        return self.respond(subscription_id, lambda: self._accept(subscription_id, payload, request, claims))

    def error_response(self, kind: str, options: dict[str, Any], recipient: str) -> FakeResponse:
        if kind == "server_error":
            return FakeResponse(options.get("status", 500), "push service error")
        if kind == "rate_limited":
            retry_after = options.get("retry_after", 1)
            return FakeResponse(429, "too many", {} if retry_after is None else {"Retry-After": str(retry_after)})
        return FakeResponse(options.get("status", 410), "subscription gone")

    def _vapid_claims(self, authorization: str) -> dict[str, Any] | None:
        """The claims of a VAPID authorization signed by its key for this origin, else None."""
        match = _VAPID.match(authorization)
        if not match:
            return None
        try:
            point = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64url(match["k"]))
            header, body, signature = match["t"].split(".")
            raw = unb64url(signature)
            der = utils.encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
            point.verify(der, f"{header}.{body}".encode(), ec.ECDSA(hashes.SHA256()))
            claims = json.loads(unb64url(body))
        except (ValueError, InvalidSignature):
            return None
        if not isinstance(claims, dict) or claims.get("aud") != self.url:
            return None
        if not str(claims.get("sub", "")).startswith(("mailto:", "https:")):
            return None
        if not time.time() < int(claims.get("exp", 0)) <= time.time() + 24 * 3600:
            return None
        return claims

    def _accept(self, subscription_id: str, payload: bytes, request: FakeRequest,
                claims: dict[str, Any]) -> FakeResponse:
        self.record({
            "subscription": subscription_id,
            "payload": json.loads(payload),
            "ttl": int(request.headers.get("TTL", "0")),
            "urgency": request.headers.get("Urgency"),
            "vapid_subject": claims["sub"],
        })
        return FakeResponse(201, b"", {"Location": f"{self.url}/message/{uuid.uuid4().hex}"})
