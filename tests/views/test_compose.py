"""Compose: the practitioner's form, its preview, and what a submit creates."""

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from redis import Redis

from app.extensions import db
from app.models import NotificationGroup
from app.models.status import Status
from app.services.sweeper import sweep
from tests import factories
from tests.conftest import csrf_token_from


@pytest.fixture
def staff(login, practitioner):
    return login(practitioner)


def compose_form(client, **fields) -> dict:
    html = client.get("/compose").get_data(as_text=True)
    form = {
        "csrf_token": csrf_token_from(html),
        "recipient_mode": "one",
        "patient_id": "",
        "patient_search": "",
        "type": "treatment_update",
        "channel_mode": "choose",
        "channels": ["in_app"],
        "content_mode": "text",
        "title": "After your session",
        "body": "Rest and drink warm water.",
        "send_mode": "now",
        "idempotency_key": f"compose-{datetime.now().timestamp()}",
    }
    form.update(fields)
    return form



def test_compose_page_renders_for_staff(staff):
    body = staff.get("/compose").get_data(as_text=True)
    assert 'id="compose-form"' in body and "Preview" in body


def test_patients_cannot_compose(login, patient):
    assert login(patient).get("/compose").status_code == 403


def test_sending_to_one_patient_creates_the_rows_and_shows_the_send(staff, patient):
    response = staff.post("/compose", data=compose_form(staff, patient_id=str(patient.id),
                                                        patient_search=patient.name, channels=["in_app", "sms"]))
    assert response.status_code == 302
    group = db.session.scalar(sa.select(NotificationGroup))
    assert response.headers["Location"] == f"/sends/{group.public_id}"
    assert sorted(n.channel.value for n in factories.notifications()) == ["in_app", "sms"]
    page = staff.get(response.headers["Location"]).get_data(as_text=True)
    assert "After your session" in page and "Sending: 2 of 2 still to go." in page


def test_all_my_patients_reaches_each_of_them(staff, practitioner, patient, other_patient):
    form = compose_form(staff, recipient_mode="all_my_patients")
    assert staff.post("/compose", data=form).status_code == 302
    assert {n.user_id for n in factories.notifications()} == {patient.id, other_patient.id}


def test_the_patients_preferences_choose_the_channels(staff, patient):
    form = compose_form(staff, patient_id=str(patient.id), channel_mode="preferences", channels=[])
    staff.post("/compose", data=form)
    assert sorted(n.channel.value for n in factories.notifications()) == ["email", "in_app", "push", "sms"]


def test_a_template_send_uses_its_data_fields(staff, patient, templates):
    form = compose_form(staff, patient_id=str(patient.id), type="appointment_reminder", content_mode="template",
                        data_when="Mon 2 Dec, 10:00", data_therapy="Abhyanga", title="", body="")
    assert staff.post("/compose", data=form).status_code == 302
    [row] = factories.notifications()
    assert "Mon 2 Dec, 10:00" in row.message and "Abhyanga" in row.message


def test_scheduling_uses_the_practitioners_time_zone(staff, practitioner, patient):
    local = datetime.now(practitioner.zone) + timedelta(days=1)
    form = compose_form(staff, patient_id=str(patient.id), send_mode="later",
                        send_date=local.strftime("%Y-%m-%d"), send_time=local.strftime("%H:%M"))
    assert staff.post("/compose", data=form).status_code == 302
    [row] = factories.notifications()
    assert row.status is Status.SCHEDULED
    assert row.next_attempt_at == local.replace(second=0, microsecond=0)


def test_a_double_submit_sends_once(staff, patient):
    form = compose_form(staff, patient_id=str(patient.id))
    first = staff.post("/compose", data=form)
    second = staff.post("/compose", data=form)
    assert first.headers["Location"] == second.headers["Location"]
    assert len(factories.notifications()) == 1


# --- bad input: inline errors, input kept, nothing written --------------------------------------


def assert_refused(response, *expected: str) -> str:
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    for text in expected:
        assert text in body
    assert factories.notifications() == []
    return body


