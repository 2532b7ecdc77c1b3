"""Email through SendGrid's v3 API or any SMTP relay.

Both providers keep one connection per sending thread and reuse it across messages. SendGrid's
SDK transport (python_http_client on urllib) opens and closes a connection for every request
and offers no way to keep one, so the SDK's `Mail` helper builds and validates the request
body and a per-thread requests session posts it to the same endpoint.
"""

from __future__ import annotations

import re
import smtplib
import ssl
import threading
from collections.abc import Mapping
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid
from typing import Any, Self

import requests
from sendgrid.helpers.mail import ApiKeyIncludedException, CustomArg, From, Header, Mail, To

from app.channels.base import DeliveryResult, OutboundMessage, Outcome
from app.channels.http_errors import is_retryable_status, retry_after_seconds
from app.channels.per_thread import PerThread
from app.vocabulary import Channel

SENDGRID_DEFAULT_URL = "https://api.sendgrid.com"
# The custom arg SendGrid echoes in every event webhook, so events map back to a notification.
REFERENCE_ARG = "notification"


class SendGridEmailProvider:
    """Posts each message to SendGrid's /v3/mail/send."""

    name = "sendgrid"
    channel = Channel.EMAIL

    def __init__(
        self,
        api_key: str,
        *,
        from_email: str,
        from_name: str = "",
        base_url: str | None = None,
        timeout: float = 10.0,
    ) -> None:
        if not api_key:
            raise ValueError("SENDGRID_API_KEY is required")
        self._api_key = api_key
        self._from = From(from_email, from_name or None)
        self._url = f"{(base_url or SENDGRID_DEFAULT_URL).rstrip('/')}/v3/mail/send"
        self._timeout = timeout
        self._sessions = PerThread(self._new_session, requests.Session.close)

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> Self:
        """Build the provider from the app settings (see app/config.py)."""
        return cls(
            settings.get("SENDGRID_API_KEY", ""),
            from_email=settings.get("EMAIL_FROM", ""),
            from_name=settings.get("EMAIL_FROM_NAME", ""),
            base_url=settings.get("SENDGRID_BASE_URL") or None,
            timeout=float(settings.get("PROVIDER_TIMEOUT_SECONDS", 10)),
        )

    def send(self, message: OutboundMessage) -> DeliveryResult:
        """Send one email; classify every failure instead of raising."""
        try:
            body = self._mail_body(message)
        except ApiKeyIncludedException:
            # The SDK refuses any text that starts like a SendGrid API key.
            return self._result(Outcome.PERMANENT, error="sendgrid sdk refused the content")
        try:
            response = self._sessions.get().post(self._url, json=body, timeout=self._timeout)
        except requests.ConnectTimeout:  # never reached SendGrid
            return self._result(Outcome.RETRYABLE, error="sendgrid connection timed out")
        except requests.Timeout:
            return self._result(Outcome.RETRYABLE, error="sendgrid timed out", ambiguous=True)
        except requests.ConnectionError:
            return self._result(Outcome.RETRYABLE, error="sendgrid connection failed")
        except requests.RequestException as exc:
            return self._result(Outcome.RETRYABLE, error=f"sendgrid {type(exc).__name__}")
        status = response.status_code
        if 200 <= status < 300:
            message_id = response.headers.get("X-Message-Id")
            return self._result(Outcome.OK, provider_message_id=message_id, http_status=status)
        return self._result(
            Outcome.RETRYABLE if is_retryable_status(status) else Outcome.PERMANENT,
            http_status=status,
            error=_sendgrid_error(response),
            retry_after=_sendgrid_retry_after(response) if status == 429 else None,
        )

    def close(self) -> None:
        """Close every thread's keep-alive connection."""
        self._sessions.close()

    def _mail_body(self, message: OutboundMessage) -> dict[str, Any]:
        # The address goes as given: To("...") would parse it and turn a malformed one into
        # a KeyError; SendGrid answers a bad address with a 400 instead.
        recipient = To()
        recipient.email = message.to
        mail = Mail(
            from_email=self._from,
            to_emails=recipient,
            subject=message.subject,
            plain_text_content=message.body,
            html_content=message.html,
        )
        mail.custom_arg = CustomArg(REFERENCE_ARG, message.reference)
        for name, value in message.unsubscribe_headers.items():
            mail.header = Header(name, value)
        return mail.get()

    def _new_session(self) -> requests.Session:
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {self._api_key}"
        return session

    def _result(self, outcome: Outcome, **fields: Any) -> DeliveryResult:
        return DeliveryResult(outcome=outcome, provider=self.name, **fields)


