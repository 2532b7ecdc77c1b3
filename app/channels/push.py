"""Push notifications through Firebase Cloud Messaging (HTTP v1 API).

One message goes to each of the patient's device tokens. Each provider has its own firebase
App (so one OAuth token); the SDK's FCM sender sends through one HTTP session per calling
thread, so a batch pays for one keep-alive connection per thread.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Self

import firebase_admin
import requests
from firebase_admin import _http_client, credentials, exceptions, messaging
from google.auth import exceptions as auth_exceptions

from app.channels.base import DeliveryResult, OutboundMessage, Outcome
from app.channels.http_errors import is_retryable_status, retry_after_seconds
from app.models.enums import Channel

# The data key that carries the notification's reference, so the app can open it.
REFERENCE_KEY = "notification"

# Errors that say this token will never reach a device for this sender again.
_GONE_ERRORS: dict[type[exceptions.FirebaseError], str] = {
    messaging.UnregisteredError: "UNREGISTERED",
    messaging.SenderIdMismatchError: "SENDER_ID_MISMATCH",
}


class _PerThreadHttpClient:
    """Stands in for the FCM sender's HTTP client with one SDK client per calling thread.

    Each thread's client owns its own session (one keep-alive connection) and is built
    without the SDK's inner retries (`retries=False`): by default its session retries 500/503
    four times and sleeps through a 429's Retry-After, 4-7 s per send, while the delivery
    pipeline already retries with its own backoff.
    """

    def __init__(self, credential: Any, timeout: float) -> None:
        self._credential = credential
        self._timeout = timeout
        self._local = threading.local()
        self._clients: list[_http_client.JsonHttpClient] = []
        self._lock = threading.Lock()

    def body(self, method: str, url: str, **kwargs: Any) -> Any:
        return self._thread_client().body(method, url, **kwargs)

    def close(self) -> None:
        with self._lock:
            clients, self._clients = self._clients, []
        for client in clients:
            client.close()
        self._local = threading.local()

    def _thread_client(self) -> _http_client.JsonHttpClient:
        client = getattr(self._local, "client", None)
        if client is None:
            client = _http_client.JsonHttpClient(
                credential=self._credential, timeout=self._timeout, retries=False
            )
            self._local.client = client
            with self._lock:
                self._clients.append(client)
        return client


def _fcm_sender(
    app: firebase_admin.App, http_client: _PerThreadHttpClient, send_url: str | None
) -> Any:
    """The SDK's FCM sender for `app`, adjusted where firebase-admin 7.7.0 has no option.

    Its message encoding, headers and error mapping run unchanged; only its HTTP client is
    replaced and, when FCM_BASE_URL is set, its send endpoint.
    """
    sender = messaging._get_messaging_service(app)
    sender._client.close()
    sender._client = http_client
    if send_url:
        sender._fcm_url = send_url
    return sender


@dataclass(frozen=True, slots=True)
class _DeviceFailure:
    outcome: Outcome
    label: str
    http_status: int | None = None
    retry_after: float | None = None
    token_gone: bool = False


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
        options: dict[str, Any] = {"httpTimeout": timeout}
        if project_id:
            options["projectId"] = project_id
        self._app = firebase_admin.initialize_app(
            credentials.Certificate(credentials_file),
            options,
            name=f"sutra-fcm-{uuid.uuid4().hex}",
        )
        send_url = None
        if base_url:
            project = self._app.project_id
            send_url = f"{base_url.rstrip('/')}/v1/projects/{project}/messages:send"
        self._http = _PerThreadHttpClient(self._app.credential.get_credential(), timeout)
        self._sender = _fcm_sender(self._app, self._http, send_url)

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
        failures: list[_DeviceFailure] = []
        invalid: list[str] = []
        for token in message.push_tokens:
            try:
                accepted.append(self._sender.send(_fcm_message(token, message, data)))
            except exceptions.FirebaseError as exc:
                failure = _classify(exc)
                failures.append(failure)
                if failure.token_gone:
                    invalid.append(token)
            except auth_exceptions.GoogleAuthError as exc:
                # Fetching the OAuth token failed: the same for every device, so stop here.
                failures.append(_auth_failure(exc))
                break
        return self._outcome(accepted, failures, tuple(invalid))

    def close(self) -> None:
        """Close every thread's connection, then delete this provider's firebase App."""
        self._http.close()
        firebase_admin.delete_app(self._app)

    def _outcome(
        self, accepted: list[str], failures: list[_DeviceFailure], invalid: tuple[str, ...]
    ) -> DeliveryResult:
        if accepted:
            partial = f"{len(failures)} of {len(accepted) + len(failures)} devices failed"
            return self._result(
                Outcome.OK,
                provider_message_id=accepted[0],
                http_status=200,
                error=partial if failures else None,
                invalid_tokens=invalid,
            )
        retryable = [f for f in failures if f.outcome is Outcome.RETRYABLE]
        first = (retryable or failures)[0]
        waits = [f.retry_after for f in failures if f.retry_after is not None]
        labels = sorted({f.label for f in failures})
        return self._result(
            Outcome.RETRYABLE if retryable else Outcome.PERMANENT,
            http_status=first.http_status,
            error=f"fcm {', '.join(labels)}",
            retry_after=max(waits) if waits else None,
            invalid_tokens=invalid,
        )

    def _result(self, outcome: Outcome, **fields: Any) -> DeliveryResult:
        return DeliveryResult(outcome=outcome, provider=self.name, **fields)


def _fcm_message(token: str, message: OutboundMessage, data: dict[str, str]) -> messaging.Message:
    fcm_message = messaging.Message(
        notification=messaging.Notification(title=message.subject, body=message.body),
        data=data,
    )
    # Devices register FCM registration tokens with us. 7.7.0 deprecates the constructor's
    # `token=` in favour of installation ids (`fid=`), which we do not collect; the attribute
    # is still what the SDK encodes as the message's `token`.
    fcm_message.token = token
    return fcm_message


def _classify(exc: exceptions.FirebaseError) -> _DeviceFailure:
    response = exc.http_response
    status = response.status_code if response is not None else None
    label = _GONE_ERRORS.get(type(exc), exc.code)
    gone = type(exc) in _GONE_ERRORS or (
        isinstance(exc, exceptions.InvalidArgumentError) and _blames_token(response)
    )
    if gone:
        label = "INVALID_TOKEN" if label == exceptions.INVALID_ARGUMENT else label
        return _DeviceFailure(Outcome.PERMANENT, label, status, token_gone=True)
    if status is None:
        # No answer at all: timeout, refused or reset connection.
        return _DeviceFailure(Outcome.RETRYABLE, label)
    if is_retryable_status(status):
        retry_after = None
        if status == 429:
            retry_after = retry_after_seconds(response.headers.get("Retry-After"))
        return _DeviceFailure(Outcome.RETRYABLE, label, status, retry_after)
    return _DeviceFailure(Outcome.PERMANENT, label, status)


def _blames_token(response: requests.Response | None) -> bool:
    """Whether an INVALID_ARGUMENT answer is about the registration token, not our payload."""
    if response is None:
        return False
    try:
        error = response.json()["error"]
    except (ValueError, KeyError, TypeError):
        return False
    for detail in error.get("details") or []:
        for violation in detail.get("fieldViolations") or []:
            if violation.get("field") == "message.token":
                return True
    return "registration token" in str(error.get("message", "")).lower()


def _auth_failure(exc: auth_exceptions.GoogleAuthError) -> _DeviceFailure:
    # google-auth marks 5xx/429 token answers and transport errors as retryable.
    if isinstance(exc, auth_exceptions.TransportError) or getattr(exc, "retryable", False):
        return _DeviceFailure(Outcome.RETRYABLE, "oauth token unavailable")
    return _DeviceFailure(Outcome.PERMANENT, "oauth token refused")

