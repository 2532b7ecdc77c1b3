"""FcmPushProvider against the fake OAuth + FCM v1 API.

The service account is loaded by firebase-admin, the token fetched and the messages posted by
google-auth: the real client code end to end, only the hosts are local.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from app.channels.base import OutboundMessage, Outcome
from app.channels.push import FcmPushProvider
from app.vocabulary import Channel
from tests.fakes.fcm import FakeFcm

PHONE, TABLET, OLD_PHONE = "token-phone", "token-tablet", "token-old-phone"
BODY = "Time for your evening Triphala dose"


def push(*tokens: str, data: dict[str, str] | None = None) -> OutboundMessage:
    return OutboundMessage(
        notification_id=3,
        reference="ntf_push_3",
        channel=Channel.PUSH,
        to="",
        subject="Medication reminder",
        body=BODY,
        push_tokens=tokens,
        data=data or {},
    )


@pytest.fixture
def provider(fake_fcm: FakeFcm) -> Iterator[FcmPushProvider]:
    provider = FcmPushProvider.from_settings(fake_fcm.settings())
    yield provider
    provider.close()


def test_sends_title_body_and_data_to_every_device(provider, fake_fcm):
    result = provider.send(push(PHONE, TABLET, data={"kind": "medication_reminder"}))

    assert result.outcome is Outcome.OK
    assert result.provider == "fcm"
    assert [r["token"] for r in fake_fcm.received] == [PHONE, TABLET]
    for received in fake_fcm.received:
        assert received["title"] == "Medication reminder"
        assert received["body"] == BODY
        assert received["data"] == {"kind": "medication_reminder", "notification": "ntf_push_3"}
    assert result.provider_message_id == fake_fcm.received[0]["name"]
    assert result.invalid_tokens == ()


def test_uses_the_project_from_the_credentials_file_unless_configured(fake_fcm):
    settings = fake_fcm.settings(FCM_PROJECT_ID=fake_fcm.project_id)
    provider = FcmPushProvider.from_settings(settings)
    try:
        assert provider.send(push(PHONE)).ok
    finally:
        provider.close()


def test_fetches_one_oauth_token_for_many_sends(provider, fake_fcm):
    for _ in range(5):
        provider.send(push(PHONE, TABLET))

    assert fake_fcm.token_requests == 1
    assert len(fake_fcm.received) == 10


def test_no_device_is_permanent_without_calling_fcm(provider, fake_fcm):
    result = provider.send(push())

    assert result.outcome is Outcome.PERMANENT
    assert result.error == "no valid device"
    assert fake_fcm.attempts == 0


def test_an_unregistered_device_among_good_ones_is_reported_invalid(provider, fake_fcm):
    fake_fcm.fail_for(OLD_PHONE, "permanent", code="UNREGISTERED")

    result = provider.send(push(PHONE, OLD_PHONE, TABLET))

    assert result.outcome is Outcome.OK
    assert result.invalid_tokens == (OLD_PHONE,)
    assert [r["token"] for r in fake_fcm.received] == [PHONE, TABLET]


def test_all_devices_unregistered_is_permanent_and_all_reported_invalid(provider, fake_fcm):
    fake_fcm.fail_for(PHONE, "permanent", code="UNREGISTERED")
    fake_fcm.fail_for(OLD_PHONE, "permanent", code="UNREGISTERED")

    result = provider.send(push(PHONE, OLD_PHONE))

    assert result.outcome is Outcome.PERMANENT
    assert result.http_status == 404
    assert result.invalid_tokens == (PHONE, OLD_PHONE)
    assert fake_fcm.attempts == 2


@pytest.mark.parametrize("code", ["SENDER_ID_MISMATCH", "INVALID_ARGUMENT"])
def test_tokens_this_sender_can_never_use_are_reported_invalid(provider, fake_fcm, code):
    fake_fcm.fail_for(OLD_PHONE, "permanent", code=code)

    result = provider.send(push(OLD_PHONE))

    assert result.outcome is Outcome.PERMANENT
    assert result.invalid_tokens == (OLD_PHONE,)


def test_an_upstream_auth_error_is_retried_and_keeps_the_token(provider, fake_fcm):
    # A 401 makes google-auth fetch a new OAuth token and resend (twice), so fail every time.
    fake_fcm.fail_for(PHONE, "permanent", code="THIRD_PARTY_AUTH_ERROR")

    result = provider.send(push(PHONE))

    assert result.outcome is Outcome.RETRYABLE
    assert result.invalid_tokens == ()


@pytest.mark.parametrize("status", [500, 503])
def test_server_error_is_retryable_without_the_sdks_inner_retries(provider, fake_fcm, status):
    fake_fcm.fail_next("server_error", status=status)

    started = time.monotonic()
    result = provider.send(push(PHONE))

    assert result.outcome is Outcome.RETRYABLE
    assert result.http_status == status
    assert fake_fcm.attempts == 1
    assert time.monotonic() - started < 1


def test_rate_limit_is_retryable_after_retry_after_without_sleeping_on_it(provider, fake_fcm):
    fake_fcm.fail_next("rate_limited", retry_after=3)

    started = time.monotonic()
    result = provider.send(push(PHONE))

    assert result.outcome is Outcome.RETRYABLE
    assert result.http_status == 429
    assert result.retry_after == 3
    assert fake_fcm.attempts == 1
    assert time.monotonic() - started < 1


def test_a_retryable_failure_wins_over_gone_devices_when_none_accepted(provider, fake_fcm):
    fake_fcm.fail_for(PHONE, "server_error")
    fake_fcm.fail_for(OLD_PHONE, "permanent", code="UNREGISTERED")

    result = provider.send(push(PHONE, OLD_PHONE))

    assert result.outcome is Outcome.RETRYABLE
    assert result.http_status == 500
    assert result.invalid_tokens == (OLD_PHONE,)


def test_timeout_is_retryable_and_returns_after_the_configured_timeout(provider, fake_fcm):
    provider.send(push(PHONE))  # fetch the OAuth token first
    fake_fcm.fail_next("timeout")

    started = time.monotonic()
    result = provider.send(push(PHONE))

    assert result.outcome is Outcome.RETRYABLE
    assert result.http_status is None
    assert time.monotonic() - started < 2


def test_slow_answer_within_the_timeout_is_delivered(provider, fake_fcm):
    fake_fcm.fail_next("slow", delay=0.2)

    assert provider.send(push(PHONE)).ok


def test_refused_connection_to_fcm_is_retryable(fake_fcm, unused_port):
    provider = FcmPushProvider.from_settings(
        fake_fcm.settings(FCM_BASE_URL=f"http://127.0.0.1:{unused_port}")
    )
    try:
        result = provider.send(push(PHONE))
    finally:
        provider.close()

    assert result.outcome is Outcome.RETRYABLE


def test_unreachable_oauth_token_endpoint_is_retryable(fake_fcm, unused_port, tmp_path):
    key = {**fake_fcm.service_account(), "token_uri": f"http://127.0.0.1:{unused_port}/token"}
    key_file = tmp_path / "service-account.json"
    key_file.write_text(json.dumps(key))
    provider = FcmPushProvider.from_settings(fake_fcm.settings(FCM_CREDENTIALS_FILE=str(key_file)))
    try:
        result = provider.send(push(PHONE, TABLET))
    finally:
        provider.close()

    assert result.outcome is Outcome.RETRYABLE
    assert fake_fcm.attempts == 0


@pytest.mark.parametrize(("kind", "code"), [("permanent", "UNREGISTERED"), ("server_error", None)])
def test_errors_never_quote_the_token_or_the_body(provider, fake_fcm, kind, code):
    fake_fcm.fail_next(kind, **({"code": code} if code else {}))

    result = provider.send(push(PHONE))

    assert result.error
    assert PHONE not in result.error
    assert "Triphala" not in result.error


def test_sends_from_one_thread_reuse_one_connection(provider, fake_fcm):
    results = [provider.send(push(PHONE, TABLET)) for _ in range(10)]

    assert all(result.ok for result in results)
    # One connection to the token endpoint, one for all twenty sends.
    assert fake_fcm.connections == 2


def test_concurrent_sends_from_several_threads_all_succeed(provider, fake_fcm):
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda n: provider.send(push(f"token-{n}")), range(20)))

    assert all(result.ok for result in results)
    assert sorted(r["token"] for r in fake_fcm.received) == sorted(f"token-{n}" for n in range(20))
    assert fake_fcm.token_requests <= 4


def test_providers_close_independently(fake_fcm):
    first = FcmPushProvider.from_settings(fake_fcm.settings())
    second = FcmPushProvider.from_settings(fake_fcm.settings())
    first.send(push(PHONE))
    first.close()

    assert second.send(push(TABLET)).ok
    second.close()