def _sendgrid_error(response: requests.Response) -> str:
    """Status plus the failing field names; SendGrid's messages can quote the address."""
    try:
        errors = response.json().get("errors") or []
        fields = sorted({e["field"] for e in errors if isinstance(e, dict) and e.get("field")})
    except (ValueError, AttributeError):
        fields = []
    suffix = f": {', '.join(fields)}" if fields else ""
    return f"sendgrid http {response.status_code}{suffix}"


def _sendgrid_retry_after(response: requests.Response) -> float | None:
    """Seconds to wait: Retry-After when present, else SendGrid's X-RateLimit-Reset epoch."""
    if response.headers.get("Retry-After"):
        return retry_after_seconds(response.headers["Retry-After"])
    reset = response.headers.get("X-RateLimit-Reset")
    try:
        return max(0.0, float(reset) - datetime.now(UTC).timestamp()) if reset else None
    except ValueError:
        return None


class SmtpEmailProvider:
    """Sends multipart text + html mail through an SMTP relay."""

    name = "smtp"
    channel = Channel.EMAIL

    def __init__(
        self,
        host: str,
        port: int,
        *,
        from_email: str,
        from_name: str = "",
        username: str = "",
        password: str = "",
        starttls: bool = True,
        timeout: float = 10.0,
    ) -> None:
        self._host = host
        self._port = port
        self._from_email = from_email
        self._from_header = formataddr((from_name, from_email)) if from_name else from_email
        self._msgid_domain = from_email.rpartition("@")[2] or None
        self._username = username
        self._password = password
        self._starttls = starttls
        self._timeout = timeout
        self._local = threading.local()
        self._connections: set[smtplib.SMTP] = set()
        self._connections_lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> Self:
        """Build the provider from the app settings (see app/config.py)."""
        return cls(
            settings.get("SMTP_HOST", "localhost"),
            int(settings.get("SMTP_PORT", 587)),
            from_email=settings.get("EMAIL_FROM", ""),
            from_name=settings.get("EMAIL_FROM_NAME", ""),
            username=settings.get("SMTP_USERNAME", ""),
            password=settings.get("SMTP_PASSWORD", ""),
            starttls=bool(settings.get("SMTP_STARTTLS", True)),
            timeout=float(settings.get("PROVIDER_TIMEOUT_SECONDS", 10)),
        )

    def send(self, message: OutboundMessage) -> DeliveryResult:
        """Send one email on this thread's connection; classify every failure instead of raising."""
        try:
            email = self._compose(message)
        except ValueError:
            # e.g. a line break in the subject, which no header may carry
            return self._result(Outcome.PERMANENT, error="smtp message has an invalid header")
        return self._send(email, message.to, may_reconnect=True)

    def close(self) -> None:
        """Say QUIT on every thread's connection."""
        with self._connections_lock:
            connections, self._connections = self._connections, set()
        for smtp in connections:
            try:
                smtp.quit()
            except (smtplib.SMTPException, OSError):
                smtp.close()
        self._local = threading.local()

    def _compose(self, message: OutboundMessage) -> EmailMessage:
        email = EmailMessage()
        email["From"] = self._from_header
        email["To"] = message.to
        email["Subject"] = message.subject
        email["Date"] = formatdate(usegmt=True)
        email["Message-ID"] = make_msgid(domain=self._msgid_domain)
        for name, value in message.unsubscribe_headers.items():
            email[name] = value
        email.set_content(message.body)
        if message.html:
            email.add_alternative(message.html, subtype="html")
        return email

    def _connection(self) -> tuple[smtplib.SMTP, bool]:
        """This thread's open connection and whether it was used before."""
        smtp = getattr(self._local, "smtp", None)
        if smtp is not None:
            return smtp, True
        smtp = smtplib.SMTP(self._host, self._port, timeout=self._timeout)
        try:
            smtp.ehlo()
            if self._starttls:
                smtp.starttls(context=ssl.create_default_context())
                smtp.ehlo()
            if self._username:
                smtp.login(self._username, self._password)
        except BaseException:
            smtp.close()
            raise
        self._local.smtp = smtp
        with self._connections_lock:
            self._connections.add(smtp)
        return smtp, False

    def _send(self, email: EmailMessage, to: str, *, may_reconnect: bool) -> DeliveryResult:
        try:
            smtp, reused = self._connection()
        except (smtplib.SMTPException, OSError) as exc:
            return self._failure(exc, "connect")
        try:
            smtp.send_message(email, from_addr=self._from_email, to_addrs=[to])
        except (smtplib.SMTPException, OSError) as exc:
            dropped = _is_dropped(exc)
            if dropped or not _is_answer(exc):
                self._discard(smtp)
            # A kept connection the server closed while idle only shows up when used: send
            # once more on a fresh one.
            if dropped and reused and may_reconnect:
                return self._send(email, to, may_reconnect=False)
            return self._failure(exc, "send")
        return self._result(Outcome.OK, provider_message_id=email["Message-ID"])

    def _discard(self, smtp: smtplib.SMTP) -> None:
        smtp.close()
        self._local.smtp = None
        with self._connections_lock:
            self._connections.discard(smtp)

    def _failure(self, exc: BaseException, stage: str) -> DeliveryResult:
        # Server replies often quote the address, so only the codes go into the error.
        code = _smtp_code(exc)
        if code is None:
            reason = "timed out" if _timed_out(exc) else type(exc).__name__
            return self._result(Outcome.RETRYABLE, error=f"smtp {stage} failed: {reason}")
        outcome = Outcome.PERMANENT if 500 <= code < 600 else Outcome.RETRYABLE
        enhanced = _enhanced_status(exc)
        return self._result(outcome, error=f"smtp {code}{f' {enhanced}' if enhanced else ''}")

    def _result(self, outcome: Outcome, **fields: Any) -> DeliveryResult:
        return DeliveryResult(outcome=outcome, provider=self.name, **fields)


