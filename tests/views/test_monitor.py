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
from tests.conftest import csrf_token_from


@pytest.fixture
def staff(login, practitioner):
    return login(practitioner)


def test_monitor_lists_what_i_sent_newest_first(staff, practitioner, patient):
    factories.create_send(sender=practitioner, recipients=[patient], title="Older")
    factories.create_send(sender=practitioner, recipients=[patient], title="Newer")
    body = staff.get("/monitor").get_data(as_text=True)
    assert body.index("Newer") < body.index("Older")


def test_monitor_does_not_show_another_practitioners_sends(staff, other_practitioner):
    theirs = factories.create_patient(practitioner=other_practitioner)
    factories.create_send(sender=other_practitioner, recipients=[theirs], title="Not mine")
    assert "Not mine" not in staff.get("/monitor").get_data(as_text=True)


def test_an_admin_sees_every_send(login, admin, practitioner, patient):
    factories.create_send(sender=practitioner, recipients=[patient], title="Anyone's")
    assert "Anyone&#39;s" in login(admin).get("/monitor").get_data(as_text=True)


@pytest.mark.parametrize("query,shown,hidden", [
    ("status=scheduled", "Later one", "Now one"),
    ("channel=email", "Email one", "Now one"),
    ("type=health_alert", "Alert one", "Now one"),
    ("patient=arjun", "For Arjun", "Now one"),
])
def test_filters_narrow_the_list(staff, practitioner, patient, other_patient, query, shown, hidden):
    factories.create_send(sender=practitioner, recipients=[patient], title="Now one")
    factories.create_send(sender=practitioner, recipients=[patient], title="Later one",
                          scheduled_at=datetime.now(UTC) + timedelta(hours=2))
    factories.create_send(sender=practitioner, recipients=[patient], title="Email one", channels=["email"])
    factories.create_send(sender=practitioner, recipients=[patient], title="Alert one", type="health_alert")
    factories.create_send(sender=practitioner, recipients=[other_patient], title="For Arjun")
    body = staff.get(f"/monitor?{query}").get_data(as_text=True)
    assert shown in body and hidden not in body


def test_the_date_filter_uses_the_viewers_days(staff, practitioner, patient):
    factories.create_send(sender=practitioner, recipients=[patient], title="Today's")
    today = datetime.now(practitioner.zone).date()
    assert "Today&#39;s" in staff.get(f"/monitor?date_from={today}&date_to={today}").get_data(as_text=True)
    yesterday = today - timedelta(days=1)
    assert "Today&#39;s" not in staff.get(f"/monitor?date_to={yesterday}").get_data(as_text=True)


def test_bad_filters_get_inline_errors_not_a_500(staff):
    response = staff.get("/monitor?status=exploded&date_from=2026-12-05&date_to=2026-12-01")
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert "Not a valid choice" in body and "before the start date" in body


@pytest.mark.parametrize("name", ["status", "channel", "type"])
def test_a_blank_looking_choice_is_an_inline_error_not_a_500(staff, name):
    response = staff.get("/monitor", query_string={name: " "})
    assert response.status_code == 200
    assert "Not a valid choice" in response.get_data(as_text=True)


def test_pages_follow_each_other_without_repeating_rows(staff, practitioner):
    patients = factories.create_patients(PAGE_SIZE + 5, practitioner=practitioner)
    factories.create_send(sender=practitioner, recipients=patients)
    first = staff.get("/monitor").get_data(as_text=True)
    cursor = first.split("before=")[1].split('"')[0]
    second = staff.get(f"/monitor?before={cursor}").get_data(as_text=True)
    first_ids = {line for line in first.split() if line.startswith('id="row-')}
    second_ids = {line for line in second.split() if line.startswith('id="row-')}
    assert len(first_ids) == PAGE_SIZE and len(second_ids) == 5
    assert not first_ids & second_ids


