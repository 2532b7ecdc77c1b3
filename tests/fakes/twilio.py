"""A fake of Twilio's Messages API, enough for the real twilio SDK, plus signed callbacks."""

from __future__ import annotations

import base64
import re
import uuid
from typing import Any

import requests
from twilio.request_validator import RequestValidator

from tests.fakes.httpserver import FakeHttpServer, FakeRequest, FakeResponse

_MESSAGES_PATH = re.compile(r"^/2010-04-01/Accounts/(?P<sid>AC\w+)/Messages\.json$")

# Real Twilio error texts quote the number, so a test can prove the provider drops them.
_PERMANENT_MESSAGES = {
    21211: "The 'To' number {to} is not a valid phone number.",
    21408: "Permission to send an SMS has not been enabled for the region indicated by {to}",
    21610: "Attempt to send to unsubscribed recipient {to}",
    21612: "The 'To' phone number: {to}, is not currently reachable using the 'From' number",
    21614: "'To' number {to} is not a valid mobile number",
}


class FakeTwilio(FakeHttpServer):
    """POST /2010-04-01/Accounts/{sid}/Messages.json with basic auth; 201 + sid on success.

    received: {"sid", "to", "from", "messaging_service_sid", "body", "status_callback"}.
    Faults: server_error (500, option status), rate_limited (429, option retry_after, None
    for no header), timeout (option hold), slow (option delay), permanent (400, options code,
    default 21211, and status).
    """

    account_sid = "AC" + "0" * 30 + "fa"
    auth_token = "fake-twilio-auth-token"
    from_number = "+15005550006"

    def settings(self, **extra: Any) -> dict[str, Any]:
        """App settings that send SMS through this fake."""
        return {
            "SMS_PROVIDER": "twilio",
            "TWILIO_BASE_URL": self.url,
            "TWILIO_ACCOUNT_SID": self.account_sid,
            "TWILIO_AUTH_TOKEN": self.auth_token,
            "TWILIO_FROM_NUMBER": self.from_number,
            "TWILIO_MESSAGING_SERVICE_SID": "",
            "PROVIDER_TIMEOUT_SECONDS": 0.5,
            **extra,
        }

    def handle(self, request: FakeRequest) -> FakeResponse | None:
        match = _MESSAGES_PATH.match(request.path)
        if request.method != "POST" or not match:
            return _error(404, 20404, "The requested resource was not found")
        if not self._authorized(request) or match["sid"] != self.account_sid:
            return _error(401, 20003, "Authentication Error - invalid username")
        form = request.form()
        to = form.get("To", "")
        if not to or not (form.get("From") or form.get("MessagingServiceSid")):
            return _error(400, 21604, "A 'To' and a 'From' or 'MessagingServiceSid' are required")
        return self.respond(to, lambda: self._accept(form))

    def error_response(self, kind: str, options: dict[str, Any], recipient: str) -> FakeResponse:
        if kind == "server_error":
            return _error(options.get("status", 500), 20500, "Internal Server Error")
        if kind == "rate_limited":
            retry_after = options.get("retry_after", 1)
            headers = {} if retry_after is None else {"Retry-After": str(retry_after)}
            return _error(429, 20429, "Too Many Requests", headers)
        code = options.get("code", 21211)
        text = _PERMANENT_MESSAGES.get(code, "Message rejected for {to}")
        return _error(options.get("status", 400), code, text.format(to=recipient))

    def status_callback_request(
        self, url: str, sid: str, status: str, **extra: str
    ) -> tuple[dict[str, str], dict[str, str]]:
        """The form fields and headers Twilio would POST to `url` for a status change."""
        params = {
            "AccountSid": self.account_sid,
            "MessageSid": sid,
            "SmsSid": sid,
            "MessageStatus": status,
            "SmsStatus": status,
            "ApiVersion": "2010-04-01",
            **extra,
        }
        signature = RequestValidator(self.auth_token).compute_signature(url, params)
        return params, {"X-Twilio-Signature": signature}

    def status_callback(self, url: str, sid: str, status: str, **extra: str) -> requests.Response:
        """POST a correctly signed status callback to `url`, as Twilio does."""
        params, headers = self.status_callback_request(url, sid, status, **extra)
        return requests.post(url, data=params, headers=headers, timeout=5)

    def _authorized(self, request: FakeRequest) -> bool:
        scheme, _, encoded = (request.headers.get("Authorization") or "").partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            credentials = base64.b64decode(encoded).decode()
        except ValueError:
            return False
        return credentials == f"{self.account_sid}:{self.auth_token}"

    def _accept(self, form: dict[str, str]) -> FakeResponse:
        sid = "SM" + uuid.uuid4().hex
        self.record(
            {
                "sid": sid,
                "to": form["To"],
                "from": form.get("From"),
                "messaging_service_sid": form.get("MessagingServiceSid"),
                "body": form.get("Body", ""),
                "status_callback": form.get("StatusCallback"),
            }
        )
        return FakeResponse(
            201,
            {
                "sid": sid,
                "account_sid": self.account_sid,
                "to": form["To"],
                "from": form.get("From"),
                "messaging_service_sid": form.get("MessagingServiceSid"),
                "body": form.get("Body", ""),
                "status": "accepted" if form.get("MessagingServiceSid") else "queued",
                "num_segments": "1",
                "direction": "outbound-api",
                "api_version": "2010-04-01",
                "uri": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}.json",
            },
        )


def _error(
    status: int, code: int, message: str, headers: dict[str, str] | None = None
) -> FakeResponse:
    body = {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }
    return FakeResponse(status, body, headers or {})