def test_an_empty_body_is_an_inline_error_and_the_input_is_kept(staff, patient):
    form = compose_form(staff, patient_id=str(patient.id), patient_search=patient.name, body="  ",
                        title="Kept title")
    body = assert_refused(staff.post("/compose", data=form), "Write a message", 'id="body-error"')
    assert 'value="Kept title"' in body
    assert f'value="{patient.name}"' in body


def test_a_past_time_is_an_inline_error(staff, practitioner, patient):
    past = datetime.now(practitioner.zone) - timedelta(hours=2)
    form = compose_form(staff, patient_id=str(patient.id), send_mode="later",
                        send_date=past.strftime("%Y-%m-%d"), send_time=past.strftime("%H:%M"),
                        body="Keep me")
    response = staff.post("/compose", data=form)
    body = assert_refused(response, "The scheduled time is in the past", 'id="send_date-error"')
    assert "Keep me" in body


def test_a_schedule_without_a_time_is_an_inline_error(staff, patient):
    form = compose_form(staff, patient_id=str(patient.id), send_mode="later", send_date="", send_time="")
    assert_refused(staff.post("/compose", data=form), "Choose the date and time")


def test_no_patient_chosen_is_an_inline_error(staff):
    assert_refused(staff.post("/compose", data=compose_form(staff)), "Choose a patient from the list")


def test_no_channel_chosen_is_an_inline_error(staff, patient):
    form = compose_form(staff, patient_id=str(patient.id), channels=[])
    assert_refused(staff.post("/compose", data=form), "Choose at least one channel")


def test_another_practitioners_patient_is_refused(staff, other_practitioner):
    theirs = factories.create_patient(practitioner=other_practitioner)
    assert_refused(staff.post("/compose", data=compose_form(staff, patient_id=str(theirs.id))), "Unknown patient")


def test_an_unknown_type_is_refused(staff, patient):
    response = staff.post("/compose", data=compose_form(staff, patient_id=str(patient.id), type="gossip"))
    assert_refused(response, "Not a valid choice")


def test_a_missing_template_value_is_named_as_the_form_labels_it(staff, patient, templates):
    form = compose_form(staff, patient_id=str(patient.id), type="appointment_reminder", content_mode="template")
    body = assert_refused(staff.post("/compose", data=form), "Fill in “Appointment time”: the template needs it",
                          'id="data_when-error"', 'href="#data_when"')
    assert "undefined" not in body


def test_every_problem_is_named_at_once_in_a_summary_linked_to_each_field(staff, practitioner):
    past = datetime.now(practitioner.zone) - timedelta(hours=2)
    form = compose_form(staff, channels=[], body="", send_mode="later",
                        send_date=past.strftime("%Y-%m-%d"), send_time=past.strftime("%H:%M"))
    body = assert_refused(staff.post("/compose", data=form), "There is a problem")
    summary = body.split('class="error-summary"')[1].split("</div>")[0]
    for anchor, message in [("#patient_search", "Choose a patient from the list"),
                            ("#channels-0", "Choose at least one channel"),
                            ("#body", "Write a message"),
                            ("#send_date", "The scheduled time is in the past")]:
        assert f'<a href="{anchor}">{message}' in summary, (anchor, summary)


def test_a_problem_the_form_and_the_outbox_both_see_is_named_once(staff):
    body = assert_refused(staff.post("/compose", data=compose_form(staff)), "Choose a patient from the list")
    assert "Choose at least one patient" not in body


def test_a_template_values_problem_is_named_with_the_forms_other_problems(staff, templates):
    form = compose_form(staff, type="medication_reminder", content_mode="template", data_dose="1 teaspoon")
    assert_refused(staff.post("/compose", data=form), "Choose a patient from the list",
                   "Fill in “Medicine”: the template needs it", 'value="1 teaspoon"')


def test_the_button_says_send_until_scheduling_is_chosen(staff):
    assert '<button type="submit" class="button primary" id="compose-submit">Send</button>' in (
        staff.get("/compose").get_data(as_text=True))


def test_the_button_says_schedule_when_the_form_comes_back_scheduling(staff):
    body = assert_refused(staff.post("/compose", data=compose_form(staff, send_mode="later")))
    assert '<button type="submit" class="button primary" id="compose-submit">Schedule</button>' in body


