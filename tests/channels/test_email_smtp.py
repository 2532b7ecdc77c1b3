"""SmtpEmailProvider against the fake SMTP relay."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from app.channels.base import OutboundMessage, Outcome
from app.channels.email import SmtpEmailProvider
from app.vocabulary import Channel
from tests.fakes.smtp import FakeSmtp

PATIENT = "meera.patient@example.com"
BODY = "Your Shirodhara session moved to Friday 16:00."
HTML = "<p>Your Shirodhara session moved to <b>Friday 16:00</b>.</p>"


def email(to: str = PATIENT, html: str | None = HTML, **fields: object) -> OutboundMessage:
    return OutboundMessage(
        notification_id=9,
        reference="ntf_email_9",
        channel=Channel.EMAIL,
        to=to,
        subject="Session moved",
        body=BODY,
        html=html,
        **fields,
    )


@pytest.fixture
def provider(fake_smtp: FakeSmtp) -> Iterator[SmtpEmailProvider]:
    provider = SmtpEmailProvider.from_settings(fake_smtp.settings())
    yield provider
    provider.close()


def test_sends_multipart_text_and_html_from_the_clinic_address(provider, fake_smtp):
    result = provider.send(email())

    assert result.outcome is Outcome.OK
    assert result.provider == "smtp"
    [received] = fake_smtp.received
    assert received["to"] == PATIENT
    assert received["from"] == "clinic@example.org"
    assert received["from_header"] == "Sutra Test Clinic <clinic@example.org>"
    assert received["subject"] == "Session moved"
    assert received["text"].strip() == BODY
    assert received["html"].strip() == HTML


def test_returns_the_message_id_header_it_set(provider, fake_smtp):
    result = provider.send(email())

    assert result.provider_message_id == fake_smtp.received[0]["message_id"]
    assert result.provider_message_id.endswith("@example.org>")


def test_sends_plain_text_only_when_there_is_no_html(provider, fake_smtp):
    provider.send(email(html=None))

    assert fake_smtp.received[0]["html"] is None


def test_wrong_relay_password_is_permanent(fake_smtp):
    provider = SmtpEmailProvider.from_settings(fake_smtp.settings(SMTP_PASSWORD="wrong"))
    try:
        result = provider.send(email())
    finally:
        provider.close()

    assert result.outcome is Outcome.PERMANENT
    assert result.error.startswith("smtp 535")
    assert fake_smtp.received == []


def test_transient_server_error_is_retryable(provider, fake_smtp):
    fake_smtp.fail_next("server_error")

    result = provider.send(email())

    assert result.outcome is Outcome.RETRYABLE
    assert result.error.startswith("smtp 451")


def test_rate_limit_is_retryable(provider, fake_smtp):
    fake_smtp.fail_next("rate_limited")

    result = provider.send(email())

    assert result.outcome is Outcome.RETRYABLE
    assert result.error == "smtp 450 4.7.1"


def test_timeout_is_retryable_and_not_resent(provider, fake_smtp):
    provider.send(email())
    fake_smtp.fail_next("timeout")

    started = time.monotonic()
    result = provider.send(email())

    assert result.outcome is Outcome.RETRYABLE
    assert time.monotonic() - started < 2
    assert fake_smtp.attempts == 2


def test_slow_answer_within_the_timeout_is_delivered(provider, fake_smtp):
    fake_smtp.fail_next("slow", delay=0.2)

    assert provider.send(email()).ok


def test_refused_recipient_is_permanent_and_sent_once(provider, fake_smtp):
    fake_smtp.fail_next("permanent")

    result = provider.send(email())

    assert result.outcome is Outcome.PERMANENT
    assert result.error == "smtp 550 5.1.1"
    assert fake_smtp.attempts == 1


def test_refused_connection_is_retryable(fake_smtp, unused_port):
    provider = SmtpEmailProvider.from_settings(fake_smtp.settings(SMTP_PORT=unused_port))
    try:
        result = provider.send(email())
    finally:
        provider.close()

    assert result.outcome is Outcome.RETRYABLE


@pytest.mark.parametrize("kind", ["permanent", "server_error", "timeout"])
def test_errors_never_quote_the_address_or_the_body(provider, fake_smtp, kind):
    fake_smtp.fail_next(kind)

    result = provider.send(email())

    assert result.error
    assert PATIENT not in result.error
    assert "Shirodhara" not in result.error


def test_one_refused_address_fails_while_the_others_are_delivered(provider, fake_smtp):
    bad = "gone@example.com"
    fake_smtp.fail_for(bad, "permanent")

    outcomes = [provider.send(email(to=to)).outcome for to in (PATIENT, bad, "dev@example.com")]

    assert outcomes == [Outcome.OK, Outcome.PERMANENT, Outcome.OK]
    assert fake_smtp.connections == 1


def test_sends_from_one_thread_reuse_one_connection(provider, fake_smtp):
    results = [provider.send(email()) for _ in range(10)]

    assert all(result.ok for result in results)
    assert fake_smtp.connections == 1


def test_a_connection_the_relay_dropped_is_reopened_transparently(provider, fake_smtp):
    assert provider.send(email()).ok
    fake_smtp.drop_connections()

    result = provider.send(email())

    assert result.ok
    assert len(fake_smtp.received) == 2
    assert fake_smtp.connections == 2


def test_a_drop_in_the_middle_of_a_send_is_resent_once_on_a_new_connection(provider, fake_smtp):
    assert provider.send(email()).ok
    fake_smtp.fail_next("disconnect")

    assert provider.send(email()).ok
    assert len(fake_smtp.received) == 2


def test_a_drop_on_a_fresh_connection_is_retryable_not_resent(provider, fake_smtp):
    fake_smtp.fail_next("disconnect")

    result = provider.send(email())

    assert result.outcome is Outcome.RETRYABLE
    assert fake_smtp.attempts == 1


def test_concurrent_sends_from_several_threads_all_succeed(provider, fake_smtp):
    recipients = [f"p{n}@example.com" for n in range(20)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda to: provider.send(email(to=to)), recipients))

    assert all(result.ok for result in results)
    assert sorted(r["to"] for r in fake_smtp.received) == sorted(recipients)
    assert fake_smtp.connections <= 4


def test_an_unsubscribe_link_goes_as_one_click_list_unsubscribe_headers(provider, fake_smtp):
    provider.send(email(unsubscribe_url="https://clinic.example/unsubscribe/abc"))

    headers = fake_smtp.received[0]["headers"]
    assert headers["List-Unsubscribe"] == "<https://clinic.example/unsubscribe/abc>"
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_an_email_without_an_unsubscribe_link_carries_no_list_headers(provider, fake_smtp):
    provider.send(email())

    assert "List-Unsubscribe" not in fake_smtp.received[0]["headers"]
