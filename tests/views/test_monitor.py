"""Monitor, a notification's page, and a send's page."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import Notification
from app.models.status import Status
from app.services import scheduling
from app.services.errors import ValidationError
from app.services.monitoring import PAGE_SIZE
from tests import factories
from tests.pages import field_error, href_of, one, text, texts


@pytest.fixture
def staff(client_request, practitioner):
    return client_request.login(practitioner)


def later(hours: float = 1) -> datetime:
    return datetime.now(UTC) + timedelta(hours=hours)


def listed_titles(page) -> list[str]:
    """The message titles Monitor lists, top to bottom."""
    return texts(page, "#monitor-rows tr[id^=row-] td:nth-of-type(3) > a")


def channel_states(element) -> dict[str, str]:
    return {str(li["data-channel"]): str(li["data-status"]) for li in element.select("li[data-channel]")}


def flashes(page) -> list[str]:
    return texts(page, ".flash")


def timeline(page) -> list[str]:
    """Each event's headline on a notification's page, oldest first."""
    return texts(page, "ol.timeline > li > strong")


def reschedule_form(moment: datetime, **fields) -> dict:
    return {"send_date": moment.strftime("%Y-%m-%d"), "send_time": moment.strftime("%H:%M"), **fields}


def test_monitor_lists_what_i_sent_newest_first(staff, practitioner, patient):
    factories.create_send(sender=practitioner, recipients=[patient], title="Older")
    factories.create_send(sender=practitioner, recipients=[patient], title="Newer")
    assert listed_titles(staff.get("/monitor")) == ["Newer", "Older"]


def test_monitor_does_not_show_another_practitioners_sends(staff, other_practitioner):
    theirs = factories.create_patient(practitioner=other_practitioner)
    factories.create_send(sender=other_practitioner, recipients=[theirs], title="Not mine")
    assert listed_titles(staff.get("/monitor")) == []


def test_an_admin_sees_every_send(client_request, admin, practitioner, patient):
    factories.create_send(sender=practitioner, recipients=[patient], title="Anyone's")
    assert listed_titles(client_request.login(admin).get("/monitor")) == ["Anyone's"]


@pytest.mark.parametrize("query,shown", [
    ("status=scheduled", "Later one"),
    ("channel=email", "Email one"),
    ("type=health_alert", "Alert one"),
    ("patient=arjun", "For Arjun"),
])
def test_filters_narrow_the_list(staff, practitioner, patient, other_patient, query, shown):
    factories.create_send(sender=practitioner, recipients=[patient], title="Now one")
    factories.create_send(sender=practitioner, recipients=[patient], title="Later one", scheduled_at=later(2))
    factories.create_send(sender=practitioner, recipients=[patient], title="Email one", channels=["email"])
    factories.create_send(sender=practitioner, recipients=[patient], title="Alert one", type="health_alert")
    factories.create_send(sender=practitioner, recipients=[other_patient], title="For Arjun")
    assert listed_titles(staff.get(f"/monitor?{query}")) == [shown]


def test_the_date_filter_uses_the_viewers_days(staff, practitioner, patient):
    factories.create_send(sender=practitioner, recipients=[patient], title="Today's")
    today = datetime.now(practitioner.zone).date()
    assert listed_titles(staff.get(f"/monitor?date_from={today}&date_to={today}")) == ["Today's"]
    yesterday = today - timedelta(days=1)
    assert listed_titles(staff.get(f"/monitor?date_to={yesterday}")) == []


def test_bad_filters_get_inline_errors_not_a_500(staff):
    page = staff.get("/monitor?status=exploded&date_from=2026-12-05&date_to=2026-12-01")
    assert field_error(page, "status") == "Not a valid choice."
    assert "before the start date" in field_error(page, "date_to")


@pytest.mark.parametrize("name", ["status", "channel", "type"])
def test_a_blank_looking_choice_is_an_inline_error_not_a_500(staff, name):
    assert field_error(staff.get("/monitor", query_string={name: " "}), name) == "Not a valid choice."


def test_pages_follow_each_other_without_repeating_rows(staff, practitioner):
    patients = factories.create_patients(PAGE_SIZE + 5, practitioner=practitioner)
    factories.create_send(sender=practitioner, recipients=patients)
    first = staff.get("/monitor")
    second = staff.get(href_of(first, "Older →"))
    first_ids, second_ids = ({tr["id"] for tr in page.select("tr[id^=row-]")} for page in (first, second))
    assert len(first_ids) == PAGE_SIZE and len(second_ids) == 5
    assert not first_ids & second_ids


def test_the_rows_refresh_by_themselves(staff, practitioner, patient, run_worker):
    factories.create_send(sender=practitioner, recipients=[patient])
    assert one(staff.get("/monitor"), "#monitor-rows")["hx-trigger"] == "every 5s"
    run_worker()
    fragment = staff.get("/monitor", htmx=True)
    assert [tag.name for tag in fragment.find_all(recursive=False)] == ["tbody"]
    assert channel_states(one(fragment, "tbody#monitor-rows")) == {"in_app": "delivered"}


def test_the_rows_stop_refreshing_when_nothing_shown_can_change(staff, practitioner, patient):
    factories.create_send(sender=practitioner, recipients=[patient], status=Status.DELIVERED)
    fragment = staff.get("/monitor", htmx=True)
    assert channel_states(fragment) == {"in_app": "delivered"}
    assert fragment.select("[hx-trigger]") == [] and staff.get("/monitor").select("[hx-trigger]") == []


def test_a_notification_page_shows_its_timeline(staff, practitioner, patient, run_worker):
    row = factories.create_notification(sender=practitioner, recipient=patient)
    run_worker()
    page = staff.get(f"/notifications/{row.public_id}")
    assert text(one(page, "#timeline-heading")) == "Timeline"
    assert timeline(page) == ["Queued to go now", "Delivered"]
    assert "stored in the inbox" in text(one(page, "ol.timeline"))


def test_a_patient_cannot_open_staff_notification_pages(client_request, practitioner, patient):
    row = factories.create_notification(sender=practitioner, recipient=patient)
    client_request.login(patient).get(f"/notifications/{row.public_id}", expected_status=403)


def test_another_practitioners_notification_is_404(staff, other_practitioner):
    theirs = factories.create_patient(practitioner=other_practitioner)
    row = factories.create_notification(sender=other_practitioner, recipient=theirs)
    staff.get(f"/notifications/{row.public_id}", expected_status=404)


def test_monitor_shows_one_row_per_message_with_each_channels_status(staff, practitioner, patient):
    result = factories.create_send(sender=practitioner, recipients=[patient], channels=["in_app", "sms", "email"],
                                   title="Three ways")
    [row] = staff.get("/monitor").select("tr[id^=row-]")
    assert row["id"] == f"row-{result.group_id}-{patient.id}"
    assert channel_states(row) == {"in_app": "queued", "sms": "queued", "email": "queued"}


def test_cancelling_a_message_from_monitor_stops_every_channel(staff, practitioner, patient, run_worker):
    result = factories.create_send(sender=practitioner, recipients=[patient], channels=["in_app", "sms", "email"],
                                   scheduled_at=later())
    staff.get("/monitor")
    staff.post(f"/sends/{result.group_id}/to/{patient.id}/cancel", data={"next": "/monitor?channel=sms"},
               expected_redirect="/monitor?channel=sms")
    assert flashes(staff.get("/monitor")) == ["Cancelled SMS, email and in-app."]
    run_worker(scheduled=True)
    assert {n.status for n in db.session.scalars(sa.select(Notification))} == {Status.CANCELLED}


def test_the_cancel_confirmation_names_what_had_already_gone(staff, practitioner, patient, run_worker):
    result = factories.create_send(sender=practitioner, recipients=[patient], channels=["in_app", "sms", "email"],
                                   scheduled_at=later())
    in_app = db.session.scalar(sa.select(Notification).where(Notification.channel == "in_app"))
    scheduling.reschedule_notification(practitioner, in_app.public_id, datetime.now(UTC))
    run_worker()
    staff.get("/monitor")
    page = staff.post(f"/sends/{result.group_id}/to/{patient.id}/cancel", follow_redirects=True, expected_status=200)
    assert flashes(page) == ["Cancelled SMS and email; in-app was already delivered."]


def test_rescheduling_a_message_moves_every_channel(staff, practitioner, patient):
    result = factories.create_send(sender=practitioner, recipients=[patient], channels=["in_app", "sms"],
                                   scheduled_at=later())
    moment = datetime.now(practitioner.zone) + timedelta(days=2)
    path = f"/sends/{result.group_id}/to/{patient.id}/reschedule"
    staff.get(path)
    staff.post(path, data=reschedule_form(moment, next="/monitor"), expected_redirect="/monitor")
    assert {n.next_attempt_at for n in db.session.scalars(sa.select(Notification))} == {
        moment.replace(second=0, microsecond=0)}
    [flash] = flashes(staff.get("/monitor"))
    assert flash.startswith("Rescheduled SMS and in-app for ")


def test_rescheduling_a_message_into_the_past_is_an_inline_error(staff, practitioner, patient):
    result = factories.create_send(sender=practitioner, recipients=[patient], scheduled_at=later())
    path = f"/sends/{result.group_id}/to/{patient.id}/reschedule"
    staff.get(path)
    page = staff.post(path, data=reschedule_form(datetime.now(practitioner.zone) - timedelta(days=1)),
                      expected_status=422)
    assert "in the past" in field_error(page, "send_date")


def test_another_practitioners_message_cannot_be_cancelled(staff, other_practitioner):
    theirs = factories.create_patient(practitioner=other_practitioner)
    result = factories.create_send(sender=other_practitioner, recipients=[theirs], scheduled_at=later())
    staff.get("/monitor")
    staff.post(f"/sends/{result.group_id}/to/{theirs.id}/cancel", expected_status=404)
    staff.get(f"/sends/{result.group_id}/to/{theirs.id}/reschedule", expected_status=404)
    assert {n.status for n in db.session.scalars(sa.select(Notification))} == {Status.SCHEDULED}


def test_the_notification_page_labels_its_actions_for_one_channel_or_the_whole_message(staff, practitioner, patient):
    factories.create_send(sender=practitioner, recipients=[patient], channels=["in_app", "sms"], scheduled_at=later())
    sms = db.session.scalar(sa.select(Notification).where(Notification.channel == "sms"))
    page = staff.get(f"/notifications/{sms.public_id}")
    assert texts(page, "main form button") == ["Cancel only the SMS", "Reschedule the SMS", "Cancel the whole message"]
    assert text(one(page, "form.reschedule h3")) == "Reschedule only the SMS"
    assert href_of(page, "Reschedule the whole message").startswith(f"/sends/{sms.group.public_id}/to/{patient.id}/")


def test_cancelling_one_channel_says_which(staff, practitioner, patient):
    factories.create_send(sender=practitioner, recipients=[patient], channels=["in_app", "sms"], scheduled_at=later())
    sms = db.session.scalar(sa.select(Notification).where(Notification.channel == "sms"))
    staff.get(f"/notifications/{sms.public_id}")
    page = staff.post(f"/notifications/{sms.public_id}/cancel", follow_redirects=True, expected_status=200)
    assert flashes(page) == ["Cancelled SMS."]
    assert {n.channel.value: n.status for n in db.session.scalars(sa.select(Notification))} == {
        "sms": Status.CANCELLED, "in_app": Status.SCHEDULED}


def test_cancelling_what_already_went_out_says_it_is_too_late(staff, practitioner, patient):
    row = factories.create_notification(sender=practitioner, recipient=patient, status=Status.DELIVERED)
    staff.get("/monitor")
    page = staff.post(f"/notifications/{row.public_id}/cancel", follow_redirects=True, expected_status=200)
    [flash] = flashes(page)
    assert flash.startswith("Too late to cancel")


def test_cancel_without_csrf_is_refused(staff, practitioner, patient):
    row = factories.create_notification(sender=practitioner, recipient=patient, scheduled_at=later())
    staff.post(f"/notifications/{row.public_id}/cancel", csrf=False, expected_status=400)


def test_rescheduling_moves_the_time(staff, practitioner, patient):
    row = factories.create_notification(sender=practitioner, recipient=patient, scheduled_at=later())
    moment = datetime.now(practitioner.zone) + timedelta(days=2)
    staff.get(f"/notifications/{row.public_id}")
    staff.post(f"/notifications/{row.public_id}/reschedule", data=reschedule_form(moment))
    db.session.refresh(row)
    assert row.next_attempt_at == moment.replace(second=0, microsecond=0)


def test_rescheduling_into_the_past_is_an_inline_error(staff, practitioner, patient):
    row = factories.create_notification(sender=practitioner, recipient=patient, scheduled_at=later())
    staff.get(f"/notifications/{row.public_id}")
    page = staff.post(f"/notifications/{row.public_id}/reschedule", expected_status=422,
                      data=reschedule_form(datetime.now(practitioner.zone) - timedelta(days=1)))
    assert "in the past" in field_error(page, "send_date")


def progress(page) -> dict[str, str]:
    return {str(li["data-progress"]): text(li.strong) for li in page.select("li[data-progress]")}


def test_a_send_page_shows_progress_that_updates_until_done(staff, practitioner, patient, other_patient, run_worker):
    result = factories.create_send(sender=practitioner, recipients=[patient, other_patient])
    page = staff.get(f"/sends/{result.group_id}")
    assert one(page, "#send-live")["hx-trigger"] == "every 2s" and progress(page)["pending"] == "2"
    run_worker()
    live = staff.get(f"/sends/{result.group_id}/live")
    assert progress(live)["done"] == "2" and live.select("[hx-trigger]") == []


def test_a_send_page_offers_cancel_and_says_sending_only_while_something_is_waiting(
        staff, practitioner, patient, run_worker):
    result = factories.create_send(sender=practitioner, recipients=[patient])
    page = staff.get(f"/sends/{result.group_id}")
    assert text(one(page, "[data-send-state]")) == "Sending: 1 of 1 still to go."
    assert texts(page, ".send-state form button") == ["Cancel what has not gone out"]
    run_worker()
    for page in (staff.get(f"/sends/{result.group_id}/live"), staff.get(f"/sends/{result.group_id}")):
        assert one(page, "[data-send-state]")["data-send-state"] == "finished"
        assert page.select(".send-state form") == []


def test_a_scheduled_send_page_says_when_it_will_go(staff, practitioner, patient):
    when = later(3).replace(second=0, microsecond=0)
    result = factories.create_send(sender=practitioner, recipients=[patient], channels=["in_app", "sms"],
                                   scheduled_at=when)
    page = staff.get(f"/sends/{result.group_id}")
    assert text(one(page, "[data-send-state]")) == (
        f"Scheduled for {in_words(when, practitioner.zone)}: 2 notifications waiting.")


def test_cancelling_a_whole_send(staff, practitioner, patient, other_patient):
    result = factories.create_send(sender=practitioner, recipients=[patient, other_patient], scheduled_at=later())
    staff.get(f"/sends/{result.group_id}")
    page = staff.post(f"/sends/{result.group_id}/cancel", follow_redirects=True, expected_status=200)
    assert flashes(page) == ["Cancelled 2 notification(s)."]
    assert {n.status for n in db.session.scalars(sa.select(Notification))} == {Status.CANCELLED}


def test_another_practitioners_send_page_is_404(staff, other_practitioner):
    theirs = factories.create_patient(practitioner=other_practitioner)
    result = factories.create_send(sender=other_practitioner, recipients=[theirs])
    staff.get(f"/sends/{result.group_id}", expected_status=404)
    staff.get(f"/sends/{result.group_id}/live", expected_status=404)


@pytest.mark.parametrize("term", ["²", "9" * 30, "-1", "%_\\"])
def test_odd_patient_searches_match_nothing_instead_of_failing(staff, practitioner, patient, term):
    factories.create_send(sender=practitioner, recipients=[patient], title="Someone's")
    assert listed_titles(staff.get("/monitor", query_string={"patient": term})) == []


def test_an_out_of_range_cursor_is_ignored(staff, practitioner, patient):
    factories.create_send(sender=practitioner, recipients=[patient], title="Still listed")
    assert listed_titles(staff.get("/monitor?before=" + "9" * 40)) == ["Still listed"]


def in_words(moment: datetime, zone: ZoneInfo) -> str:
    """"Wed 2 Dec, 07:00" in `zone` (with the year when it is not this year's there)."""
    local = moment.astimezone(zone)
    year = "" if local.year == datetime.now(zone).year else f" {local.year}"
    return f"{local:%a} {local.day} {local:%b}{year}, {local:%H:%M}"


def test_a_scheduled_notifications_first_event_says_when_in_the_viewers_zone(client_request, practitioner, patient):
    viewer = factories.create_admin(timezone="America/New_York")
    when = later(3).replace(second=0, microsecond=0)
    row = factories.create_notification(sender=practitioner, recipient=patient, scheduled_at=when)
    page = client_request.login(viewer).get(f"/notifications/{row.public_id}")
    assert timeline(page) == [f"Scheduled for {in_words(when, ZoneInfo('America/New_York'))}"]
    assert "→" not in text(one(page, "ol.timeline")) and when.isoformat(timespec="minutes") not in str(page)


def test_a_quiet_hours_hold_shows_its_end_in_the_viewers_zone(client_request, practitioner, run_worker):
    kolkata = ZoneInfo("Asia/Kolkata")
    local_now = datetime.now(kolkata)
    sleeper = factories.create_patient(
        practitioner=practitioner, phone="+919800000019", preferred_channels=["sms"],
        quiet_hours=((local_now - timedelta(hours=1)).time(), (local_now + timedelta(hours=2)).time()))
    row = factories.create_notification(sender=practitioner, recipient=sleeper, channel="sms")
    run_worker()
    db.session.refresh(row)
    viewer = factories.create_admin(timezone="Europe/London")
    page = client_request.login(viewer).get(f"/notifications/{row.public_id}")
    until = in_words(row.next_attempt_at, ZoneInfo("Europe/London"))
    assert timeline(page)[-1] == f"Held for quiet hours until {until}"
    assert row.next_attempt_at.isoformat(timespec="minutes") not in str(page)


def test_a_rescheduled_event_says_the_new_time(staff, practitioner, patient):
    row = factories.create_notification(sender=practitioner, recipient=patient, scheduled_at=later())
    moment = (datetime.now(UTC) + timedelta(days=2)).replace(second=0, microsecond=0)
    scheduling.reschedule_notification(practitioner, row.public_id, moment)
    page = staff.get(f"/notifications/{row.public_id}")
    assert timeline(page)[-1] == f"Rescheduled for {in_words(moment, practitioner.zone)}"


def test_a_push_notifications_page_is_headed_with_the_sends_title(staff, practitioner, patient):
    factories.create_send(sender=practitioner, recipients=[patient], channels=["push"],
                          title="Your Basti course starts Monday")
    push = db.session.scalar(sa.select(Notification))
    assert push.title != "Your Basti course starts Monday"  # a minimal push carries the clinic's name
    assert text(staff.get(f"/notifications/{push.public_id}").h1) == "Your Basti course starts Monday"


@pytest.mark.parametrize("query,field", [("date_from=0001-01-01", "date_from"), ("date_to=9999-12-31", "date_to"),
                                         ("date_from=0001-01-01&date_to=0001-01-02", "date_from")])
def test_a_filter_date_at_the_ends_of_the_calendar_is_an_inline_error(staff, practitioner, patient, query, field):
    factories.create_send(sender=practitioner, recipients=[patient])
    assert field_error(staff.get(f"/monitor?{query}"), field) == "Enter a date between 1970 and 2999"


def test_a_patient_filter_with_control_characters_is_an_inline_error(staff, practitioner, patient):
    factories.create_send(sender=practitioner, recipients=[patient])
    page = staff.get("/monitor", query_string={"patient": "Pri\x00ya"})
    assert field_error(page, "patient") == "Remove the control characters from this field"


def test_rescheduling_to_the_start_of_the_calendar_is_an_inline_error(staff, practitioner, patient):
    row = factories.create_notification(sender=practitioner, recipient=patient, scheduled_at=later())
    staff.get(f"/notifications/{row.public_id}")
    page = staff.post(f"/notifications/{row.public_id}/reschedule", expected_status=422,
                      data={"send_date": "0001-01-01", "send_time": "00:00"})
    assert field_error(page, "send_date") == "Enter a date between 1970 and 2999"
    db.session.refresh(row)
    assert row.status is Status.SCHEDULED and row.next_attempt_at > datetime.now(UTC)


@pytest.mark.parametrize("data", [{}, {"send_date": "", "send_time": ""}, {"send_date": "2030-01-01"},
                                  {"send_time": "10:00"}], ids=["nothing", "blanks", "no-time", "no-date"])
def test_rescheduling_without_a_date_or_time_is_an_inline_error(staff, practitioner, patient, data):
    result = factories.create_send(sender=practitioner, recipients=[patient], scheduled_at=later())
    [row] = factories.notifications_of(result)
    staff.get(f"/notifications/{row.public_id}")
    staff.post(f"/notifications/{row.public_id}/reschedule", data=data, expected_status=422)
    path = f"/sends/{result.group_id}/to/{patient.id}/reschedule"
    staff.get(path)
    page = staff.post(path, data=data, expected_status=422)
    assert field_error(page, "send_time" if "send_date" in data and data["send_date"] else "send_date")
    db.session.refresh(row)
    assert row.status is Status.SCHEDULED


def test_the_reschedule_service_refuses_the_start_of_the_calendar(practitioner, patient):
    row = factories.create_notification(sender=practitioner, recipient=patient, scheduled_at=later())
    with pytest.raises(ValidationError) as caught:
        scheduling.reschedule_notification(practitioner, row.public_id, datetime(1, 1, 1, tzinfo=practitioner.zone))
    assert caught.value.errors == {"scheduled_at": "Enter a date between 1970 and 2999"}


@pytest.mark.parametrize("patient_id", [2**31, 10**20])
def test_a_message_link_with_an_id_beyond_any_row_is_404(staff, practitioner, patient, patient_id):
    result = factories.create_send(sender=practitioner, recipients=[patient])
    staff.get(f"/sends/{result.group_id}/to/{patient_id}/reschedule", expected_status=404)
