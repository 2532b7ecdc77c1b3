"""Whatever a caller sends to a webhook, signed or not, the answer is never a 5xx or a trace."""

import json
import logging
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.strategies import FUZZ, json_values_of

STATUS_PATH = "/webhooks/twilio/status"
INBOUND_PATH = "/webhooks/twilio/inbound"
EVENTS_PATH = "/webhooks/sendgrid/events"
SIGNATURE = "X-Twilio-Email-Event-Webhook-Signature"
TIMESTAMP = "X-Twilio-Email-Event-Webhook-Timestamp"

# What an HTTP header can carry: WSGI hands headers over as Latin-1 text without line breaks.
header_text = st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF), max_size=60)
any_text = st.text(max_size=80)
sids = st.one_of(any_text, st.from_regex(r"\ASM[0-9a-f]{32}\Z"))
twilio_statuses = st.one_of(any_text, st.sampled_from(["delivered", "failed", "undelivered", "sent", "read", "queued"]))
keywords = st.one_of(any_text, st.sampled_from(["STOP", "start", " help ", "CANCEL", "stop\x00", "ＳＴＯＰ"]))
phones = st.one_of(any_text, st.just("+919876543210"), st.from_regex(r"\A\+?[0-9²٣ ()-]{0,25}\Z"))
extra_fields = st.dictionaries(any_text, any_text, max_size=4)
json_values = json_values_of(any_text)
sendgrid_events = st.lists(
    st.one_of(
        json_values,
        st.fixed_dictionaries({"event": st.one_of(any_text, st.sampled_from(["delivered", "bounce", "dropped",
                                                                             "spamreport", "unsubscribe"])),
                               "notification": st.one_of(any_text, st.integers(), st.none()),
                               "type": st.one_of(any_text, st.none(), st.just("blocked"))}),
    ),
    max_size=6,
)
bodies = st.one_of(st.binary(max_size=200), sendgrid_events.map(lambda e: json.dumps(e).encode()),
                   st.integers(1, 3000).map(lambda depth: b"[" * depth + b"]" * depth),
                   st.integers(1, 3000).map(lambda depth: b'{"a":' * depth + b"1" + b"}" * depth))


@pytest.fixture
def webhooks(app, fake_twilio, fake_sendgrid, use_fake, patient, caplog):
    """Both providers configured; yields a checker that a response is neither a 5xx nor a trace."""
    use_fake(fake_twilio)
    use_fake(fake_sendgrid, SENDGRID_WEBHOOK_PUBLIC_KEY=fake_sendgrid.public_key_b64)
    caplog.set_level(logging.ERROR)

    def check(response) -> None:
        assert response.status_code < 500, response.get_data(as_text=True)[:500]
        assert "Traceback" not in response.get_data(as_text=True)
        assert not [r for r in caplog.records if r.exc_info], "an error was logged with a trace"

    return check


@FUZZ
@given(sid=sids, status=twilio_statuses, error_code=st.one_of(st.none(), any_text), extra=extra_fields)
def test_signed_twilio_status_callbacks_never_fail(client, fake_twilio, webhooks, sid, status, error_code, extra):
    fields = {**extra, **({"ErrorCode": error_code} if error_code is not None else {})}
    form, headers = fake_twilio.status_callback_request(f"http://localhost{STATUS_PATH}", sid, status, **fields)
    webhooks(client.post(STATUS_PATH, data=form, headers=headers))


@FUZZ
@given(sid=sids, sender=phones, body=keywords, extra=extra_fields)
def test_signed_twilio_inbound_messages_never_fail(client, fake_twilio, webhooks, sid, sender, body, extra):
    form, headers = fake_twilio.status_callback_request(f"http://localhost{INBOUND_PATH}", sid, "received",
                                                        **{**extra, "From": sender, "Body": body})
    webhooks(client.post(INBOUND_PATH, data=form, headers=headers))


@FUZZ
@given(path=st.sampled_from([STATUS_PATH, INBOUND_PATH]), form=extra_fields,
       signature=st.one_of(st.none(), header_text), content_type=st.one_of(st.none(), header_text))
def test_unsigned_twilio_requests_never_fail(client, webhooks, path, form, signature, content_type):
    headers = {"X-Twilio-Signature": signature} if signature is not None else {}
    if content_type is not None:
        headers["Content-Type"] = content_type
    webhooks(client.post(path, data=form, headers=headers))


@FUZZ
@given(body=bodies, age=st.integers(-1000, 1000))
def test_signed_sendgrid_batches_never_fail(client, fake_sendgrid, webhooks, body, age):
    timestamp = str(int(time.time()) + age)
    headers = {SIGNATURE: fake_sendgrid.sign(body, timestamp), TIMESTAMP: timestamp}
    webhooks(client.post(EVENTS_PATH, data=body, headers=headers))


@FUZZ
@given(body=bodies, signature=st.one_of(st.none(), header_text),
       timestamp=st.one_of(st.none(), header_text, st.integers().map(str), st.just("²")))
def test_unsigned_or_mis_signed_sendgrid_batches_never_fail(client, webhooks, body, signature, timestamp):
    headers = {name: value for name, value in ((SIGNATURE, signature), (TIMESTAMP, timestamp)) if value is not None}
    webhooks(client.post(EVENTS_PATH, data=body, headers=headers))
