"""Push notifications through Firebase Cloud Messaging (HTTP v1 API).

One message goes to each of the patient's device tokens, posted with google-auth's
AuthorizedSession: it adds the OAuth token (fetched with the service account that
firebase-admin's `credentials.Certificate` loads and checks) and refreshes it on a 401, and
nothing else. The SDK's own sender would retry 500/503 four times and sleep through a 429's
Retry-After, 4-7 s per send, while the delivery pipeline already retries with its own backoff;
it also offers no public way to point it at another host. Each calling thread has its own
session (one keep-alive connection); all share one token.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self

import requests
from firebase_admin import credentials
from google.auth import exceptions as auth_exceptions
from google.auth.transport.requests import AuthorizedSession

from app.channels.base import DeliveryResult, OutboundMessage, Outcome
from app.channels.devices import DeviceFailure, result_for_devices
from app.channels.http_errors import is_retryable_status, retry_after_seconds
from app.channels.per_thread import PerThread
from app.vocabulary import Channel

FCM_BASE_URL = "https://fcm.googleapis.com"
# The data key that carries the notification's reference, so the app can open it.
REFERENCE_KEY = "notification"
_FCM_ERROR_TYPE = "type.googleapis.com/google.firebase.fcm.v1.FcmError"
# FCM error codes that say this token will never reach a device for this sender again.
_GONE_CODES = frozenset({"UNREGISTERED", "SENDER_ID_MISMATCH"})
# An error from APNs or Web Push behind FCM about their credentials: an operator can fix it.
_UPSTREAM_AUTH = "THIRD_PARTY_AUTH_ERROR"


class FcmPushProvider:
    """Sends a notification with title, body and data to every device token of a patient."""

    name = "fcm"
    channel = Channel.PUSH

    def __init__(
        self,
        credentials_file: str,
        *,
        project_id: str | None = None,
        base_url: str | None = None,
        timeout: float = 10.0,
    ) -> None:
        if not credentials_file:
            raise ValueError("FCM_CREDENTIALS_FILE is required")
        certificate = credentials.Certificate(credentials_file)
        project = project_id or certificate.project_id
        self._send_url = f"{(base_url or FCM_BASE_URL).rstrip('/')}/v1/projects/{project}/messages:send"
        credential = certificate.get_credential()
        self._timeout = timeout
        # Each thread's session keeps its connection; all share one credential (one OAuth token).
        self._sessions = PerThread(lambda: AuthorizedSession(credential, refresh_timeout=timeout),
                                   AuthorizedSession.close)

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> Self:
        """Build the provider from the app settings (see app/config.py)."""
        return cls(
            settings.get("FCM_CREDENTIALS_FILE") or "",
            project_id=settings.get("FCM_PROJECT_ID") or None,
            base_url=settings.get("FCM_BASE_URL") or None,
            timeout=float(settings.get("PROVIDER_TIMEOUT_SECONDS", 10)),
        )

    def send(self, message: OutboundMessage) -> DeliveryResult:
        """Send to every device; OK when at least one accepted it.

        Tokens FCM says are gone come back in `invalid_tokens` so they can be removed. When no
        device accepted, the message is retryable if any device failed for a passing reason.
        """
        if not message.push_tokens:
            return self._result(Outcome.PERMANENT, error="no valid device")
        data = {**message.data, REFERENCE_KEY: message.reference}
        accepted: list[str] = []
        failures: list[DeviceFailure] = []
        invalid: list[str] = []
        for token in message.push_tokens:
            try:
                response = self._sessions.get().post(self._send_url, json=_fcm_message(token, message, data),
                                                     timeout=self._timeout)
            except requests.RequestException:
                # No answer at all: timeout, refused or reset connection.
                failures.append(DeviceFailure(Outcome.RETRYABLE, "no answer"))
                continue
            except auth_exceptions.GoogleAuthError as exc:
                # Fetching the OAuth token failed: the same for every device, so stop here.
                failures.append(_auth_failure(exc))
                break
            if response.ok:
                accepted.append(_message_name(response))
                continue
            failure = _classify(response)
            failures.append(failure)
            if failure.token_gone:
                invalid.append(token)
        return result_for_devices(self.name, accepted, failures, tuple(invalid))

    def close(self) -> None:
        """Close every thread's connection."""
        self._sessions.close()

    def _result(self, outcome: Outcome, **fields: Any) -> DeliveryResult:
        return DeliveryResult(outcome=outcome, provider=self.name, **fields)


def _fcm_message(token: str, message: OutboundMessage, data: dict[str, str]) -> dict[str, Any]:
    """The FCM v1 request body for one device token."""
    return {
        "message": {
            "token": token,
            "notification": {"title": message.subject, "body": message.body},
            "data": data,
        }
    }


def _message_name(response: requests.Response) -> str:
    try:
        return str(response.json()["name"])
    except (ValueError, KeyError, TypeError):
        return ""


def _classify(response: requests.Response) -> DeviceFailure:
    status = response.status_code
    error = _error_body(response)
    code = _fcm_error_code(error)
    label = code or str(error.get("status") or f"HTTP {status}")
    if code in _GONE_CODES or (code == "INVALID_ARGUMENT" and _blames_token(error)):
        return DeviceFailure(
            Outcome.PERMANENT, "INVALID_TOKEN" if code == "INVALID_ARGUMENT" else code, status, token_gone=True
        )
    if code == _UPSTREAM_AUTH or is_retryable_status(status):
        retry_after = retry_after_seconds(response.headers.get("Retry-After")) if status == 429 else None
        return DeviceFailure(Outcome.RETRYABLE, label, status, retry_after)
    return DeviceFailure(Outcome.PERMANENT, label, status)


def _error_body(response: requests.Response) -> dict[str, Any]:
    try:
        error = response.json()["error"]
    except (ValueError, KeyError, TypeError):
        return {}
    return error if isinstance(error, dict) else {}


def _fcm_error_code(error: dict[str, Any]) -> str | None:
    for detail in error.get("details") or []:
        if isinstance(detail, dict) and detail.get("@type") == _FCM_ERROR_TYPE:
            return str(detail.get("errorCode") or "") or None
    return None


def _blames_token(error: dict[str, Any]) -> bool:
    """Whether an INVALID_ARGUMENT answer is about the registration token, not our payload."""
    for detail in error.get("details") or []:
        for violation in (detail.get("fieldViolations") or []) if isinstance(detail, dict) else []:
            if isinstance(violation, dict) and violation.get("field") == "message.token":
                return True
    return "registration token" in str(error.get("message", "")).lower()


def _auth_failure(exc: auth_exceptions.GoogleAuthError) -> DeviceFailure:
    # google-auth marks 5xx/429 token answers and transport errors as retryable.
    if isinstance(exc, auth_exceptions.TransportError) or getattr(exc, "retryable", False):
        return DeviceFailure(Outcome.RETRYABLE, "oauth token unavailable")
    return DeviceFailure(Outcome.PERMANENT, "oauth token refused")

