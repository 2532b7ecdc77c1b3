"""Provider webhooks: signed requests only, and what each report changes."""

import json
import time
import uuid

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import Notification, NotificationEvent, User
from app.models.status import Status
from app.vocabulary import Channel
from tests import factories

STATUS_URL = "http://localhost/webhooks/twilio/status"
INBOUND_URL = "http://localhost/webhooks/twilio/inbound"


def the_row() -> Notification:
    db.session.expire_all()
    return db.session.scalars(sa.select(Notification)).one()


@pytest.fixture
def twilio(fake_twilio, use_fake):
    use_fake(fake_twilio)
    return fake_twilio


@pytest.fixture
def sent_sms(twilio, run_worker, practitioner, patient):
    factories.create_send(sender=practitioner, recipients=[patient], channels=["sms"])
    run_worker()
    row = the_row()
    assert row.status is Status.SENT
    return row


def new_sid() -> str:
    return "SM" + uuid.uuid4().hex


def post_twilio(client, twilio, url, **params):
    """A signed Twilio request; inbound messages get a sid of their own unless one is given."""
    sid = params.pop("sid") if "sid" in params else new_sid()
    form, headers = twilio.status_callback_request(url, sid, params.pop("status", ""), **params)
    return client.post(url.removeprefix("http://localhost"), data=form, headers=headers)


def event_count() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(NotificationEvent))


def test_a_delivered_report_marks_the_sms_delivered(client, twilio, sent_sms):
    response = post_twilio(client, twilio, STATUS_URL, sid=sent_sms.provider_message_id, status="delivered")
    assert response.status_code == 204
    row = the_row()
    assert row.status is Status.DELIVERED and row.delivered_at is not None
    event = db.session.scalars(sa.select(NotificationEvent).order_by(NotificationEvent.id.desc())).first()
    assert (event.kind.value, event.provider) == ("delivered", "twilio")


def test_an_undelivered_report_fails_it_with_the_carriers_code(client, twilio, sent_sms):
    post_twilio(client, twilio, STATUS_URL, sid=sent_sms.provider_message_id, status="undelivered", ErrorCode="30003")
    row = the_row()
    assert row.status is Status.FAILED and "30003" in row.status_reason


def test_intermediate_reports_change_nothing(client, twilio, sent_sms):
    assert post_twilio(client, twilio, STATUS_URL, sid=sent_sms.provider_message_id, status="sent").status_code == 204
    assert the_row().status is Status.SENT


def test_a_late_failure_cannot_undo_a_delivery(client, twilio, sent_sms):
    post_twilio(client, twilio, STATUS_URL, sid=sent_sms.provider_message_id, status="delivered")
    post_twilio(client, twilio, STATUS_URL, sid=sent_sms.provider_message_id, status="failed")
    assert the_row().status is Status.DELIVERED


def test_a_later_status_of_the_same_message_still_applies(client, twilio, sent_sms):
    post_twilio(client, twilio, STATUS_URL, sid=sent_sms.provider_message_id, status="sent")
    post_twilio(client, twilio, STATUS_URL, sid=sent_sms.provider_message_id, status="delivered")
    assert the_row().status is Status.DELIVERED


def test_a_replayed_status_report_is_acknowledged_and_records_nothing(client, twilio, sent_sms):
    post_twilio(client, twilio, STATUS_URL, sid=sent_sms.provider_message_id, status="delivered")
    events = event_count()
    response = post_twilio(client, twilio, STATUS_URL, sid=sent_sms.provider_message_id, status="delivered")
    assert response.status_code == 204
    assert event_count() == events


def test_a_replayed_status_report_changes_nothing_even_where_it_would_now_apply(client, twilio, sent_sms):
    # Twilio can report before the worker has recorded the send: the report then moves nothing.
    factories.put_in_status([sent_sms], Status.SENDING)
    post_twilio(client, twilio, STATUS_URL, sid=sent_sms.provider_message_id, status="undelivered")
    factories.put_in_status([sent_sms], Status.SENT)
    response = post_twilio(client, twilio, STATUS_URL, sid=sent_sms.provider_message_id, status="undelivered")
    assert response.status_code == 204
    assert the_row().status is Status.SENT


def test_a_sid_that_is_no_twilio_id_is_a_clear_400(client, twilio):
    response = post_twilio(client, twilio, STATUS_URL, sid="SM\x00' or 1=1", status="delivered")
    assert response.status_code == 400
    assert "not a Twilio message id" in response.get_json()["message"]


def test_a_report_for_a_message_we_do_not_know_is_acknowledged(client, twilio):
    assert post_twilio(client, twilio, STATUS_URL, sid="SMunknown", status="delivered").status_code == 204


def test_an_unsigned_report_is_refused(client, twilio, sent_sms):
    response = client.post("/webhooks/twilio/status", data={"MessageSid": sent_sms.provider_message_id,
                                                            "MessageStatus": "delivered"})
    assert response.status_code == 403
    assert the_row().status is Status.SENT


