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
from tests.pages import error_summary, field_error, one, text, texts


@pytest.fixture
def staff(client_request, practitioner):
    return client_request.login(practitioner)


def compose_form(**fields) -> dict:
    return {
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
        **fields,
    }


def submit(staff, expected_status: int = 302, **fields):
    """Open Compose and send the form with `fields` changed."""
    staff.get("/compose")
    return staff.post("/compose", data=compose_form(**fields), expected_status=expected_status)


def refused(staff, **fields):
    """Send the form expecting it back with inline errors, and nothing written."""
    page = submit(staff, expected_status=422, **fields)
    assert factories.notifications() == []
    return page


def preview(staff, **fields):
    staff.get("/compose")
    return staff.post("/compose/preview", data=compose_form(**fields), expected_status=200)


def later_form(moment: datetime) -> dict:
    return {"send_mode": "later", "send_date": moment.strftime("%Y-%m-%d"), "send_time": moment.strftime("%H:%M")}


def test_compose_page_renders_for_staff(staff):
    page = staff.get("/compose")
    assert text(page.h1) == "Compose" and one(page, "form#compose-form")
    assert "Preview" in texts(page, "h2")


def test_patients_cannot_compose(client_request, patient):
    client_request.login(patient).get("/compose", expected_status=403)


def test_sending_to_one_patient_creates_the_rows_and_shows_the_send(staff, patient):
    staff.get("/compose")
    page = staff.post("/compose", follow_redirects=True, expected_status=200, data=compose_form(
        patient_id=str(patient.id), patient_search=patient.name, channels=["in_app", "sms"]))
    group = db.session.scalar(sa.select(NotificationGroup))
    assert sorted(n.channel.value for n in factories.notifications()) == ["in_app", "sms"]
    assert one(page, "#send-live")["hx-get"] == f"/sends/{group.public_id}/live"
    assert text(page.h1) == "After your session"
    assert text(one(page, "[data-send-state]")) == "Sending: 2 of 2 still to go."


def test_all_my_patients_reaches_each_of_them(staff, practitioner, patient, other_patient):
    submit(staff, recipient_mode="all_my_patients")
    assert {n.user_id for n in factories.notifications()} == {patient.id, other_patient.id}


def test_the_patients_preferences_choose_the_channels(staff, patient):
    submit(staff, patient_id=str(patient.id), channel_mode="preferences", channels=[])
    assert sorted(n.channel.value for n in factories.notifications()) == ["email", "in_app", "push", "sms"]


def test_a_template_send_uses_its_data_fields(staff, patient, templates):
    submit(staff, patient_id=str(patient.id), type="appointment_reminder", content_mode="template",
           data_when="Mon 2 Dec, 10:00", data_therapy="Abhyanga", title="", body="")
    [row] = factories.notifications()
    assert "Mon 2 Dec, 10:00" in row.message and "Abhyanga" in row.message


def test_a_group_send_can_go_at_one_local_time_in_each_patients_zone(staff, practitioner):
    abroad = factories.create_patient(practitioner=practitioner, timezone="America/New_York")
    at_home = factories.create_patient(practitioner=practitioner, timezone="Asia/Kolkata")
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).date()
    submit(staff, recipient_mode="all_my_patients", send_mode="later", send_date=f"{tomorrow:%Y-%m-%d}",
           send_time="08:00", in_patients_zones="y")
    when = {n.user_id: n.scheduled_at for n in factories.notifications()}
    assert when[abroad.id].astimezone(abroad.zone).strftime("%H:%M") == "08:00"
    assert when[at_home.id].astimezone(at_home.zone).strftime("%H:%M") == "08:00"
    assert when[abroad.id] != when[at_home.id]


def test_a_local_time_that_does_not_exist_for_a_patient_is_an_inline_error(staff, practitioner):
    factories.create_patient(practitioner=practitioner, name="Arjun Abroad", timezone="America/New_York")
    page = refused(staff, recipient_mode="all_my_patients", send_mode="later", send_date="2027-03-14",
                   send_time="02:30", in_patients_zones="y")
    assert "does not exist in America/New_York" in field_error(page, "send_date")


def test_scheduling_uses_the_practitioners_time_zone(staff, practitioner, patient):
    local = datetime.now(practitioner.zone) + timedelta(days=1)
    submit(staff, patient_id=str(patient.id), **later_form(local))
    [row] = factories.notifications()
    assert row.status is Status.SCHEDULED
    assert row.next_attempt_at == local.replace(second=0, microsecond=0)


