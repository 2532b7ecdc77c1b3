"""A fake of SendGrid's /v3/mail/send, plus a signing key for Event Webhook posts."""

from __future__ import annotations

import base64
import json
import time
import uuid
from typing import Any

import requests
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from sendgrid.helpers.eventwebhook.eventwebhook_header import EventWebhookHeader

from tests.fakes.httpserver import FakeHttpServer, FakeRequest, FakeResponse, bearer_token


class FakeSendGrid(FakeHttpServer):
    """POST /v3/mail/send with a Bearer key; 202 + X-Message-Id on success.

    received: {"message_id", "to", "from", "from_name", "subject", "text", "html",
    "custom_args", "headers"}. Faults: server_error (500, option status), rate_limited (429, option
    retry_after, None for no header; X-RateLimit-Reset is always sent), timeout (option hold),
    slow (option delay), permanent (400 invalid address, option status).
    """

    api_key = "SG.fake-sendgrid-key.for-tests"
    from_email = "clinic@example.org"
    from_name = "Sutra Test Clinic"

    def __init__(self) -> None:
        super().__init__()
        self._signing_key = ec.generate_private_key(ec.SECP256R1())
        public_der = self._signing_key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        self.public_key_b64 = base64.b64encode(public_der).decode()

    def settings(self, **extra: Any) -> dict[str, Any]:
        """App settings that send email through this fake."""
        return {
            "EMAIL_PROVIDER": "sendgrid",
            "SENDGRID_BASE_URL": self.url,
            "SENDGRID_API_KEY": self.api_key,
            "EMAIL_FROM": self.from_email,
            "EMAIL_FROM_NAME": self.from_name,
            "PROVIDER_TIMEOUT_SECONDS": 0.5,
            **extra,
        }

    def handle(self, request: FakeRequest) -> FakeResponse | None:
        if request.method != "POST" or request.path != "/v3/mail/send":
            return _errors(404, "Not found")
        if bearer_token(request) != self.api_key:
            return _errors(401, "The provided authorization grant is invalid, expired, or revoked")
        try:
            mail = request.json()
            to = mail["personalizations"][0]["to"][0]["email"]
        except (ValueError, KeyError, IndexError, TypeError):
            return _errors(400, "Invalid request body", field="personalizations")
        return self.respond(to, lambda: self._accept(mail, to))

    def error_response(self, kind: str, options: dict[str, Any], recipient: str) -> FakeResponse:
        if kind == "server_error":
            return _errors(options.get("status", 500), "internal server error")
        if kind == "rate_limited":
            retry_after = options.get("retry_after", 1)
            headers = {"X-RateLimit-Limit": "600", "X-RateLimit-Remaining": "0"}
            headers["X-RateLimit-Reset"] = str(int(time.time()) + int(retry_after or 1))
            if retry_after is not None:
                headers["Retry-After"] = str(retry_after)
            return FakeResponse(429, {"errors": [{"message": "too many requests"}]}, headers)
        return _errors(
            options.get("status", 400),
            f"Does not contain a valid address: {recipient}",
            field="personalizations.0.to.0.email",
        )

    def sign(self, payload: bytes, timestamp: str) -> str:
        """The Event Webhook signature of `payload` sent at `timestamp` (base64 DER ECDSA)."""
        signature = self._signing_key.sign(timestamp.encode() + payload, ec.ECDSA(hashes.SHA256()))
        return base64.b64encode(signature).decode()

    def signed_event_request(
        self, events: list[dict[str, Any]], timestamp: str | None = None
    ) -> tuple[bytes, dict[str, str]]:
        """The body and headers SendGrid would POST for these events."""
        payload = json.dumps(events).encode()
        timestamp = timestamp or str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            EventWebhookHeader.SIGNATURE: self.sign(payload, timestamp),
            EventWebhookHeader.TIMESTAMP: timestamp,
        }
        return payload, headers

    def signed_event_post(
        self, url: str, events: list[dict[str, Any]], timestamp: str | None = None
    ) -> requests.Response:
        """POST these events to `url`, signed as SendGrid's Event Webhook does."""
        payload, headers = self.signed_event_request(events, timestamp)
        return requests.post(url, data=payload, headers=headers, timeout=5)

    def _accept(self, mail: dict[str, Any], to: str) -> FakeResponse:
        message_id = uuid.uuid4().hex[:22]
        content = {part.get("type"): part.get("value") for part in mail.get("content") or []}
        sender = mail.get("from") or {}
        self.record(
            {
                "message_id": message_id,
                "to": to,
                "from": sender.get("email"),
                "from_name": sender.get("name"),
                "subject": mail.get("subject"),
                "text": content.get("text/plain"),
                "html": content.get("text/html"),
                "custom_args": mail.get("custom_args") or {},
                "headers": mail.get("headers") or {},
            }
        )
        return FakeResponse(202, b"", {"X-Message-Id": message_id})


def _errors(status: int, message: str, field: str | None = None) -> FakeResponse:
    return FakeResponse(status, {"errors": [{"message": message, "field": field, "help": None}]})
