"""The send request schema: one reading of a send for the form, the command line and the API.

These need no app: a schema checks what its fields can tell alone or together.
"""

from datetime import UTC, datetime, timedelta

import pytest

from app.schemas import read
from app.schemas.send import ALL_MY_PATIENTS, SendRequest
from app.services.errors import ValidationError
from app.vocabulary import Channel, NotificationType

GOOD = {"type": "treatment_update", "recipient_ids": [7], "body": "Rest after Abhyanga."}


def refusals(**changes) -> dict[str, str]:
    with pytest.raises(ValidationError) as caught:
        read(SendRequest, {**GOOD, **changes})
    return caught.value.errors


def test_a_good_request_is_read_into_types():
    request = read(SendRequest, {**GOOD, "channels": ["sms", "in_app"], "recipient_ids": ["7", 7, 8]})
    assert request.type is NotificationType.TREATMENT_UPDATE
    assert request.channels == [Channel.SMS, Channel.IN_APP]
    assert request.recipient_ids == [7, 8]


def test_every_field_problem_is_named_at_once_under_its_field():
    errors = refusals(type="massage", channels=["carrier_pigeon"], title="a\x00b", idempotency_key="")
    assert set(errors) == {"type", "channels", "title", "idempotency_key"}
    assert errors["channels"].startswith("Unknown channel 'carrier_pigeon'")


def test_a_template_value_problem_is_named_under_its_value():
    errors = refusals(type="appointment_reminder", template_key="appointment_reminder", body="",
                      data={"when": "Mon 10:00", "note": "x" * 501})
    assert errors == {"data.note": "“Note” is 501 characters; the limit is 500"}


def test_a_template_value_the_template_needs_is_named_in_words():
    errors = refusals(type="appointment_reminder", template_key="appointment_reminder", body="", data={})
    assert errors == {"data.when": "Fill in “Appointment time”: the template needs it"}


def test_a_missing_message_is_named_beside_other_problems():
    assert set(refusals(body="", channels=[])) == {"body", "channels"}


def test_patients_by_id_and_a_group_at_once_are_refused():
    assert refusals(recipient_group=ALL_MY_PATIENTS) == {
        "recipient_ids": "Send to patients by id or to a group, not both"}


def test_a_field_the_request_does_not_have_is_refused():
    assert refusals(recipients=[7]) == {"recipients": "This is not a field of the request"}


def test_a_send_time_is_read_as_utc():
    request = read(SendRequest, {**GOOD, "scheduled_at": "2026-12-03T10:00:00+05:30"})
    assert request.scheduled_at == datetime(2026, 12, 3, 4, 30, tzinfo=UTC)


def test_a_past_send_time_is_refused_when_read_with_the_moment_of_asking():
    now = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
    with pytest.raises(ValidationError) as caught:
        read(SendRequest, {**GOOD, "scheduled_at": (now - timedelta(hours=1)).isoformat()}, context={"now": now})
    assert caught.value.errors == {"scheduled_at": "The scheduled time is in the past"}


def test_the_json_schema_names_every_field_and_allows_no_others():
    schema = SendRequest.model_json_schema()
    assert set(schema["properties"]) == set(SendRequest.model_fields)
    assert schema["additionalProperties"] is False
    assert schema["required"] == ["type"]