def test_a_double_submit_sends_once(staff, patient):
    form = compose_form(patient_id=str(patient.id))
    staff.get("/compose")
    staff.post("/compose", data=form)
    group = db.session.scalar(sa.select(NotificationGroup))
    staff.post("/compose", data=form, expected_redirect=f"/sends/{group.public_id}")
    assert len(factories.notifications()) == 1


# --- bad input: inline errors, input kept, nothing written --------------------------------------


def test_an_empty_body_is_an_inline_error_and_the_input_is_kept(staff, patient):
    page = refused(staff, patient_id=str(patient.id), patient_search=patient.name, body="  ", title="Kept title")
    assert field_error(page, "body") == "Write a message, or choose a template"
    assert (one(page, "#title")["value"], one(page, "#patient_search")["value"]) == ("Kept title", patient.name)


def test_a_past_time_is_an_inline_error(staff, practitioner, patient):
    past = datetime.now(practitioner.zone) - timedelta(hours=2)
    page = refused(staff, patient_id=str(patient.id), body="Keep me", **later_form(past))
    assert field_error(page, "send_date") == "The scheduled time is in the past"
    assert text(one(page, "#body")) == "Keep me"


def test_a_schedule_without_a_time_is_an_inline_error(staff, patient):
    page = refused(staff, patient_id=str(patient.id), send_mode="later", send_date="", send_time="")
    assert field_error(page, "send_date").startswith("Choose the date and time")


def test_no_patient_chosen_is_an_inline_error(staff):
    assert field_error(refused(staff), "patient_search") == "Choose a patient from the list"


def test_no_channel_chosen_is_an_inline_error(staff, patient):
    assert field_error(refused(staff, patient_id=str(patient.id), channels=[]), "channels") == (
        "Choose at least one channel")


def test_another_practitioners_patient_is_refused(staff, other_practitioner):
    theirs = factories.create_patient(practitioner=other_practitioner)
    assert field_error(refused(staff, patient_id=str(theirs.id)), "patient_search").startswith("Unknown patient")


def test_an_unknown_type_is_refused(staff, patient):
    assert field_error(refused(staff, patient_id=str(patient.id), type="gossip"), "type") == "Not a valid choice."


def test_a_missing_template_value_is_named_as_the_form_labels_it(staff, patient, templates):
    page = refused(staff, patient_id=str(patient.id), type="appointment_reminder", content_mode="template")
    message = "Fill in “Appointment time”: the template needs it"
    assert field_error(page, "data_when") == message
    assert error_summary(page)["data_when"] == message
    assert "undefined" not in text(page)


def test_every_problem_is_named_at_once_in_a_summary_linked_to_each_field(staff, practitioner):
    past = datetime.now(practitioner.zone) - timedelta(hours=2)
    page = refused(staff, channels=[], body="", **later_form(past))
    assert text(one(page, ".error-summary h2")) == "There is a problem"
    assert error_summary(page) == {
        "patient_search": "Choose a patient from the list",
        "channels-0": "Choose at least one channel",
        "body": "Write a message, or choose a template",
        "send_date": "The scheduled time is in the past",
    }


def test_a_problem_the_form_and_the_outbox_both_see_is_named_once(staff):
    assert list(error_summary(refused(staff)).values()) == ["Choose a patient from the list"]


def test_a_template_values_problem_is_named_with_the_forms_other_problems(staff, templates):
    page = refused(staff, type="medication_reminder", content_mode="template", data_dose="1 teaspoon")
    assert field_error(page, "patient_search") == "Choose a patient from the list"
    assert field_error(page, "data_medicine") == "Fill in “Medicine”: the template needs it"
    assert one(page, "#data_dose")["value"] == "1 teaspoon"


def test_the_button_says_send_until_scheduling_is_chosen(staff):
    assert text(one(staff.get("/compose"), "#compose-submit")) == "Send"


def test_the_button_says_schedule_when_the_form_comes_back_scheduling(staff):
    assert text(one(refused(staff, send_mode="later"), "#compose-submit")) == "Schedule"


def test_compose_without_csrf_is_refused(staff, patient):
    staff.post("/compose", data=compose_form(patient_id=str(patient.id)), csrf=False, expected_status=400)
    assert factories.notifications() == []


# --- preview and helpers --------------------------------------------------------------------------