def test_the_rows_refresh_by_themselves(staff, practitioner, patient, run_worker):
    factories.create_send(sender=practitioner, recipients=[patient])
    page = staff.get("/monitor").get_data(as_text=True)
    assert 'hx-trigger="every 5s"' in page
    run_worker()
    fragment = staff.get("/monitor", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert fragment.startswith('\n<tbody id="monitor-rows"') or '<tbody id="monitor-rows"' in fragment[:200]
    assert 'data-status="delivered"' in fragment


def test_the_rows_stop_refreshing_when_nothing_shown_can_change(staff, practitioner, patient):
    factories.create_send(sender=practitioner, recipients=[patient], status=Status.DELIVERED)
    fragment = staff.get("/monitor", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert 'data-status="delivered"' in fragment and "hx-trigger" not in fragment
    assert "hx-trigger" not in staff.get("/monitor").get_data(as_text=True)


def test_a_notification_page_shows_its_timeline(staff, practitioner, patient, run_worker):
    row = factories.create_notification(sender=practitioner, recipient=patient)
    run_worker()
    body = staff.get(f"/notifications/{row.public_id}").get_data(as_text=True)
    assert "Timeline" in body and "Queued" in body and "Delivered" in body and "stored in the inbox" in body


def test_a_patient_cannot_open_staff_notification_pages(login, practitioner, patient):
    row = factories.create_notification(sender=practitioner, recipient=patient)
    assert login(patient).get(f"/notifications/{row.public_id}").status_code == 403


def test_another_practitioners_notification_is_404(staff, other_practitioner):
    theirs = factories.create_patient(practitioner=other_practitioner)
    row = factories.create_notification(sender=other_practitioner, recipient=theirs)
    assert staff.get(f"/notifications/{row.public_id}").status_code == 404


def test_monitor_shows_one_row_per_message_with_each_channels_status(staff, practitioner, patient):
    result = factories.create_send(sender=practitioner, recipients=[patient], channels=["in_app", "sms", "email"],
                                   title="Three ways")
    body = staff.get("/monitor").get_data(as_text=True)
    assert body.count('<tr id="row-') == 1
    row = body[body.index(f'id="row-{result.group_id}-{patient.id}"'):body.index("</tr>", body.index('id="row-'))]
    for channel in ("in_app", "sms", "email"):
        assert f'data-channel="{channel}" data-status="queued"' in row


def test_cancelling_a_message_from_monitor_stops_every_channel(staff, practitioner, patient, run_worker):
    result = factories.create_send(sender=practitioner, recipients=[patient], channels=["in_app", "sms", "email"],
                                   scheduled_at=datetime.now(UTC) + timedelta(hours=1))
    token = csrf_token_from(staff.get("/monitor").get_data(as_text=True))
    response = staff.post(f"/sends/{result.group_id}/to/{patient.id}/cancel",
                          data={"csrf_token": token, "next": "/monitor?channel=sms"})
    assert response.headers["Location"] == "/monitor?channel=sms"
    assert "Cancelled SMS, email and in-app." in staff.get("/monitor").get_data(as_text=True)
    run_worker(scheduled=True)
    assert {n.status for n in db.session.scalars(sa.select(Notification))} == {Status.CANCELLED}


def test_the_cancel_confirmation_names_what_had_already_gone(staff, practitioner, patient, run_worker):
    result = factories.create_send(sender=practitioner, recipients=[patient], channels=["in_app", "sms", "email"],
                                   scheduled_at=datetime.now(UTC) + timedelta(hours=1))
    in_app = db.session.scalar(sa.select(Notification).where(Notification.channel == "in_app"))
    scheduling.reschedule_notification(practitioner, in_app.public_id, datetime.now(UTC))
    run_worker()
    token = csrf_token_from(staff.get("/monitor").get_data(as_text=True))
    body = staff.post(f"/sends/{result.group_id}/to/{patient.id}/cancel", data={"csrf_token": token},
                      follow_redirects=True).get_data(as_text=True)
    assert "Cancelled SMS and email; in-app was already delivered." in body


def test_rescheduling_a_message_moves_every_channel(staff, practitioner, patient):
    result = factories.create_send(sender=practitioner, recipients=[patient], channels=["in_app", "sms"],
                                   scheduled_at=datetime.now(UTC) + timedelta(hours=1))
    later = datetime.now(practitioner.zone) + timedelta(days=2)
    page = staff.get(f"/sends/{result.group_id}/to/{patient.id}/reschedule").get_data(as_text=True)
    response = staff.post(f"/sends/{result.group_id}/to/{patient.id}/reschedule", data={
        "csrf_token": csrf_token_from(page), "next": "/monitor",
        "send_date": later.strftime("%Y-%m-%d"), "send_time": later.strftime("%H:%M")})
    assert response.status_code == 302 and response.headers["Location"] == "/monitor"
    assert {n.next_attempt_at for n in db.session.scalars(sa.select(Notification))} == {
        later.replace(second=0, microsecond=0)}
    assert "Rescheduled SMS and in-app for " in staff.get("/monitor").get_data(as_text=True)


def test_rescheduling_a_message_into_the_past_is_an_inline_error(staff, practitioner, patient):
    result = factories.create_send(sender=practitioner, recipients=[patient],
                                   scheduled_at=datetime.now(UTC) + timedelta(hours=1))
    past = datetime.now(practitioner.zone) - timedelta(days=1)
    path = f"/sends/{result.group_id}/to/{patient.id}/reschedule"
    response = staff.post(path, data={"csrf_token": csrf_token_from(staff.get(path).get_data(as_text=True)),
                                      "send_date": past.strftime("%Y-%m-%d"), "send_time": past.strftime("%H:%M")})
    assert response.status_code == 422 and "in the past" in response.get_data(as_text=True)


def test_another_practitioners_message_cannot_be_cancelled(staff, other_practitioner):
    theirs = factories.create_patient(practitioner=other_practitioner)
    result = factories.create_send(sender=other_practitioner, recipients=[theirs],
                                   scheduled_at=datetime.now(UTC) + timedelta(hours=1))
    token = csrf_token_from(staff.get("/monitor").get_data(as_text=True))
    assert staff.post(f"/sends/{result.group_id}/to/{theirs.id}/cancel", data={"csrf_token": token}).status_code == 404
    assert staff.get(f"/sends/{result.group_id}/to/{theirs.id}/reschedule").status_code == 404
    assert {n.status for n in db.session.scalars(sa.select(Notification))} == {Status.SCHEDULED}


def test_the_notification_page_labels_its_actions_for_one_channel_or_the_whole_message(staff, practitioner, patient):
    factories.create_send(sender=practitioner, recipients=[patient], channels=["in_app", "sms"],
                          scheduled_at=datetime.now(UTC) + timedelta(hours=1))
    sms = db.session.scalar(sa.select(Notification).where(Notification.channel == "sms"))
    body = staff.get(f"/notifications/{sms.public_id}").get_data(as_text=True)
    assert "Cancel only the SMS" in body and "Reschedule only the SMS" in body
    assert "Cancel the whole message" in body and "Reschedule the whole message" in body


def test_cancelling_one_channel_says_which(staff, practitioner, patient):
    factories.create_send(sender=practitioner, recipients=[patient], channels=["in_app", "sms"],
                          scheduled_at=datetime.now(UTC) + timedelta(hours=1))
    sms = db.session.scalar(sa.select(Notification).where(Notification.channel == "sms"))
    token = csrf_token_from(staff.get(f"/notifications/{sms.public_id}").get_data(as_text=True))
    body = staff.post(f"/notifications/{sms.public_id}/cancel", data={"csrf_token": token},
                      follow_redirects=True).get_data(as_text=True)
    assert "Cancelled SMS." in body
    assert {n.channel.value: n.status for n in db.session.scalars(sa.select(Notification))} == {
        "sms": Status.CANCELLED, "in_app": Status.SCHEDULED}


def test_cancelling_what_already_went_out_says_it_is_too_late(staff, practitioner, patient):
    row = factories.create_notification(sender=practitioner, recipient=patient, status=Status.DELIVERED)
    token = csrf_token_from(staff.get("/monitor").get_data(as_text=True))
    response = staff.post(f"/notifications/{row.public_id}/cancel", data={"csrf_token": token}, follow_redirects=True)
    assert "Too late to cancel" in response.get_data(as_text=True)


def test_cancel_without_csrf_is_refused(staff, practitioner, patient):
    row = factories.create_notification(sender=practitioner, recipient=patient,
                                          scheduled_at=datetime.now(UTC) + timedelta(hours=1))
    assert staff.post(f"/notifications/{row.public_id}/cancel").status_code == 400


def test_rescheduling_moves_the_time(staff, practitioner, patient):
    row = factories.create_notification(sender=practitioner, recipient=patient,
                                          scheduled_at=datetime.now(UTC) + timedelta(hours=1))
    later = datetime.now(practitioner.zone) + timedelta(days=2)
    token = csrf_token_from(staff.get(f"/notifications/{row.public_id}").get_data(as_text=True))
    response = staff.post(f"/notifications/{row.public_id}/reschedule", data={
        "csrf_token": token, "send_date": later.strftime("%Y-%m-%d"), "send_time": later.strftime("%H:%M")})
    assert response.status_code == 302
    db.session.refresh(row)
    assert row.next_attempt_at == later.replace(second=0, microsecond=0)


def test_rescheduling_into_the_past_is_an_inline_error(staff, practitioner, patient):
    row = factories.create_notification(sender=practitioner, recipient=patient,
                                          scheduled_at=datetime.now(UTC) + timedelta(hours=1))
    past = datetime.now(practitioner.zone) - timedelta(days=1)
    token = csrf_token_from(staff.get(f"/notifications/{row.public_id}").get_data(as_text=True))
    response = staff.post(f"/notifications/{row.public_id}/reschedule", data={
        "csrf_token": token, "send_date": past.strftime("%Y-%m-%d"), "send_time": past.strftime("%H:%M")})
    assert response.status_code == 422
    assert "in the past" in response.get_data(as_text=True)


def test_a_send_page_shows_progress_that_updates_until_done(staff, practitioner, patient, other_patient, run_worker):
    result = factories.create_send(sender=practitioner, recipients=[patient, other_patient])
    page = staff.get(f"/sends/{result.group_id}").get_data(as_text=True)
    assert 'hx-trigger="every 2s"' in page and "<strong>2</strong> pending" in page
    run_worker()
    live = staff.get(f"/sends/{result.group_id}/live").get_data(as_text=True)
    assert "<strong>2</strong> sent or delivered" in live and "every 2s" not in live


def test_a_send_page_offers_cancel_and_says_sending_only_while_something_is_waiting(
        staff, practitioner, patient, run_worker):
    result = factories.create_send(sender=practitioner, recipients=[patient])
    page = staff.get(f"/sends/{result.group_id}").get_data(as_text=True)
    assert "Sending: 1 of 1 still to go." in page and "Cancel what has not gone out" in page
    run_worker()
    live = staff.get(f"/sends/{result.group_id}/live").get_data(as_text=True)
    assert "Sending" not in live and "Cancel what has not gone out" not in live and "Finished" in live
    assert "Cancel what has not gone out" not in staff.get(f"/sends/{result.group_id}").get_data(as_text=True)


def test_a_scheduled_send_page_says_when_it_will_go(staff, practitioner, patient):
    when = (datetime.now(UTC) + timedelta(hours=3)).replace(second=0, microsecond=0)
    result = factories.create_send(sender=practitioner, recipients=[patient], channels=["in_app", "sms"],
                                   scheduled_at=when)
    page = staff.get(f"/sends/{result.group_id}").get_data(as_text=True)
    assert f"Scheduled for {in_words(when, practitioner.zone)}: 2 notifications waiting." in page


def test_cancelling_a_whole_send(staff, practitioner, patient, other_patient):
    result = factories.create_send(sender=practitioner, recipients=[patient, other_patient],
                                   scheduled_at=datetime.now(UTC) + timedelta(hours=1))
    token = csrf_token_from(staff.get(f"/sends/{result.group_id}").get_data(as_text=True))
    body = staff.post(f"/sends/{result.group_id}/cancel", data={"csrf_token": token},
                      follow_redirects=True).get_data(as_text=True)
    assert "Cancelled 2 notification(s)." in body
    assert {n.status for n in db.session.scalars(sa.select(Notification))} == {Status.CANCELLED}


def test_another_practitioners_send_page_is_404(staff, other_practitioner):
    theirs = factories.create_patient(practitioner=other_practitioner)
    result = factories.create_send(sender=other_practitioner, recipients=[theirs])
    assert staff.get(f"/sends/{result.group_id}").status_code == 404
    assert staff.get(f"/sends/{result.group_id}/live").status_code == 404


@pytest.mark.parametrize("term", ["²", "9" * 30, "-1", "%_\\"])
def test_odd_patient_searches_match_nothing_instead_of_failing(staff, practitioner, patient, term):
    factories.create_send(sender=practitioner, recipients=[patient], title="Someone's")
    response = staff.get("/monitor", query_string={"patient": term})
    assert response.status_code == 200
    assert "Someone&#39;s" not in response.get_data(as_text=True)


def test_an_out_of_range_cursor_is_ignored(staff, practitioner, patient):
    factories.create_send(sender=practitioner, recipients=[patient], title="Still listed")
    assert "Still listed" in staff.get("/monitor?before=" + "9" * 40).get_data(as_text=True)


def in_words(moment: datetime, zone: ZoneInfo) -> str:
    """"Wed 2 Dec, 07:00" in `zone` (with the year when it is not this year's there)."""
    local = moment.astimezone(zone)
    year = "" if local.year == datetime.now(zone).year else f" {local.year}"
    return f"{local:%a} {local.day} {local:%b}{year}, {local:%H:%M}"


def test_a_scheduled_notifications_first_event_says_when_in_the_viewers_zone(login, practitioner, patient):
    viewer = factories.create_admin(timezone="America/New_York")
    when = (datetime.now(UTC) + timedelta(hours=3)).replace(second=0, microsecond=0)
    row = factories.create_notification(sender=practitioner, recipient=patient, scheduled_at=when)
    body = login(viewer).get(f"/notifications/{row.public_id}").get_data(as_text=True)
    assert f"Scheduled for {in_words(when, ZoneInfo('America/New_York'))}</strong>" in body
    assert "Scheduled</strong> →" not in body and when.isoformat(timespec="minutes") not in body


def test_a_quiet_hours_hold_shows_its_end_in_the_viewers_zone(login, practitioner, run_worker):
    kolkata = ZoneInfo("Asia/Kolkata")
    local_now = datetime.now(kolkata)
    sleeper = factories.create_patient(
        practitioner=practitioner, phone="+919800000019", preferred_channels=["sms"],
        quiet_hours=((local_now - timedelta(hours=1)).time(), (local_now + timedelta(hours=2)).time()))
    row = factories.create_notification(sender=practitioner, recipient=sleeper, channel="sms")
    run_worker()
    db.session.refresh(row)
    viewer = factories.create_admin(timezone="Europe/London")
    body = login(viewer).get(f"/notifications/{row.public_id}").get_data(as_text=True)
    until = in_words(row.next_attempt_at, ZoneInfo("Europe/London"))
    assert f"Held for quiet hours until {until}</strong>" in body
    assert row.next_attempt_at.isoformat(timespec="minutes") not in body


def test_a_rescheduled_event_says_the_new_time(staff, practitioner, patient):
    row = factories.create_notification(sender=practitioner, recipient=patient,
                                          scheduled_at=datetime.now(UTC) + timedelta(hours=1))
    later = (datetime.now(UTC) + timedelta(days=2)).replace(second=0, microsecond=0)
    scheduling.reschedule_notification(practitioner, row.public_id, later)
    body = staff.get(f"/notifications/{row.public_id}").get_data(as_text=True)
    assert f"Rescheduled for {in_words(later, practitioner.zone)}</strong>" in body


def test_a_push_notifications_page_is_headed_with_the_sends_title(staff, practitioner, patient):
    factories.create_send(sender=practitioner, recipients=[patient], channels=["push"],
                          title="Your Basti course starts Monday")
    push = db.session.scalar(sa.select(Notification))
    assert push.title != "Your Basti course starts Monday"  # a minimal push carries the clinic's name
    body = staff.get(f"/notifications/{push.public_id}").get_data(as_text=True)
    assert "<h1>Your Basti course starts Monday</h1>" in body


@pytest.mark.parametrize("query", ["date_from=0001-01-01", "date_to=9999-12-31",
                                   "date_from=0001-01-01&date_to=0001-01-02"])
def test_a_filter_date_at_the_ends_of_the_calendar_is_an_inline_error(staff, practitioner, patient, query):
    factories.create_send(sender=practitioner, recipients=[patient])
    response = staff.get(f"/monitor?{query}")
    assert response.status_code == 200
    assert "Enter a date between 1970 and 2999" in response.get_data(as_text=True)


def test_a_patient_filter_with_control_characters_is_an_inline_error(staff, practitioner, patient):
    factories.create_send(sender=practitioner, recipients=[patient])
    response = staff.get("/monitor", query_string={"patient": "Pri\x00ya"})
    assert response.status_code == 200
    assert "Remove the control characters from this field" in response.get_data(as_text=True)


def test_rescheduling_to_the_start_of_the_calendar_is_an_inline_error(staff, practitioner, patient):
    row = factories.create_notification(sender=practitioner, recipient=patient,
                                          scheduled_at=datetime.now(UTC) + timedelta(hours=1))
    token = csrf_token_from(staff.get(f"/notifications/{row.public_id}").get_data(as_text=True))
    response = staff.post(f"/notifications/{row.public_id}/reschedule", data={
        "csrf_token": token, "send_date": "0001-01-01", "send_time": "00:00"})
    assert response.status_code == 422
    assert "Enter a date between 1970 and 2999" in response.get_data(as_text=True)
    db.session.refresh(row)
    assert row.status is Status.SCHEDULED and row.next_attempt_at > datetime.now(UTC)


def test_the_reschedule_service_refuses_the_start_of_the_calendar(practitioner, patient):
    row = factories.create_notification(sender=practitioner, recipient=patient,
                                          scheduled_at=datetime.now(UTC) + timedelta(hours=1))
    with pytest.raises(ValidationError) as caught:
        scheduling.reschedule_notification(practitioner, row.public_id, datetime(1, 1, 1, tzinfo=practitioner.zone))
    assert caught.value.errors == {"scheduled_at": "Enter a date between 1970 and 2999"}


@pytest.mark.parametrize("patient_id", [2**31, 10**20])
def test_a_message_link_with_an_id_beyond_any_row_is_404(staff, practitioner, patient, patient_id):
    result = factories.create_send(sender=practitioner, recipients=[patient])
    assert staff.get(f"/sends/{result.group_id}/to/{patient_id}/reschedule").status_code == 404
