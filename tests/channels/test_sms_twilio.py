"""TwilioSmsProvider against the fake Twilio API, through the real twilio SDK."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import parse_qsl

import pytest
from twilio.request_validator import RequestValidator

from app.channels.base import OutboundMessage, Outcome
from app.channels.sms import TwilioSmsProvider
from app.vocabulary import Channel
from tests.fakes.twilio import FakeTwilio

PATIENT = "+15551230001"
BODY = "Reminder: Abhyanga session tomorrow at 10:00"


def sms(to: str = PATIENT, body: str = BODY, **fields: object) -> OutboundMessage:
    return OutboundMessage(
        notification_id=1,
        reference="ntf_sms_1",
        channel=Channel.SMS,
        to=to,
        subject="",
        body=body,
        **fields,
    )


@pytest.fixture
def provider(fake_twilio: FakeTwilio) -> Iterator[TwilioSmsProvider]:
    provider = TwilioSmsProvider.from_settings(fake_twilio.settings())
    yield provider
    provider.close()


def test_sends_the_body_to_the_recipient_from_the_configured_number(provider, fake_twilio):
    result = provider.send(sms())

    assert result.outcome is Outcome.OK
    assert result.provider == "twilio"
    assert result.http_status == 201
    [received] = fake_twilio.received
    assert received["to"] == PATIENT
    assert received["from"] == fake_twilio.from_number
    assert received["body"] == BODY
    assert result.provider_message_id == received["sid"]


def test_wrong_credentials_are_retried_so_an_operator_can_fix_them(fake_twilio):
    provider = TwilioSmsProvider.from_settings(fake_twilio.settings(TWILIO_AUTH_TOKEN="wrong"))
    try:
        result = provider.send(sms())
    finally:
        provider.close()

    assert result.outcome is Outcome.RETRYABLE
    assert result.http_status == 401
    assert fake_twilio.received == []


def test_sends_through_the_messaging_service_when_one_is_configured(fake_twilio):
    settings = fake_twilio.settings(TWILIO_MESSAGING_SERVICE_SID="MG" + "1" * 32)
    provider = TwilioSmsProvider.from_settings(settings)
    try:
        assert provider.send(sms()).ok
    finally:
        provider.close()

    [received] = fake_twilio.received
    assert received["messaging_service_sid"] == "MG" + "1" * 32
    assert received["from"] is None


def test_asks_twilio_to_report_delivery_to_the_status_callback_url(provider, fake_twilio):
    callback = "https://notify.example.org/webhooks/twilio/status"

    provider.send(sms(status_callback_url=callback))

    assert fake_twilio.received[0]["status_callback"] == callback


def test_server_error_is_retryable_with_its_http_status(provider, fake_twilio):
    fake_twilio.fail_next("server_error")

    result = provider.send(sms())

    assert result.outcome is Outcome.RETRYABLE
    assert result.http_status == 500


def test_rate_limit_is_retryable_after_the_seconds_in_retry_after(provider, fake_twilio):
    fake_twilio.fail_next("rate_limited", retry_after=17)

    result = provider.send(sms())

    assert result.outcome is Outcome.RETRYABLE
    assert result.http_status == 429
    assert result.retry_after == 17


def test_rate_limit_without_retry_after_leaves_the_wait_to_the_pipeline(provider, fake_twilio):
    fake_twilio.fail_next("rate_limited", retry_after=None)

    result = provider.send(sms())

    assert result.outcome is Outcome.RETRYABLE
    assert result.retry_after is None


def test_timeout_is_retryable_and_returns_after_the_configured_timeout(provider, fake_twilio):
    fake_twilio.fail_next("timeout")

    started = time.monotonic()
    result = provider.send(sms())

    assert result.outcome is Outcome.RETRYABLE
    assert result.http_status is None
    assert time.monotonic() - started < 2


def test_a_timeout_after_the_request_went_is_ambiguous(provider, fake_twilio):
    fake_twilio.fail_next("timeout")

    assert provider.send(sms()).ambiguous


def test_slow_answer_within_the_timeout_is_delivered(provider, fake_twilio):
    fake_twilio.fail_next("slow", delay=0.2)

    assert provider.send(sms()).ok
    assert len(fake_twilio.received) == 1


@pytest.mark.parametrize("code", [21211, 21614, 21610, 21408, 21612])
def test_recipient_error_codes_are_permanent_and_sent_once(provider, fake_twilio, code):
    fake_twilio.fail_next("permanent", code=code)

    result = provider.send(sms())

    assert result.outcome is Outcome.PERMANENT
    assert result.http_status == 400
    assert str(code) in result.error
    assert fake_twilio.attempts == 1


def test_other_client_errors_are_permanent(provider, fake_twilio):
    fake_twilio.fail_next("permanent", code=21602, status=400)

    result = provider.send(sms())

    assert result.outcome is Outcome.PERMANENT
    assert result.http_status == 400


def test_refused_connection_is_retryable(fake_twilio, unused_port):
    settings = fake_twilio.settings(TWILIO_BASE_URL=f"http://127.0.0.1:{unused_port}")
    provider = TwilioSmsProvider.from_settings(settings)
    try:
        result = provider.send(sms())
    finally:
        provider.close()

    assert result.outcome is Outcome.RETRYABLE
    assert result.http_status is None
    assert not result.ambiguous  # it never reached the provider


@pytest.mark.parametrize(
    ("kind", "options"),
    [("permanent", {"code": 21211}), ("server_error", {}), ("rate_limited", {})],
)
def test_errors_never_quote_the_number_or_the_body(provider, fake_twilio, kind, options):
    fake_twilio.fail_next(kind, **options)

    result = provider.send(sms())

    assert result.error
    assert PATIENT not in result.error
    assert "Abhyanga" not in result.error


def test_one_bad_number_fails_while_the_others_are_delivered(provider, fake_twilio):
    bad = "+15551239999"
    fake_twilio.fail_for(bad, "permanent", code=21211)

    outcomes = {to: provider.send(sms(to=to)).outcome for to in (PATIENT, bad, "+15551230002")}

    assert outcomes == {
        PATIENT: Outcome.OK,
        bad: Outcome.PERMANENT,
        "+15551230002": Outcome.OK,
    }


def test_sends_from_one_thread_reuse_one_connection(provider, fake_twilio):
    results = [provider.send(sms(body=f"message {n}")) for n in range(20)]

    assert all(result.ok for result in results)
    assert fake_twilio.connections == 1


def test_concurrent_sends_from_several_threads_all_succeed(provider, fake_twilio):
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda n: provider.send(sms(body=f"message {n}")), range(40)))

    assert all(result.ok for result in results)
    assert len({result.provider_message_id for result in results}) == 40
    assert len(fake_twilio.received) == 40
    assert fake_twilio.connections <= 4


def test_status_callbacks_from_the_fake_pass_twilios_signature_check(fake_twilio, webhook_sink):
    url = f"{webhook_sink.url}/webhooks/twilio/status"

    response = fake_twilio.status_callback(url, "SM123", "delivered", ErrorCode="")

    assert response.status_code == 204
    [request] = webhook_sink.received
    params = dict(parse_qsl(request["body"].decode(), keep_blank_values=True))
    assert params["MessageStatus"] == "delivered"
    signature = request["headers"]["X-Twilio-Signature"]
    validator = RequestValidator(fake_twilio.auth_token)
    assert validator.validate(url, params, signature)
    assert not validator.validate(url, {**params, "MessageStatus": "failed"}, signature)


def test_needs_credentials_and_a_sender():
    with pytest.raises(ValueError, match="TWILIO_ACCOUNT_SID"):
        TwilioSmsProvider.from_settings({"TWILIO_FROM_NUMBER": "+15005550006"})
    with pytest.raises(ValueError, match="TWILIO_FROM_NUMBER"):
        TwilioSmsProvider.from_settings({"TWILIO_ACCOUNT_SID": "AC1", "TWILIO_AUTH_TOKEN": "t"})