def test_the_preview_shows_each_channel_as_the_patient_will_see_it(staff, patient):
    page = preview(staff, patient_id=str(patient.id), channels=["email", "sms", "push", "in_app"])
    assert text(page.p).startswith("As Priya Sharma will see it")
    assert texts(page, "article h3") == ["Email", "SMS", "Push", "In-app"]
    email = one(page, "article.preview-email")
    assert text(email.p) == "Subject: After your session" and email.iframe["srcdoc"]
    assert text(one(page, ".preview-sms [data-sms-cost]")).endswith("1 segment · GSM-7")
    assert text(one(page, ".preview-push .push-card strong")) == "Sutra Ayurveda Clinic"  # minimal by default
    assert text(one(page, ".preview-in_app .inbox-item")) == "After your session Rest and drink warm water."


def test_the_preview_counts_ucs2_segments_for_hindi(staff, practitioner, templates):
    hindi = factories.create_patient(practitioner=practitioner, locale="hi", phone="+919800000300",
                                     preferred_channels=["sms"])
    page = preview(staff, patient_id=str(hindi.id), channels=["sms"], type="treatment_update",
                   content_mode="template", title="", body="")
    assert text(one(page, "[data-sms-cost]")).endswith("UCS-2")


def test_the_preview_says_what_will_not_be_sent(staff, practitioner):
    no_phone = factories.create_patient(practitioner=practitioner, phone=None, preferred_channels=["sms"])
    page = preview(staff, patient_id=str(no_phone.id), channels=["sms"])
    assert text(one(page, ".preview-sms p")) == "Will not be sent: no phone number."


def test_the_preview_names_a_missing_template_value_as_the_form_labels_it(staff, patient, templates):
    page = preview(staff, patient_id=str(patient.id), type="medication_reminder", content_mode="template")
    assert set(texts(page, "article p.error")) == {"Fill in “Medicine”: the template needs it"}
    assert "undefined" not in text(page)


def test_the_preview_without_a_patient_uses_a_sample(staff):
    assert "(a sample patient" in text(preview(staff).p)


def test_the_preview_escapes_what_was_typed(staff, patient):
    page = preview(staff, patient_id=str(patient.id), body="<img src=x onerror=alert(1)>")
    assert page.select("img") == [] and "<img src=x onerror=alert(1)>" in text(one(page, ".inbox-item"))


def suggestions(staff, term: str) -> list[str]:
    staff.get("/compose")
    page = staff.post("/compose/patients", data={"patient_search": term}, csrf=False, expected_status=200,
                      headers={"X-CSRFToken": staff.csrf_token})
    return [" ".join(li.find(string=True, recursive=False).split()) for li in page.select("li")]


def test_autocomplete_finds_my_patients_only(staff, patient, other_practitioner):
    factories.create_patient(practitioner=other_practitioner, name="Priyanka Theirs")
    assert suggestions(staff, "pri") == ["Priya Sharma"]


def test_autocomplete_says_when_nothing_matches(staff):
    assert suggestions(staff, "zzz") == ["No patient matches “zzz”."]


def test_autocomplete_needs_the_pages_csrf_token(staff):
    staff.post("/compose/patients", data={"patient_search": "pri"}, csrf=False, expected_status=400)


def test_autocomplete_is_not_a_get_so_names_stay_out_of_urls(staff):
    staff.get("/compose/patients?patient_search=pri", expected_status=405)


def test_template_fields_follow_the_type(staff):
    page = staff.get("/compose/fields?type=medication_reminder")
    assert [i["name"] for i in page.select("input")] == ["data_medicine", "data_dose"]


def test_template_fields_for_an_unknown_type_are_empty(staff):
    assert staff.get("/compose/fields?type=nope").select("input") == []


# --- bad input that once failed or was silently changed --------------------------------------------

ODD_IDS = ["²", "9" * 25, "2147483648", "-1", "1e3", " 7"]


@pytest.mark.parametrize("patient_id", ODD_IDS)
def test_an_odd_patient_id_is_an_inline_error(staff, patient_id):
    assert field_error(refused(staff, patient_id=patient_id), "patient_search") == "Choose a patient from the list"


@pytest.mark.parametrize("patient_id", ODD_IDS)
def test_an_odd_patient_id_previews_a_sample_patient(staff, patient_id):
    assert "(a sample patient" in text(preview(staff, patient_id=patient_id).p)


@pytest.mark.parametrize("patient_id", ODD_IDS)
def test_an_odd_patient_id_in_the_link_opens_an_empty_form(staff, patient_id):
    page = staff.get("/compose", query_string={"patient": patient_id})
    assert one(page, "#patient_search").get("value", "") == ""