def test_compose_without_csrf_is_refused(staff, patient):
    form = compose_form(staff, patient_id=str(patient.id))
    del form["csrf_token"]
    assert staff.post("/compose", data=form).status_code == 400
    assert factories.notifications() == []


# --- preview and helpers --------------------------------------------------------------------------


def test_the_preview_shows_each_channel_as_the_patient_will_see_it(staff, patient):
    form = compose_form(staff, patient_id=str(patient.id), channels=["email", "sms", "push", "in_app"])
    html = staff.post("/compose/preview", data=form).get_data(as_text=True)
    assert "As Priya Sharma will see it" in html
    assert "Subject:</strong> After your session" in html and "srcdoc=" in html
    assert "segment" in html and "GSM-7" in html
    assert "push-card" in html and "Rest and drink warm water." in html


def test_the_preview_counts_ucs2_segments_for_hindi(staff, practitioner, templates):
    hindi = factories.create_patient(practitioner=practitioner, locale="hi", phone="+919800000300",
                                     preferred_channels=["sms"])
    form = compose_form(staff, patient_id=str(hindi.id), channels=["sms"], type="treatment_update",
                        content_mode="template", title="", body="")
    html = staff.post("/compose/preview", data=form).get_data(as_text=True)
    assert "UCS-2" in html


def test_the_preview_says_what_will_not_be_sent(staff, practitioner):
    no_phone = factories.create_patient(practitioner=practitioner, phone=None, preferred_channels=["sms"])
    form = compose_form(staff, patient_id=str(no_phone.id), channels=["sms"])
    assert "Will not be sent: no phone number" in staff.post("/compose/preview", data=form).get_data(as_text=True)


def test_the_preview_names_a_missing_template_value_as_the_form_labels_it(staff, patient, templates):
    form = compose_form(staff, patient_id=str(patient.id), type="medication_reminder", content_mode="template")
    html = staff.post("/compose/preview", data=form).get_data(as_text=True)
    assert "Fill in “Medicine”: the template needs it" in html and "undefined" not in html


def test_the_preview_without_a_patient_uses_a_sample(staff):
    assert "sample patient" in staff.post("/compose/preview", data=compose_form(staff)).get_data(as_text=True)


def test_the_preview_escapes_what_was_typed(staff, patient):
    form = compose_form(staff, patient_id=str(patient.id), body="<img src=x onerror=alert(1)>")
    html = staff.post("/compose/preview", data=form).get_data(as_text=True)
    assert "<img src=x" not in html


def suggestions(client, term: str) -> str:
    token = csrf_token_from(client.get("/compose").get_data(as_text=True))
    return client.post("/compose/patients", data={"patient_search": term},
                       headers={"X-CSRFToken": token}).get_data(as_text=True)


def test_autocomplete_finds_my_patients_only(staff, patient, other_practitioner):
    factories.create_patient(practitioner=other_practitioner, name="Priyanka Theirs")
    html = suggestions(staff, "pri")
    assert "Priya Sharma" in html and "Priyanka Theirs" not in html


def test_autocomplete_says_when_nothing_matches(staff):
    assert "No patient matches" in suggestions(staff, "zzz")


def test_autocomplete_needs_the_pages_csrf_token(staff):
    assert staff.post("/compose/patients", data={"patient_search": "pri"}).status_code == 400


def test_autocomplete_is_not_a_get_so_names_stay_out_of_urls(staff):
    assert staff.get("/compose/patients?patient_search=pri").status_code == 405


def test_template_fields_follow_the_type(staff):
    html = staff.get("/compose/fields?type=medication_reminder").get_data(as_text=True)
    assert 'name="data_medicine"' in html and 'name="data_when"' not in html


def test_template_fields_for_an_unknown_type_are_empty(staff):
    assert "data_" not in staff.get("/compose/fields?type=nope").get_data(as_text=True)


# --- bad input that once failed or was silently changed --------------------------------------------

ODD_IDS = ["²", "9" * 25, "2147483648", "-1", "1e3", " 7"]