def test_a_report_signed_with_another_token_is_refused(client, twilio, sent_sms):
    form, headers = twilio.status_callback_request(STATUS_URL, sent_sms.provider_message_id, "delivered")
    form["MessageStatus"] = "failed"  # tampered after signing
    assert client.post("/webhooks/twilio/status", data=form, headers=headers).status_code == 403


def test_an_unknown_status_is_a_clear_400(client, twilio, sent_sms):
    response = post_twilio(client, twilio, STATUS_URL, sid=sent_sms.provider_message_id, status="exploded")
    assert response.status_code == 400
    assert "Unknown message status" in response.get_json()["message"]


def test_a_report_without_a_sid_is_a_clear_400(client, twilio):
    assert post_twilio(client, twilio, STATUS_URL, sid="", status="delivered").status_code == 400


def test_webhooks_of_an_unconfigured_provider_do_not_exist(client):
    assert client.post("/webhooks/twilio/status", data={}).status_code == 404
    assert client.post("/webhooks/sendgrid/events", data="[]").status_code == 404


@pytest.mark.parametrize("word", ["STOP", "stop", " Unsubscribe ", "CANCEL"])
def test_stop_opts_the_patient_out_of_sms(client, twilio, patient, word):
    response = post_twilio(client, twilio, INBOUND_URL, From=patient.phone, Body=word)
    assert response.status_code == 200 and response.mimetype == "text/xml"
    assert "Reply START" in response.get_data(as_text=True)
    db.session.refresh(patient)
    assert patient.sms_opted_out_at is not None


def test_after_stop_new_sms_are_suppressed(client, twilio, practitioner, patient):
    post_twilio(client, twilio, INBOUND_URL, From=patient.phone, Body="STOP")
    [item, *_fallback] = factories.create_send(sender=practitioner, recipients=[patient], channels=["sms"]).items
    assert (item.channel, item.status, item.reason) == (Channel.SMS, Status.SUPPRESSED, "opted out of SMS")


def test_start_opts_the_patient_back_in(client, twilio, patient):
    post_twilio(client, twilio, INBOUND_URL, From=patient.phone, Body="STOP")
    post_twilio(client, twilio, INBOUND_URL, From=patient.phone, Body="start")
    db.session.refresh(patient)
    assert patient.sms_opted_out_at is None


def test_a_replayed_stop_after_a_start_changes_nothing(client, twilio, patient):
    stop = new_sid()
    post_twilio(client, twilio, INBOUND_URL, sid=stop, From=patient.phone, Body="STOP")
    post_twilio(client, twilio, INBOUND_URL, From=patient.phone, Body="START")
    post_twilio(client, twilio, INBOUND_URL, sid=stop, From=patient.phone, Body="STOP")
    db.session.refresh(patient)
    assert patient.sms_opted_out_at is None


def test_a_replayed_message_is_acknowledged_without_a_reply(client, twilio, patient):
    stop = new_sid()
    post_twilio(client, twilio, INBOUND_URL, sid=stop, From=patient.phone, Body="STOP")
    response = post_twilio(client, twilio, INBOUND_URL, sid=stop, From=patient.phone, Body="STOP")
    assert response.status_code == 200 and response.mimetype == "text/xml"
    assert "<Message>" not in response.get_data(as_text=True)


def test_a_stop_with_a_new_sid_after_a_start_still_opts_out(client, twilio, patient):
    for word in ("STOP", "START", "STOP"):
        post_twilio(client, twilio, INBOUND_URL, From=patient.phone, Body=word)
    db.session.refresh(patient)
    assert patient.sms_opted_out_at is not None


def test_an_inbound_message_without_a_sid_is_a_clear_400(client, twilio, patient):
    response = post_twilio(client, twilio, INBOUND_URL, sid="", From=patient.phone, Body="STOP")
    assert response.status_code == 400
    db.session.refresh(patient)
    assert patient.sms_opted_out_at is None


def test_help_is_answered_and_changes_nothing(client, twilio, patient):
    body = post_twilio(client, twilio, INBOUND_URL, From=patient.phone, Body="HELP").get_data(as_text=True)
    assert "Reply STOP" in body
    db.session.refresh(patient)
    assert patient.sms_opted_out_at is None


def test_other_messages_get_an_empty_answer(client, twilio, patient):
    body = post_twilio(client, twilio, INBOUND_URL, From=patient.phone, Body="Can I come at 11?").get_data(as_text=True)
    assert "<Message>" not in body


def test_an_inbound_message_from_a_malformed_number_is_a_clear_400(client, twilio):
    assert post_twilio(client, twilio, INBOUND_URL, From="not a number", Body="STOP").status_code == 400


# --- SendGrid -------------------------------------------------------------------------------------