def test_a_link_with_a_patients_id_chooses_them(staff, patient):
    page = staff.get(f"/compose?patient={patient.id}")
    assert (one(page, "#patient_search")["value"], one(page, "#patient_id")["value"]) == (patient.name, str(patient.id))


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31"])
def test_a_schedule_date_out_of_range_is_an_inline_error(staff, patient, day):
    page = refused(staff, patient_id=str(patient.id), send_mode="later", send_date=day, send_time="00:00")
    assert field_error(page, "send_date") == "Enter a date between 1970 and 2999"


@pytest.mark.parametrize("field", ["title", "body"])
@pytest.mark.parametrize("bad", ["\x00", "\x1b[2J", "\x9b31m", "\x07"])
def test_control_characters_in_the_title_or_message_are_refused(staff, patient, field, bad):
    page = refused(staff, patient_id=str(patient.id), **{field: f"Rest well{bad} today"})
    assert field_error(page, field) == "Remove the control characters from this field"


def test_a_message_keeps_its_line_breaks_and_tabs(staff, patient):
    body = "Morning:\tTriphala\r\nEvening:\tAshwagandha"
    submit(staff, patient_id=str(patient.id), body=body)
    [row] = factories.notifications()
    assert row.message == body


def test_a_template_value_over_500_characters_is_refused_not_cut(staff, patient, templates):
    note = "Walk slowly after meals. " * 21  # 525 characters
    page = refused(staff, patient_id=str(patient.id), type="treatment_update", content_mode="template",
                   data_note=note)
    assert field_error(page, "data_note") == "“Note” is 524 characters; the limit is 500"
    assert one(page, "#data_note")["value"] == note.strip()  # kept whole for the practitioner to shorten


def test_control_characters_in_a_template_value_are_refused(staff, patient, templates):
    page = refused(staff, patient_id=str(patient.id), type="appointment_reminder", content_mode="template",
                   data_when="Mon 2 Dec\x1b[31m, 10:00")
    assert "remove the control characters" in field_error(page, "data_when")


def test_autocomplete_with_control_characters_finds_nobody(staff, patient):
    [answer] = suggestions(staff, "Pri\x00ya")
    assert answer.startswith("No patient matches")


def test_a_send_while_redis_is_down_is_stored_and_delivered_once_it_is_back(
    app, staff, patient, run_worker, unused_port, monkeypatch
):
    working_redis = app.extensions["redis"]
    monkeypatch.setitem(app.extensions, "redis", Redis(port=unused_port, socket_connect_timeout=0.5))
    submit(staff, patient_id=str(patient.id), patient_search=patient.name)
    [row] = factories.notifications()
    assert row.status is Status.QUEUED and row.job_id  # its job never reached Redis

    monkeypatch.setitem(app.extensions, "redis", working_redis)
    assert sweep(now=datetime.now(UTC) + timedelta(seconds=app.config["SWEEP_GRACE_SECONDS"] + 1)).requeued == 1
    run_worker()
    assert factories.notifications()[0].status is Status.DELIVERED


def previewed_channels(page) -> list[tuple[str, str | None]]:
    """(channel, why it will not be sent or None) for each card of a preview."""
    return [(text(card.h3), next((note.removeprefix("Will not be sent: ").rstrip(".") for note in texts(card, "p.muted")
                                  if note.startswith("Will not be sent: ")), None))
            for card in page.select("article.preview-card")]


@pytest.mark.parametrize("type_", ["treatment_update", "medication_reminder", "progress_update", "health_alert"])
def test_by_preferences_the_preview_shows_the_channels_the_send_then_uses(staff, practitioner, type_):
    patient = factories.create_patient(practitioner=practitioner, phone="+919800000310",
                                       preferred_channels=None)
    patient.channel_choices = {"treatment_update": ["sms", "push"], "progress_update": []}
    db.session.commit()
    form = {"patient_id": str(patient.id), "patient_search": patient.name, "type": type_,
            "channel_mode": "preferences", "channels": []}
    shown = previewed_channels(preview(staff, **form))
    submit(staff, **form)
    sent = [(n.channel.label, n.status_reason if n.status is Status.SUPPRESSED else None)
            for n in factories.notifications()]
    assert shown == sent and shown[0] == ("In-app", None)


def test_the_preview_shows_where_a_channel_that_cannot_reach_the_patient_falls_back(staff, practitioner):
    patient = factories.create_patient(practitioner=practitioner, phone="+919800000311", preferred_channels=["push"])
    page = preview(staff, patient_id=str(patient.id), channels=["in_app", "push"])
    assert texts(page, "article h3") == ["In-app", "Push", "SMS"]
    assert text(one(page, ".preview-sms [data-fallback]")) == (
        "Push cannot reach the patient: no push device; this goes instead.")