@pytest.mark.parametrize("patient_id", ODD_IDS)
def test_an_odd_patient_id_is_an_inline_error(staff, patient_id):
    assert_refused(staff.post("/compose", data=compose_form(staff, patient_id=patient_id)),
                   "Choose a patient from the list")


@pytest.mark.parametrize("patient_id", ODD_IDS)
def test_an_odd_patient_id_previews_a_sample_patient(staff, patient_id):
    response = staff.post("/compose/preview", data=compose_form(staff, patient_id=patient_id))
    assert response.status_code == 200 and "sample patient" in response.get_data(as_text=True)


@pytest.mark.parametrize("patient_id", ODD_IDS)
def test_an_odd_patient_id_in_the_link_opens_an_empty_form(staff, patient_id):
    response = staff.get("/compose", query_string={"patient": patient_id})
    assert response.status_code == 200 and 'id="compose-form"' in response.get_data(as_text=True)


def test_a_link_with_a_patients_id_chooses_them(staff, patient):
    assert f'value="{patient.name}"' in staff.get(f"/compose?patient={patient.id}").get_data(as_text=True)


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31"])
def test_a_schedule_date_out_of_range_is_an_inline_error(staff, patient, day):
    form = compose_form(staff, patient_id=str(patient.id), send_mode="later", send_date=day, send_time="00:00")
    assert_refused(staff.post("/compose", data=form), "Enter a date between 1970 and 2999", 'id="send_date-error"')


@pytest.mark.parametrize("field", ["title", "body"])
@pytest.mark.parametrize("bad", ["\x00", "\x1b[2J", "\x9b31m", "\x07"])
def test_control_characters_in_the_title_or_message_are_refused(staff, patient, field, bad):
    form = compose_form(staff, patient_id=str(patient.id), **{field: f"Rest well{bad} today"})
    assert_refused(staff.post("/compose", data=form), "Remove the control characters from this field",
                   f'id="{field}-error"')


def test_a_message_keeps_its_line_breaks_and_tabs(staff, patient):
    body = "Morning:\tTriphala\r\nEvening:\tAshwagandha"
    assert staff.post("/compose", data=compose_form(staff, patient_id=str(patient.id), body=body)).status_code == 302
    [row] = factories.notifications()
    assert row.message == body


def test_a_template_value_over_500_characters_is_refused_not_cut(staff, patient, templates):
    note = "Walk slowly after meals. " * 21  # 525 characters
    form = compose_form(staff, patient_id=str(patient.id), type="treatment_update", content_mode="template",
                        data_note=note)
    body = assert_refused(staff.post("/compose", data=form),
                          "“Note” is 524 characters; the limit is 500", 'id="data_note-error"')
    assert note.strip() in body  # kept whole in its field for the practitioner to shorten


def test_control_characters_in_a_template_value_are_refused(staff, patient, templates):
    form = compose_form(staff, patient_id=str(patient.id), type="appointment_reminder", content_mode="template",
                        data_when="Mon 2 Dec\x1b[31m, 10:00")
    assert_refused(staff.post("/compose", data=form), "remove the control characters", 'id="data_when-error"')


def test_autocomplete_with_control_characters_finds_nobody(staff, patient):
    assert "No patient matches" in suggestions(staff, "Pri\x00ya")


def test_a_send_while_redis_is_down_is_stored_and_delivered_once_it_is_back(
    app, staff, patient, run_worker, unused_port, monkeypatch
):
    form = compose_form(staff, patient_id=str(patient.id), patient_search=patient.name)
    working_redis = app.extensions["redis"]
    monkeypatch.setitem(app.extensions, "redis", Redis(port=unused_port, socket_connect_timeout=0.5))
    response = staff.post("/compose", data=form)
    assert response.status_code == 302
    [row] = factories.notifications()
    assert row.status is Status.QUEUED and row.job_id  # its job never reached Redis

    monkeypatch.setitem(app.extensions, "redis", working_redis)
    assert sweep(now=datetime.now(UTC) + timedelta(seconds=app.config["SWEEP_GRACE_SECONDS"] + 1)).requeued == 1
    run_worker()
    assert factories.notifications()[0].status is Status.DELIVERED