@pytest.fixture
def sendgrid(fake_sendgrid, use_fake):
    use_fake(fake_sendgrid, SENDGRID_WEBHOOK_PUBLIC_KEY=fake_sendgrid.public_key_b64)
    return fake_sendgrid


@pytest.fixture
def sent_email(sendgrid, run_worker, practitioner, patient):
    factories.create_send(sender=practitioner, recipients=[patient], channels=["email"])
    run_worker()
    return the_row()


def post_events(client, sendgrid, events, timestamp=None):
    payload, headers = sendgrid.signed_event_request(events, timestamp)
    return client.post("/webhooks/sendgrid/events", data=payload, headers=headers)


def test_a_delivered_event_marks_the_email_delivered(client, sendgrid, sent_email):
    response = post_events(client, sendgrid, [{"event": "delivered", "notification": sent_email.public_id}])
    assert response.get_json() == {"received": 1, "changed": 1}
    assert the_row().status is Status.DELIVERED


def test_a_hard_bounce_fails_the_email_and_stops_email_to_that_patient(client, sendgrid, sent_email, patient):
    post_events(client, sendgrid, [{"event": "bounce", "type": "bounce", "notification": sent_email.public_id}])
    assert the_row().status is Status.FAILED
    db.session.refresh(patient)
    assert patient.email_opted_out_at is not None


def test_a_spam_report_stops_email_to_that_patient(client, sendgrid, sent_email, patient):
    post_events(client, sendgrid, [{"event": "spamreport", "notification": sent_email.public_id}])
    db.session.refresh(patient)
    assert patient.email_opted_out_at is not None


def test_malformed_events_are_skipped_and_the_rest_applied(client, sendgrid, sent_email):
    events = ["junk", {"event": 3}, {"no": "reference"}, {"event": "delivered", "notification": sent_email.public_id}]
    assert post_events(client, sendgrid, events).get_json() == {"received": 4, "changed": 1}


@pytest.mark.parametrize("reference", ["\x00", "x" * 100_000, "NOT-A-PUBLIC-ID"])
def test_a_reference_that_cannot_name_a_notification_is_skipped_without_asking_the_database(
        client, sendgrid, sent_email, reference):
    events = [{"event": "delivered", "notification": reference},
              {"event": "delivered", "notification": sent_email.public_id}]
    assert post_events(client, sendgrid, events).get_json() == {"received": 2, "changed": 1}


def test_a_body_that_is_not_an_array_is_a_clear_400(client, sendgrid):
    payload = json.dumps({"event": "delivered"}).encode()
    timestamp = str(int(time.time()))
    headers = {"X-Twilio-Email-Event-Webhook-Signature": sendgrid.sign(payload, timestamp),
               "X-Twilio-Email-Event-Webhook-Timestamp": timestamp}
    assert client.post("/webhooks/sendgrid/events", data=payload, headers=headers).status_code == 400


def test_an_unsigned_event_batch_is_refused(client, sendgrid, sent_email):
    response = client.post("/webhooks/sendgrid/events",
                           data=json.dumps([{"event": "delivered", "notification": sent_email.public_id}]))
    assert response.status_code == 403
    assert the_row().status is Status.SENT


def test_a_garbled_signature_is_refused(client, sendgrid):
    response = client.post("/webhooks/sendgrid/events", data="[]", headers={
        "X-Twilio-Email-Event-Webhook-Signature": "%%%not base64%%%",
        "X-Twilio-Email-Event-Webhook-Timestamp": str(int(time.time()))})
    assert response.status_code == 403


def test_a_replayed_old_batch_is_refused(client, sendgrid, sent_email):
    old = str(int(time.time()) - 3600)
    assert post_events(client, sendgrid, [{"event": "delivered", "notification": sent_email.public_id}],
                       timestamp=old).status_code == 403


def test_webhooks_need_no_login_but_every_other_post_does(client, sendgrid):
    assert post_events(client, sendgrid, []).status_code == 200
    assert client.post("/inbox/read-all").status_code in (302, 400)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0


def test_a_timestamp_of_non_ascii_digits_is_refused_before_anything_is_read(client, sendgrid):
    response = client.post("/webhooks/sendgrid/events", data="[]", headers={
        "X-Twilio-Email-Event-Webhook-Signature": "c2lnbmF0dXJl",
        "X-Twilio-Email-Event-Webhook-Timestamp": "²"})
    assert response.status_code == 403


def test_a_signed_body_nested_too_deep_is_a_clear_400(client, sendgrid):
    payload = b"[" * 100_000 + b"]" * 100_000
    timestamp = str(int(time.time()))
    headers = {"X-Twilio-Email-Event-Webhook-Signature": sendgrid.sign(payload, timestamp),
               "X-Twilio-Email-Event-Webhook-Timestamp": timestamp}
    response = client.post("/webhooks/sendgrid/events", data=payload, headers=headers)
    assert response.status_code == 400
    assert "not JSON" in response.get_json()["message"]
