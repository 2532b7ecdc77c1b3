"""Creating notifications: one transaction for every row, then jobs on Redis."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from redis.exceptions import ConnectionError as RedisConnectionError

from app.extensions import db
from app.models import Notification, NotificationEvent, NotificationGroup, Template
from app.models.status import Status
from app.schemas import read
from app.schemas.send import ALL_MY_PATIENTS, SendRequest
from app.services import clinic_settings
from app.services.channel_choice import CHOOSABLE_TYPES
from app.services.errors import Conflict, Forbidden, ValidationError
from app.services.outbox import create_send
from app.vocabulary import Channel, NotificationType, Priority
from tests import factories
from tests.conftest import queued_job_ids


def free_text(recipients, **fields) -> dict:
    values = {"type": "treatment_update", "recipient_ids": [p.id for p in recipients],
              "channels": ["in_app"], "title": "Your next session", "body": "Please rest after Abhyanga."}
    values.update(fields)
    return values


def send(sender, values: dict, **kwargs):
    """Read the request as every sender does, then send it."""
    return create_send(sender, read(SendRequest, values), **kwargs)


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_one_row_per_patient_and_channel(practitioner, patient, other_patient):
    result = send(practitioner, free_text([patient, other_patient], channels=["in_app", "email"]))
    assert result.created
    assert sorted((n.user_id, n.channel) for n in factories.notifications()) == sorted(
        [(patient.id, Channel.IN_APP), (patient.id, Channel.EMAIL),
         (other_patient.id, Channel.IN_APP), (other_patient.id, Channel.EMAIL)]
    )
    assert all(n.status is Status.QUEUED for n in factories.notifications())


def test_every_row_gets_its_first_event(practitioner, patient):
    send(practitioner, free_text([patient], channels=["in_app", "email"]))
    events = list(db.session.scalars(sa.select(NotificationEvent)))
    assert len(events) == 2
    assert {e.kind.value for e in events} == {"queued"}
    assert all(e.actor_id == practitioner.id for e in events)


def test_rows_record_sender_group_priority_and_attempt_budget(app, practitioner, patient):
    result = send(practitioner, free_text([patient]))
    [row] = factories.notifications()
    group = db.session.get(NotificationGroup, row.group_id)
    assert group.public_id == result.group_id
    assert row.sender_id == practitioner.id
    assert row.priority is Priority.NORMAL
    assert row.max_attempts == app.config["MAX_ATTEMPTS"]
    assert row.attempts == 0
    assert len(row.public_id) == 32


def test_jobs_are_enqueued_only_after_commit_and_carry_the_row_ids(redis, practitioner, patient):
    send(practitioner, free_text([patient], channels=["in_app", "email"]))
    jobs = queued_job_ids(redis)
    assert len(jobs["default"]) == 1
    from rq.job import Job

    job = Job.fetch(jobs["default"][0], connection=redis)
    assert sorted(job.args[0]) == sorted(n.id for n in factories.notifications())
    assert {n.job_id for n in factories.notifications()} == {job.id}


def test_a_group_send_is_split_into_batches_on_the_low_queue(app, redis, practitioner):
    patients = factories.create_patients(7, practitioner=practitioner)
    app.config["DELIVERY_BATCH_SIZE"] = 3
    send(practitioner, free_text(patients))
    jobs = queued_job_ids(redis)
    assert len(jobs["low"]) == 3  # 7 rows in batches of 3
    assert jobs["default"] == [] and jobs["high"] == []


@pytest.mark.parametrize("type_", ["health_alert", "medication_reminder"])
def test_time_critical_types_go_on_the_high_queue(redis, practitioner, patient, type_):
    send(practitioner, free_text([patient], type=type_))
    assert len(queued_job_ids(redis)["high"]) == 1


def test_a_future_send_waits_in_the_database_with_no_job_on_redis(redis, practitioner, patient):
    when = datetime.now(UTC) + timedelta(hours=3)
    result = send(practitioner, free_text([patient], scheduled_at=when))
    [row] = factories.notifications()
    assert (row.status, row.next_attempt_at, row.job_id) == (Status.SCHEDULED, when, None)
    assert result.scheduled_at == when
    assert queued_job_ids(redis) == {"high": [], "default": [], "low": []}
    assert redis.keys("rq:scheduled:*") == []


def test_schedule_as_iso_text_with_an_offset_is_accepted(practitioner, patient):
    when = (datetime.now(UTC) + timedelta(days=1)).astimezone()
    send(practitioner, free_text([patient], scheduled_at=when.isoformat()))
    assert factories.notifications()[0].next_attempt_at == when.astimezone(UTC)


def test_all_my_patients_reaches_only_my_active_patients(practitioner, other_practitioner):
    mine = factories.create_patients(2, practitioner=practitioner)
    factories.create_patient(practitioner=practitioner, active=False)
    factories.create_patient(practitioner=other_practitioner)
    result = send(practitioner, free_text([], recipient_ids=[], recipient_group=ALL_MY_PATIENTS))
    assert sorted(i.recipient_id for i in result.items) == sorted(p.id for p in mine)


def test_templates_render_in_the_patients_language(practitioner, templates):
    hindi = factories.create_patient(practitioner=practitioner, locale="hi", name="Arjun")
    send(practitioner, dict(type="appointment_reminder", recipient_ids=[hindi.id], channels=["in_app"],
                                          template_key="appointment_reminder", data={"when": "2 दिसंबर, 10:00"}))
    [row] = factories.notifications()
    assert row.title == "अपॉइंटमेंट अनुस्मारक"
    assert "Arjun" in row.message and "2 दिसंबर, 10:00" in row.message


def test_a_language_without_a_template_falls_back_to_the_default(practitioner, templates):
    db.session.execute(sa.delete(Template).where(Template.key == NotificationType.APPOINTMENT_CONFIRMATION,
                                                 Template.channel == Channel.EMAIL, Template.locale == "hi"))
    db.session.commit()
    patient = factories.create_patient(practitioner=practitioner, locale="hi")
    send(practitioner, dict(type="appointment_confirmation", recipient_ids=[patient.id],
                                          channels=["email"], template_key="appointment_confirmation",
                                          data={"when": "Mon 10:00"}))
    assert factories.notifications()[0].title == "Appointment confirmed for Mon 10:00"


def test_email_gets_escaped_html(practitioner, patient):
    send(practitioner, free_text([patient], channels=["email"], body="<script>x</script>\n\nBye"))
    [row] = factories.notifications()
    assert "<script>" not in row.html
    assert "&lt;script&gt;x&lt;/script&gt;" in row.html


def test_minimal_sms_carries_a_notice_not_the_text(practitioner, patient):
    send(practitioner, free_text([patient], channels=["sms"], body="Your liver values are high."))
    [row] = factories.notifications()
    assert "liver" not in row.message
    assert "http://localhost/inbox" in row.message


def test_full_sms_bodies_carry_the_text_when_configured(app, practitioner, patient):
    app.config["SMS_PUSH_BODIES"] = "full"
    send(practitioner, free_text([patient], channels=["sms"], body="See you at 10."))
    assert factories.notifications()[0].message == "See you at 10."


# --- suppression ------------------------------------------------------------------------------


def test_a_patient_without_a_phone_is_suppressed_for_sms_and_others_still_go(practitioner, patient):
    no_phone = factories.create_patient(practitioner=practitioner, phone=None, preferred_channels=["sms"])
    result = send(practitioner, free_text([patient, no_phone], channels=["sms"]))
    by_patient = {i.recipient_id: i for i in result.items if i.channel is Channel.SMS}
    assert by_patient[no_phone.id].status is Status.SUPPRESSED
    assert by_patient[no_phone.id].reason == "no phone number"
    assert by_patient[patient.id].status is Status.QUEUED


def test_suppressed_rows_get_no_job_and_an_event_with_the_reason(redis, practitioner):
    no_phone = factories.create_patient(practitioner=practitioner, phone=None, preferred_channels=["sms"])
    no_phone.email_opted_out_at = datetime.now(UTC)  # nowhere to fall back to
    db.session.commit()
    send(practitioner, free_text([no_phone], channels=["sms"]))
    [row] = factories.notifications()
    assert row.job_id is None
    assert queued_job_ids(redis)["default"] == []
    [event] = db.session.scalars(sa.select(NotificationEvent)).all()
    assert (event.kind.value, event.detail) == ("suppressed", "no phone number")


def test_an_sms_opt_out_suppresses_sms(practitioner):
    opted_out = factories.create_patient(practitioner=practitioner, phone="+919800000001", preferred_channels=["sms"])
    opted_out.sms_opted_out_at = datetime.now(UTC)
    db.session.commit()
    [item] = [i for i in send(practitioner, free_text([opted_out], channels=["sms"])).items if i.channel is Channel.SMS]
    assert (item.status, item.reason) == (Status.SUPPRESSED, "opted out of SMS")


def test_a_channel_turned_off_in_preferences_is_suppressed(practitioner):
    patient = factories.create_patient(practitioner=practitioner, phone="+919800000002", preferred_channels=["in_app"])
    [item] = send(practitioner, free_text([patient], channels=["sms"])).items
    assert (item.status, item.reason) == (Status.SUPPRESSED, "turned off in the patient's preferences")


def test_a_health_alert_overrides_preferences_but_not_an_opt_out(practitioner):
    patient = factories.create_patient(practitioner=practitioner, phone="+919800000003", preferred_channels=["in_app"])
    [item] = send(practitioner, free_text([patient], type="health_alert", channels=["sms"])).items
    assert item.status is Status.QUEUED


def test_a_health_alert_by_preference_goes_on_every_channel_the_patient_can_be_reached_on(practitioner):
    patient = factories.create_patient(practitioner=practitioner, phone="+919800000004", preferred_channels=["in_app"],
                                       devices=1)
    result = send(practitioner, free_text([patient], type="health_alert", channels=None))
    assert {(i.channel.value, i.status) for i in result.items} == {
        ("in_app", Status.QUEUED), ("sms", Status.QUEUED), ("email", Status.QUEUED), ("push", Status.QUEUED)}


def test_a_health_alert_by_preference_never_goes_by_sms_or_email_to_an_address_that_opted_out(practitioner):
    patient = factories.create_patient(practitioner=practitioner, phone="+919800000005", preferred_channels=["in_app"])
    patient.sms_opted_out_at = patient.email_opted_out_at = datetime.now(UTC)
    db.session.commit()
    result = send(practitioner, free_text([patient], type="health_alert", channels=None))
    reasons = {i.channel.value: (i.status, i.reason) for i in result.items}
    assert reasons["sms"] == (Status.SUPPRESSED, "opted out of SMS")
    assert reasons["email"][0] is Status.SUPPRESSED and "opted out" in reasons["email"][1]
    assert reasons["in_app"] == (Status.QUEUED, None)


def test_a_health_alert_goes_everywhere_even_when_every_clinic_default_is_off(practitioner, admin):
    newcomer = factories.create_patient(practitioner=practitioner, phone="+919800000006", preferred_channels=None,
                                        devices=1)
    clinic_settings.save_settings(admin, require_staff_two_factor=False,
                                  default_channels={kind.value: [] for kind in CHOOSABLE_TYPES})
    result = send(practitioner, free_text([newcomer], type="health_alert", channels=None))
    assert {(i.channel.value, i.status) for i in result.items} == {
        ("in_app", Status.QUEUED), ("sms", Status.QUEUED), ("email", Status.QUEUED), ("push", Status.QUEUED)}


def test_a_health_alert_goes_on_the_high_queue(practitioner, patient, redis):
    send(practitioner, free_text([patient], type="health_alert"))
    assert queued_job_ids(redis)["high"] and not queued_job_ids(redis)["default"]


def test_by_preference_uses_the_patients_channels_and_always_the_inbox(practitioner):
    patient = factories.create_patient(practitioner=practitioner, preferred_channels=["email"])
    result = send(practitioner, free_text([patient], channels=None))
    assert sorted(i.channel.value for i in result.items) == ["email", "in_app"]


def test_push_without_a_device_is_suppressed(practitioner):
    patient = factories.create_patient(practitioner=practitioner, preferred_channels=["push"])
    [item] = [i for i in send(practitioner, free_text([patient], channels=["push"])).items if i.channel is Channel.PUSH]
    assert (item.status, item.reason) == (Status.SUPPRESSED, "no push device")


# --- idempotency ------------------------------------------------------------------------------


def test_the_same_idempotency_key_returns_the_first_result(redis, practitioner, patient):
    first = send(practitioner, free_text([patient], idempotency_key="booking-42"))
    second = send(practitioner, free_text([patient], idempotency_key="booking-42"))
    assert not second.created
    assert second.group_id == first.group_id
    assert [i.notification_id for i in second.items] == [i.notification_id for i in first.items]
    assert count(Notification) == 1
    assert len(queued_job_ids(redis)["default"]) == 1


def test_an_idempotency_key_reused_for_another_request_is_a_conflict(practitioner, patient):
    send(practitioner, free_text([patient], idempotency_key="booking-42"))
    with pytest.raises(Conflict):
        send(practitioner, free_text([patient], body="Something else", idempotency_key="booking-42"))
    assert count(Notification) == 1


def test_idempotency_keys_belong_to_their_sender(practitioner, other_practitioner, patient):
    other_patient = factories.create_patient(practitioner=other_practitioner)
    send(practitioner, free_text([patient], idempotency_key="k"))
    assert send(other_practitioner, free_text([other_patient], idempotency_key="k")).created


# --- bad input: clear errors, nothing written ---------------------------------------------------


def assert_refused(sender, values: dict, field: str) -> str:
    with pytest.raises(ValidationError) as caught:
        send(sender, values)
    assert field in caught.value.errors, caught.value.errors
    assert count(Notification) == 0 and count(NotificationGroup) == 0 and count(NotificationEvent) == 0
    return caught.value.errors[field]


@pytest.mark.parametrize("key", ["booking\x0042", " ", "x" * 256])
def test_an_idempotency_key_that_could_not_be_stored_is_refused_before_any_lookup(practitioner, patient, key):
    message = assert_refused(practitioner, free_text([patient], idempotency_key=key), "idempotency_key")
    assert message == "An idempotency key is 1 to 255 printable characters"


def test_unknown_recipient_is_refused(practitioner, patient):
    message = assert_refused(practitioner, free_text([patient], recipient_ids=[patient.id, 999_999]), "recipients")
    assert "999999" in message


def test_another_practitioners_patient_is_refused_as_unknown(practitioner, other_practitioner):
    theirs = factories.create_patient(practitioner=other_practitioner)
    assert "Unknown" in assert_refused(practitioner, free_text([theirs]), "recipients")


def test_a_staff_member_is_not_a_recipient(practitioner, admin):
    assert_refused(admin, free_text([practitioner]), "recipients")


def test_a_deactivated_patient_is_refused(practitioner):
    gone = factories.create_patient(practitioner=practitioner, active=False)
    assert "Deactivated" in assert_refused(practitioner, free_text([gone]), "recipients")


def test_no_recipients_is_refused(practitioner):
    assert_refused(practitioner, free_text([]), "recipient_ids")


def test_unknown_channel_is_refused(practitioner, patient):
    request = free_text([patient], channels=["carrier_pigeon"])
    assert "carrier_pigeon" in assert_refused(practitioner, request, "channels")


def test_no_channel_at_all_is_refused(practitioner, patient):
    assert_refused(practitioner, free_text([patient], channels=[]), "channels")


def test_unknown_type_is_refused(practitioner, patient):
    assert_refused(practitioner, free_text([patient], type="gossip"), "type")


@pytest.mark.parametrize("body", ["", "   \n  "])
def test_an_empty_body_is_refused(practitioner, patient, body):
    assert_refused(practitioner, free_text([patient], body=body), "body")


def test_an_oversized_body_is_refused(app, practitioner, patient):
    message = assert_refused(practitioner, free_text([patient], body="x" * (app.config["MAX_BODY_CHARS"] + 1)), "body")
    assert "limit" in message


def test_an_sms_longer_than_one_message_can_carry_is_refused(app, practitioner, patient):
    app.config["SMS_PUSH_BODIES"] = "full"
    assert "SMS" in assert_refused(practitioner, free_text([patient], channels=["sms"], body="x" * 1601), "body")


def test_a_time_in_the_past_is_refused(practitioner, patient):
    past = datetime.now(UTC) - timedelta(hours=1)
    assert "past" in assert_refused(practitioner, free_text([patient], scheduled_at=past), "scheduled_at")


@pytest.mark.parametrize("raw", ["tomorrow at ten", "2026-13-45T99:00:00+00:00", "2026-12-01T10:00:00"])
def test_an_unparseable_or_zoneless_time_is_refused(practitioner, patient, raw):
    assert_refused(practitioner, free_text([patient], scheduled_at=raw), "scheduled_at")


def template_send(recipients, **fields) -> dict:
    values = {"type": "appointment_reminder", "recipient_ids": [p.id for p in recipients], "channels": ["in_app"],
              "template_key": "appointment_reminder", "data": {"when": "Mon 2 Dec, 10:00"}}
    values.update(fields)
    return values


def test_a_template_missing_its_data_is_refused_naming_the_field_in_words(practitioner, patient, templates):
    message = assert_refused(practitioner, template_send([patient], data={}), "data.when")
    assert message == "Fill in “Appointment time”: the template needs it"


def test_a_template_needing_an_undeclared_value_names_it_in_words(practitioner, patient, templates):
    db.session.execute(sa.update(Template).where(Template.key == NotificationType.APPOINTMENT_REMINDER,
                                                 Template.channel == Channel.IN_APP)
                       .values(body="Bring {{ blood_report }} on {{ when }}."))
    db.session.commit()
    message = assert_refused(practitioner, template_send([patient]), "data.blood_report")
    assert message == "Fill in “Blood report”: the template needs it"


def test_bad_data_field_names_are_refused(practitioner, patient):
    assert_refused(practitioner, free_text([patient], data={"patient_name": "Mallory"}), "data")


def test_nested_data_is_refused(practitioner, patient):
    assert_refused(practitioner, free_text([patient], data={"when": {"day": 1}}), "data.when")


@pytest.mark.parametrize("data", [[1, 2], "when", 7])
def test_data_that_is_not_an_object_is_refused(practitioner, patient, data):
    assert assert_refused(practitioner, free_text([patient], data=data), "data") == (
        "Data must be an object of names to values")


def test_a_template_value_over_500_characters_is_refused_not_cut(practitioner, patient, templates):
    message = assert_refused(practitioner, template_send([patient], data={"when": "x" * 501}), "data.when")
    assert message == "“Appointment time” is 501 characters; the limit is 500"


def test_a_template_value_of_500_characters_is_kept_whole(practitioner, patient, templates):
    send(practitioner, template_send([patient], data={"when": "x" * 500}))
    assert "x" * 500 in factories.notifications()[0].message


@pytest.mark.parametrize("field", ["title", "body"])
@pytest.mark.parametrize("bad", ["\x00", "\x1b]0;pwned\x07", "\x9b2J", "\udcff"])
def test_control_characters_in_free_text_are_refused(practitioner, patient, field, bad):
    message = assert_refused(practitioner, free_text([patient], **{field: f"Rest{bad} well"}), field)
    assert message == "Remove the control characters from this field"


def test_a_title_is_one_line(practitioner, patient):
    assert_refused(practitioner, free_text([patient], title="Rest\nwell"), "title")


@pytest.mark.parametrize("raw", ["²", "9" * 25, 2**31, 10**25, -3, 1.0, True, None])
def test_a_recipient_that_is_no_id_is_refused(practitioner, patient, raw):
    message = assert_refused(practitioner, free_text([patient], recipient_ids=[patient.id, raw]), "recipient_ids")
    assert message.startswith("Unknown patient id(s):")


@pytest.mark.parametrize("raw", ["0001-01-01T00:00:00+05:30", "9999-12-31T23:59:59-05:00",
                                 datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=5, minutes=30)))])
def test_a_schedule_time_at_the_ends_of_the_calendar_is_refused(practitioner, patient, raw):
    message = assert_refused(practitioner, free_text([patient], scheduled_at=raw), "scheduled_at")
    assert message == "Enter a date between 1970 and 2999"


def test_a_patient_cannot_send(patient, other_patient):
    with pytest.raises(Forbidden):
        send(patient, free_text([other_patient]))


def test_a_redis_outage_after_commit_loses_nothing(app, practitioner, patient, monkeypatch):
    def refuse(*args, **kwargs):
        raise RedisConnectionError("down")

    monkeypatch.setattr(app.extensions["redis"], "pipeline", refuse)
    result = send(practitioner, free_text([patient]))
    [row] = factories.notifications()
    assert row.status is Status.QUEUED and row.job_id is not None  # the sweeper will find it
    assert result.items[0].status is Status.QUEUED
