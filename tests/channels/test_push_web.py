"""WebPushProvider against the fake push service: VAPID-signed, encrypted for the browser."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from app.channels.base import OutboundMessage, Outcome, WebPushSubscription
from app.channels.web_push import WebPushProvider, new_key_pair
from app.vocabulary import Channel

SUBJECT = "mailto:clinic@example.org"


def push(*subscriptions: WebPushSubscription) -> OutboundMessage:
    return OutboundMessage(notification_id=3, reference="ntf_push_3", channel=Channel.PUSH, to="3",
                           subject="Medication reminder", body="Time for your Triphala.", web_push=subscriptions)


def subscription_id(subscription: WebPushSubscription) -> str:
    return subscription.endpoint.rsplit("/", 1)[-1]


@pytest.fixture
def provider() -> Iterator[WebPushProvider]:
    _public, private = new_key_pair()
    provider = WebPushProvider(private, SUBJECT, timeout=0.5)
    yield provider
    provider.close()


def test_the_browser_decrypts_the_title_body_and_inbox_link(provider, fake_web_push):
    browser = fake_web_push.subscribe()
    result = provider.send(push(browser))

    assert (result.outcome, result.provider) == (Outcome.OK, "webpush")
    [received] = fake_web_push.received
    assert received["payload"] == {"title": "Medication reminder", "body": "Time for your Triphala.",
                                   "reference": "ntf_push_3", "url": "/inbox/ntf_push_3"}
    assert received["vapid_subject"] == SUBJECT
    assert received["ttl"] > 0


def test_every_browser_of_the_patient_gets_it(provider, fake_web_push):
    phone, laptop = fake_web_push.subscribe(), fake_web_push.subscribe()
    provider.send(push(phone, laptop))

    assert sorted(r["subscription"] for r in fake_web_push.received) == sorted(
        [subscription_id(phone), subscription_id(laptop)])


@pytest.mark.parametrize("status", [404, 410])
def test_a_subscription_the_push_service_says_is_gone_comes_back_invalid(provider, fake_web_push, status):
    browser = fake_web_push.subscribe()
    fake_web_push.fail_for(subscription_id(browser), "permanent", status=status)
    result = provider.send(push(browser))

    assert result.outcome is Outcome.PERMANENT
    assert result.invalid_tokens == (browser.endpoint,)


def test_one_gone_browser_does_not_fail_the_others(provider, fake_web_push):
    gone, live = fake_web_push.subscribe(), fake_web_push.subscribe()
    fake_web_push.fail_for(subscription_id(gone), "permanent")
    result = provider.send(push(gone, live))

    assert result.outcome is Outcome.OK
    assert result.invalid_tokens == (gone.endpoint,)


def test_a_refused_request_is_permanent_but_keeps_the_subscription(provider, fake_web_push):
    browser = fake_web_push.subscribe()
    fake_web_push.fail_for(subscription_id(browser), "permanent", status=413)
    result = provider.send(push(browser))

    assert (result.outcome, result.invalid_tokens) == (Outcome.PERMANENT, ())


def test_a_busy_push_service_is_retried_after_its_retry_after(provider, fake_web_push):
    browser = fake_web_push.subscribe()
    fake_web_push.fail_for(subscription_id(browser), "rate_limited", retry_after=7)
    result = provider.send(push(browser))

    assert (result.outcome, result.retry_after) == (Outcome.RETRYABLE, 7)


def test_a_server_error_or_no_answer_is_retryable(provider, fake_web_push):
    erroring, silent = fake_web_push.subscribe(), fake_web_push.subscribe()
    fake_web_push.fail_for(subscription_id(erroring), "server_error", status=503)
    fake_web_push.fail_for(subscription_id(silent), "timeout", hold=2)
    assert provider.send(push(erroring)).outcome is Outcome.RETRYABLE
    assert provider.send(push(silent)).outcome is Outcome.RETRYABLE


def test_keys_no_browser_could_make_are_permanent_and_dropped(provider, fake_web_push):
    broken = WebPushSubscription(f"{fake_web_push.url}/push/abc", "not-a-key", "short")
    result = provider.send(push(broken))

    assert (result.outcome, result.invalid_tokens) == (Outcome.PERMANENT, (broken.endpoint,))


def test_a_contact_that_is_neither_mailto_nor_https_is_refused_at_start():
    _public, private = new_key_pair()
    with pytest.raises(ValueError, match="VAPID_SUBJECT"):
        WebPushProvider(private, "clinic@example.org")
