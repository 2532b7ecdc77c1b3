"""SendGridEmailProvider against the fake SendGrid API."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from sendgrid.helpers.eventwebhook import EventWebhook
from sendgrid.helpers.eventwebhook.eventwebhook_header import EventWebhookHeader

from app.channels.base import OutboundMessage, Outcome
from app.channels.email import SendGridEmailProvider
from app.vocabulary import Channel
from tests.fakes.sendgrid import FakeSendGrid

PATIENT = "asha.patient@example.com"
BODY = "Your Panchakarma follow-up is on Monday at 09:30."
HTML = "<p>Your Panchakarma follow-up is on <b>Monday at 09:30</b>.</p>"


def email(to: str = PATIENT, html: str | None = HTML, **fields: object) -> OutboundMessage:
    return OutboundMessage(
        notification_id=7,
        reference="ntf_email_7",
        channel=Channel.EMAIL,
        to=to,
        subject="Appointment reminder",
        body=BODY,
        html=html,
        **fields,
    )


@pytest.fixture
def provider(fake_sendgrid: FakeSendGrid) -> Iterator[SendGridEmailProvider]:
    provider = SendGridEmailProvider.from_settings(fake_sendgrid.settings())
    yield provider
    provider.close()


def test_sends_text_and_html_from_the_clinic_address(provider, fake_sendgrid):
    result = provider.send(email())

    assert result.outcome is Outcome.OK
    assert result.provider == "sendgrid"
    assert result.http_status == 202
    [received] = fake_sendgrid.received
    assert received["to"] == PATIENT
    assert received["from"] == fake_sendgrid.from_email
    assert received["from_name"] == fake_sendgrid.from_name
    assert received["subject"] == "Appointment reminder"
    assert received["text"] == BODY
    assert received["html"] == HTML
    assert result.provider_message_id == received["message_id"]


def test_tags_the_mail_with_the_notification_reference_for_event_webhooks(provider, fake_sendgrid):
    provider.send(email())

    assert fake_sendgrid.received[0]["custom_args"] == {"notification": "ntf_email_7"}


def test_sends_plain_text_only_when_there_is_no_html(provider, fake_sendgrid):
    provider.send(email(html=None))

    [received] = fake_sendgrid.received
    assert received["text"] == BODY
    assert received["html"] is None


def test_a_rejected_api_key_is_retried_so_an_operator_can_fix_it(fake_sendgrid):
    provider = SendGridEmailProvider.from_settings(fake_sendgrid.settings(SENDGRID_API_KEY="bad"))
    try:
        result = provider.send(email())
    finally:
        provider.close()

    assert result.outcome is Outcome.RETRYABLE
    assert result.http_status == 401
    assert fake_sendgrid.received == []


def test_server_error_is_retryable_with_its_http_status(provider, fake_sendgrid):
    fake_sendgrid.fail_next("server_error")

    result = provider.send(email())

    assert result.outcome is Outcome.RETRYABLE
    assert result.http_status == 500


def test_rate_limit_is_retryable_after_the_seconds_in_retry_after(provider, fake_sendgrid):
    fake_sendgrid.fail_next("rate_limited", retry_after=23)

    result = provider.send(email())

    assert result.outcome is Outcome.RETRYABLE
    assert result.http_status == 429
    assert result.retry_after == 23


def test_rate_limit_without_retry_after_waits_until_the_rate_limit_reset(provider, fake_sendgrid):
    fake_sendgrid.fail_next("rate_limited", retry_after=None)

    result = provider.send(email())

    assert result.outcome is Outcome.RETRYABLE
    assert result.retry_after is not None and 0 <= result.retry_after <= 2


def test_timeout_is_retryable_and_returns_after_the_configured_timeout(provider, fake_sendgrid):
    fake_sendgrid.fail_next("timeout")

    started = time.monotonic()
    result = provider.send(email())

    assert result.outcome is Outcome.RETRYABLE
    assert time.monotonic() - started < 2


def test_a_timeout_after_the_request_went_is_ambiguous(provider, fake_sendgrid):
    fake_sendgrid.fail_next("timeout")

    assert provider.send(email()).ambiguous


def test_slow_answer_within_the_timeout_is_delivered(provider, fake_sendgrid):
    fake_sendgrid.fail_next("slow", delay=0.2)

    assert provider.send(email()).ok


def test_invalid_address_is_permanent_and_sent_once(provider, fake_sendgrid):
    fake_sendgrid.fail_next("permanent")

    result = provider.send(email())

    assert result.outcome is Outcome.PERMANENT
    assert result.http_status == 400
    assert fake_sendgrid.attempts == 1


def test_refused_connection_is_retryable(fake_sendgrid, unused_port):
    settings = fake_sendgrid.settings(SENDGRID_BASE_URL=f"http://127.0.0.1:{unused_port}")
    provider = SendGridEmailProvider.from_settings(settings)
    try:
        result = provider.send(email())
    finally:
        provider.close()

    assert result.outcome is Outcome.RETRYABLE
    assert result.http_status is None
    assert not result.ambiguous  # it never reached the provider


@pytest.mark.parametrize("kind", ["permanent", "server_error", "rate_limited"])
def test_errors_never_quote_the_address_or_the_body(provider, fake_sendgrid, kind):
    fake_sendgrid.fail_next(kind)

    result = provider.send(email())

    assert result.error
    assert PATIENT not in result.error
    assert "Panchakarma" not in result.error


def test_one_bad_address_fails_while_the_others_are_delivered(provider, fake_sendgrid):
    bad = "nobody@invalid.example"
    fake_sendgrid.fail_for(bad, "permanent")

    outcomes = [provider.send(email(to=to)).outcome for to in (PATIENT, bad, "ravi@example.com")]

    assert outcomes == [Outcome.OK, Outcome.PERMANENT, Outcome.OK]


def test_sends_from_one_thread_reuse_one_connection(provider, fake_sendgrid):
    results = [provider.send(email()) for _ in range(20)]

    assert all(result.ok for result in results)
    assert fake_sendgrid.connections == 1


def test_concurrent_sends_from_several_threads_all_succeed(provider, fake_sendgrid):
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda n: provider.send(email(to=f"p{n}@example.com")), range(40)))

    assert all(result.ok for result in results)
    assert sorted(r["to"] for r in fake_sendgrid.received) == sorted(
        f"p{n}@example.com" for n in range(40)
    )
    assert fake_sendgrid.connections <= 4


def test_signed_event_posts_pass_sendgrids_signature_check(fake_sendgrid, webhook_sink):
    events = [{"event": "delivered", "sg_message_id": "abc.1", "notification": "ntf_email_7"}]

    response = fake_sendgrid.signed_event_post(f"{webhook_sink.url}/webhooks/sendgrid", events)

    assert response.status_code == 204
    [request] = webhook_sink.received
    signature = request["headers"][EventWebhookHeader.SIGNATURE]
    timestamp = request["headers"][EventWebhookHeader.TIMESTAMP]
    payload = request["body"].decode()
    verifier = EventWebhook(fake_sendgrid.public_key_b64)
    assert verifier.verify_signature(payload, signature, timestamp)
    assert not verifier.verify_signature(payload, signature, str(int(timestamp) + 1))


def test_a_body_the_sdk_mistakes_for_an_api_key_is_permanent_not_raised(provider, fake_sendgrid):
    message = OutboundMessage(
        notification_id=8,
        reference="ntf_email_8",
        channel=Channel.EMAIL,
        to=PATIENT,
        subject="Code",
        body="SG.abc123.def456 is your code",
    )

    result = provider.send(message)

    assert result.outcome is Outcome.PERMANENT
    assert fake_sendgrid.attempts == 0


def test_needs_an_api_key():
    with pytest.raises(ValueError, match="SENDGRID_API_KEY"):
        SendGridEmailProvider.from_settings({"EMAIL_FROM": "clinic@example.org"})


def test_an_unsubscribe_link_goes_as_one_click_list_unsubscribe_headers(provider, fake_sendgrid):
    provider.send(email(unsubscribe_url="https://clinic.example/unsubscribe/abc"))

    assert fake_sendgrid.received[0]["headers"] == {
        "List-Unsubscribe": "<https://clinic.example/unsubscribe/abc>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


def test_an_email_without_an_unsubscribe_link_carries_no_list_headers(provider, fake_sendgrid):
    provider.send(email())

    assert fake_sendgrid.received[0]["headers"] == {}
