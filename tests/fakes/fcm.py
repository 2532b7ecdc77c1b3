"""A fake of Google's OAuth token endpoint and the FCM HTTP v1 send API.

It makes its own service-account key: google-auth signs a JWT with it, the fake checks
that signature at /token and hands out a bearer token, and /v1/projects/{pid}/messages:send
accepts only tokens it issued.
"""

from __future__ import annotations

import json
import re
import tempfile
import uuid
from pathlib import Path
from typing import Any, Self

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from google.auth import exceptions as auth_exceptions
from google.auth import jwt

from tests.fakes.httpserver import FakeHttpServer, FakeRequest, FakeResponse, bearer_token

_SEND_PATH = re.compile(r"^/v1/projects/(?P<project>[^/]+)/messages:send$")
_FCM_ERROR = "type.googleapis.com/google.firebase.fcm.v1.FcmError"
_GOOGLE_TOKEN_AUDIENCE = "https://oauth2.googleapis.com/token"

# FCM errorCode -> (HTTP status, google.rpc status, message) for the "permanent" fault.
PERMANENT_ERRORS = {
    "UNREGISTERED": (404, "NOT_FOUND", "Requested entity was not found."),
    "SENDER_ID_MISMATCH": (403, "PERMISSION_DENIED", "SenderId mismatch"),
    "INVALID_ARGUMENT": (
        400,
        "INVALID_ARGUMENT",
        "The registration token is not a valid FCM registration token",
    ),
    "THIRD_PARTY_AUTH_ERROR": (401, "UNAUTHENTICATED", "Auth error from APNS or Web Push"),
}


class FakeFcm(FakeHttpServer):
    """OAuth token endpoint at /token and FCM send at /v1/projects/{pid}/messages:send.

    received: {"name", "token", "title", "body", "data"}. Faults (per device token with
    fail_for): server_error (500 INTERNAL, option status e.g. 503), rate_limited (429
    QUOTA_EXCEEDED, option retry_after, None for no header), timeout (option hold), slow
    (option delay), permanent (option code: UNREGISTERED (default), SENDER_ID_MISMATCH,
    INVALID_ARGUMENT, THIRD_PARTY_AUTH_ERROR).
    """

    project_id = "sutra-fake-project"
    client_email = "firebase-adminsdk@sutra-fake-project.iam.gserviceaccount.com"

    def __init__(self) -> None:
        super().__init__()
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self._public_pem = self._key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        self._issued: set[str] = set()
        self._token_requests = 0
        self._tempdir: tempfile.TemporaryDirectory[str] | None = None
        self.credentials_file: Path | None = None

    def start(self) -> Self:
        super().start()
        self._tempdir = tempfile.TemporaryDirectory(prefix="fake-fcm-")
        self.credentials_file = Path(self._tempdir.name) / "service-account.json"
        self.credentials_file.write_text(json.dumps(self.service_account()))
        return self

    def stop(self) -> None:
        super().stop()
        if self._tempdir is not None:
            self._tempdir.cleanup()
            self._tempdir = None
            self.credentials_file = None

    def reset(self) -> None:
        super().reset()
        with self._lock:
            self._token_requests = 0

    @property
    def token_requests(self) -> int:
        """OAuth token grants asked for since the last reset."""
        with self._lock:
            return self._token_requests

    def service_account(self) -> dict[str, str]:
        """A service-account key whose token_uri points at this fake."""
        private_pem = self._key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        return {
            "type": "service_account",
            "project_id": self.project_id,
            "private_key_id": uuid.uuid4().hex,
            "private_key": private_pem.decode(),
            "client_email": self.client_email,
            "client_id": "100000000000000000001",
            "auth_uri": f"{self.url}/auth",
            "token_uri": f"{self.url}/token",
        }

    def settings(self, **extra: Any) -> dict[str, Any]:
        """App settings that send push through this fake (project id from the key file)."""
        assert self.credentials_file is not None, "fake server is not running"
        return {
            "PUSH_PROVIDER": "fcm",
            "FCM_CREDENTIALS_FILE": str(self.credentials_file),
            "FCM_PROJECT_ID": None,
            "FCM_BASE_URL": self.url,
            "PROVIDER_TIMEOUT_SECONDS": 0.5,
            **extra,
        }

    def handle(self, request: FakeRequest) -> FakeResponse | None:
        if request.method == "POST" and request.path == "/token":
            return self._grant(request)
        match = _SEND_PATH.match(request.path)
        if request.method != "POST" or not match or match["project"] != self.project_id:
            return _google_error(404, "NOT_FOUND", "Requested entity was not found.")
        with self._lock:
            authorized = bearer_token(request) in self._issued
        if not authorized:
            return _google_error(401, "UNAUTHENTICATED", "Request had invalid credentials.")
        try:
            message = request.json()["message"]
            token = message["token"]
        except (ValueError, KeyError, TypeError):
            return _google_error(400, "INVALID_ARGUMENT", "Request contains an invalid argument.")
        return self.respond(token, lambda: self._accept(message, token))

    def error_response(self, kind: str, options: dict[str, Any], recipient: str) -> FakeResponse:
        if kind == "server_error":
            status = options.get("status", 500)
            rpc = "UNAVAILABLE" if status == 503 else "INTERNAL"
            return _google_error(status, rpc, "Internal error encountered.", rpc)
        if kind == "rate_limited":
            retry_after = options.get("retry_after", 1)
            headers = {} if retry_after is None else {"Retry-After": str(retry_after)}
            return _google_error(
                429, "RESOURCE_EXHAUSTED", "Quota exceeded.", "QUOTA_EXCEEDED", headers
            )
        code = options.get("code", "UNREGISTERED")
        status, rpc, text = PERMANENT_ERRORS[code]
        return _google_error(status, rpc, text, code)

    def _grant(self, request: FakeRequest) -> FakeResponse:
        form = request.form()
        try:
            if form.get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer":
                raise ValueError("unsupported grant type")
            # google-auth addresses the grant to Google's endpoint whatever token_uri says.
            claims = jwt.decode(
                form.get("assertion", ""), certs=self._public_pem, audience=_GOOGLE_TOKEN_AUDIENCE
            )
            if claims.get("iss") != self.client_email:
                raise ValueError("unknown issuer")
        except (ValueError, auth_exceptions.GoogleAuthError):
            return FakeResponse(400, {"error": "invalid_grant", "error_description": "bad JWT"})
        access_token = f"ya29.fake-{uuid.uuid4().hex}"
        with self._lock:
            self._issued.add(access_token)
            self._token_requests += 1
        return FakeResponse(
            200, {"access_token": access_token, "expires_in": 3600, "token_type": "Bearer"}
        )

    def _accept(self, message: dict[str, Any], token: str) -> FakeResponse:
        name = f"projects/{self.project_id}/messages/{uuid.uuid4().hex[:16]}"
        notification = message.get("notification") or {}
        self.record(
            {
                "name": name,
                "token": token,
                "title": notification.get("title"),
                "body": notification.get("body"),
                "data": message.get("data") or {},
            }
        )
        return FakeResponse(200, {"name": name})


def _google_error(
    status: int,
    rpc_status: str,
    message: str,
    fcm_code: str | None = None,
    headers: dict[str, str] | None = None,
) -> FakeResponse:
    error: dict[str, Any] = {"code": status, "message": message, "status": rpc_status}
    if fcm_code:
        error["details"] = [{"@type": _FCM_ERROR, "errorCode": fcm_code}]
    return FakeResponse(status, {"error": error}, headers or {})