def _is_dropped(exc: BaseException) -> bool:
    """Whether the server closed the connection under us, rather than answering or stalling."""
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        # smtplib reports a read timeout as a disconnect too; that one is a stall.
        return not _timed_out(exc)
    if isinstance(exc, smtplib.SMTPResponseException):
        return exc.smtp_code == 421  # "service not available, closing transmission channel"
    return isinstance(exc, ConnectionError)


def _timed_out(exc: BaseException) -> bool:
    return isinstance(exc, TimeoutError) or isinstance(exc.__context__, TimeoutError)


def _is_answer(exc: BaseException) -> bool:
    """Whether the server replied with an error; smtplib resets the session, so it stays usable."""
    return isinstance(exc, (smtplib.SMTPResponseException, smtplib.SMTPRecipientsRefused))


def _refused_reply(exc: BaseException) -> tuple[int, bytes | str] | None:
    if isinstance(exc, smtplib.SMTPRecipientsRefused) and exc.recipients:
        return next(iter(exc.recipients.values()))
    if isinstance(exc, smtplib.SMTPResponseException):
        return exc.smtp_code, exc.smtp_error
    return None


def _smtp_code(exc: BaseException) -> int | None:
    reply = _refused_reply(exc)
    return reply[0] if reply and reply[0] >= 400 else None


_ENHANCED_STATUS = re.compile(rb"^\s*([245]\.\d{1,3}\.\d{1,3})\b")


def _enhanced_status(exc: BaseException) -> str | None:
    """The RFC 3463 status (e.g. 5.1.1) that starts a reply, which names the cause safely."""
    reply = _refused_reply(exc)
    text = reply[1] if reply else b""
    match = _ENHANCED_STATUS.match(text if isinstance(text, bytes) else text.encode())
    return match.group(1).decode() if match else None
