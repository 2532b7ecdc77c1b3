"""The delivery log page and its CSV export: every event, filtered, newest first."""

import csv
import io
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import Notification, NotificationEvent
from app.services.delivery_log import CSV_HEADER
from tests import factories
from tests.pages import field_error, href_of, one, text, texts

KOLKATA = ZoneInfo("Asia/Kolkata")  # the admin fixture's zone


@pytest.fixture
def admin_pages(client_request, admin):
    return client_request.login(admin)


def shown_ids(page) -> list[int]:
    return [int(str(tr["id"]).removeprefix("event-")) for tr in page.select("tr[id^=event-]")]


def event_ids(*where) -> list[int]:
    stmt = (sa.select(NotificationEvent.id).join(Notification).where(*where)
            .order_by(NotificationEvent.id.desc()))
    return list(db.session.scalars(stmt))


def csv_rows(response) -> list[list[str]]:
    assert response.status_code == 200, response.get_data(as_text=True)
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


def column(page, name: str) -> list[str]:
    """Every row's cell under the column headed `name`."""
    headings = texts(page, "table.log-table thead th")
    return [text(tr.select("td")[headings.index(name)]) for tr in page.select("table.log-table tbody tr")]


@pytest.fixture
def delivered(run_worker, practitioner, patient, other_patient):
    """Priya on every channel and Arjun in-app and by email, all delivered by console providers."""
    factories.create_send(sender=practitioner, recipients=[patient], channels=["in_app", "email", "sms", "push"])
    factories.create_send(sender=practitioner, recipients=[other_patient], channels=["in_app", "email"])
    run_worker()


def test_the_log_lists_every_event_newest_first_with_its_details(admin_pages, delivered, patient, other_patient):
    page = admin_pages.get("/admin/log")
    assert shown_ids(page) == event_ids()
    assert set(column(page, "Patient")) == {f"Priya Sharma #{patient.id}", f"Arjun Patel #{other_patient.id}"}
    sms = db.session.scalar(sa.select(Notification).where(Notification.channel == "sms"))
    sms_sent = one(page, f'tr:has(a[href="/notifications/{sms.public_id}"]):has(td:-soup-contains("sent"))')
    assert [text(td) for td in sms_sent.select("td")][2:7] == ["SMS", "Treatment update", "sent", "Sent", "console"]
    assert "stored in the inbox" in column(page, "Error or detail")


def test_times_show_in_the_viewers_zone(admin_pages, delivered):
    from babel.dates import format_datetime

    newest = db.session.scalar(sa.select(NotificationEvent).order_by(NotificationEvent.id.desc()))
    expected = format_datetime(newest.created_at, format="medium", tzinfo=KOLKATA, locale="en")
    assert column(admin_pages.get("/admin/log"), "Time")[0] == " ".join(expected.split())  # babel's thin spaces


def test_an_empty_log_says_so(admin_pages):
    assert text(one(admin_pages.get("/admin/log"), "#log-results .empty")) == "No events match these filters."


def test_the_channel_filter_keeps_only_that_channel(admin_pages, delivered):
    ids = shown_ids(admin_pages.get("/admin/log?channel=email"))
    assert ids == event_ids(Notification.channel == "email")


def test_the_event_filter_keeps_only_that_kind_of_event(admin_pages, delivered):
    ids = shown_ids(admin_pages.get("/admin/log?kind=delivered"))
    assert ids == event_ids(NotificationEvent.kind == "delivered")


def test_the_status_filter_keeps_events_that_left_that_status(admin_pages, delivered):
    ids = shown_ids(admin_pages.get("/admin/log?status=queued"))
    assert ids == event_ids(NotificationEvent.status == "queued")


def test_attempts_only_keeps_events_that_called_a_provider(admin_pages, delivered):
    ids = shown_ids(admin_pages.get("/admin/log?attempts_only=y"))
    assert ids == event_ids(NotificationEvent.provider.is_not(None))
    assert len(ids) == 4  # Priya's email, SMS and push, Arjun's email; in-app calls no provider


def test_the_provider_filter_keeps_only_that_providers_attempts(admin_pages, run_worker, fake_twilio,
                                                                 use_fake, practitioner, patient):
    use_fake(fake_twilio)
    factories.create_send(sender=practitioner, recipients=[patient], channels=["sms", "email"])
    run_worker()
    ids = shown_ids(admin_pages.get("/admin/log?provider=twilio"))
    assert ids == event_ids(NotificationEvent.provider == "twilio") and len(ids) == 1


def test_the_patient_filter_matches_part_of_a_name_in_any_case(admin_pages, delivered, other_patient):
    ids = shown_ids(admin_pages.get("/admin/log?patient=arjun"))
    assert ids == event_ids(Notification.user_id == other_patient.id)


def test_the_patient_filter_matches_an_id(admin_pages, delivered, patient):
    ids = shown_ids(admin_pages.get(f"/admin/log?patient={patient.id}"))
    assert ids == event_ids(Notification.user_id == patient.id)


def test_the_date_filter_keeps_whole_days_in_the_viewers_zone(admin_pages, practitioner, patient):
    # 18:29 UTC on 4 March is 23:59 that day in Kolkata; 18:30 UTC is already 5 March there.
    factories.create_send(sender=practitioner, recipients=[patient], channels=["in_app"],
                          now=datetime(2025, 3, 4, 18, 29, tzinfo=UTC))
    factories.create_send(sender=practitioner, recipients=[patient], channels=["email"],
                          now=datetime(2025, 3, 4, 18, 30, tzinfo=UTC))
    factories.create_send(sender=practitioner, recipients=[patient], channels=["sms"],
                          now=datetime(2025, 3, 6, 0, 0, tzinfo=UTC))
    ids = shown_ids(admin_pages.get("/admin/log?from=2025-03-05&to=2025-03-05"))
    assert ids == event_ids(Notification.channel == "email")


def test_filters_combine(admin_pages, delivered, patient):
    ids = shown_ids(admin_pages.get(f"/admin/log?patient={patient.id}&kind=sent&channel=sms"))
    assert ids == event_ids(Notification.user_id == patient.id, Notification.channel == "sms",
                            NotificationEvent.kind == "sent")
    assert len(ids) == 1


def test_pages_follow_each_other_without_repeating_rows(admin_pages, practitioner):
    patients = factories.create_patients(30, practitioner=practitioner)
    factories.create_send(sender=practitioner, recipients=patients, channels=["in_app", "email"])  # 60 queued events
    first = admin_pages.get("/admin/log")
    second = admin_pages.get(href_of(first, "Older →"))
    first_ids, second_ids = shown_ids(first), shown_ids(second)
    assert (len(first_ids), len(second_ids)) == (50, 10)
    assert first_ids + second_ids == event_ids()
    assert texts(second, ".pager a") == ["← Newest"]


def test_the_next_page_link_keeps_the_filters(admin_pages, practitioner):
    patients = factories.create_patients(30, practitioner=practitioner)
    factories.create_send(sender=practitioner, recipients=patients, channels=["in_app", "email"])
    assert re.fullmatch(r"/admin/log\?kind=queued&before=\d+", href_of(admin_pages.get("/admin/log?kind=queued"),
                                                                    "Older →"))


def test_an_htmx_page_request_gets_only_the_results(admin_pages, delivered):
    fragment = admin_pages.get("/admin/log", htmx=True)
    assert [tag["id"] for tag in fragment.find_all(recursive=False)] == ["log-results"]


BAD_FILTERS = {
    "from=2025-02-30": ("from", "Not a valid date value."),
    "from=2025-03-05&to=2025-03-01": ("to", "The end date must be on or after the start date"),
    "channel=fax": ("channel", "Not a valid choice."),
    "status=lost": ("status", "Not a valid choice."),
    "kind=exploded": ("kind", "Not a valid choice."),
    "provider=pigeon": ("provider", "Not a valid choice."),
    "to=9999-12-31": ("to", "Enter a date between 1970 and 2999"),
    "patient=Priya%00": ("patient", "Remove the control characters from this field"),
}


@pytest.mark.parametrize("query,field,message", [(q, f, m) for q, (f, m) in BAD_FILTERS.items()])
def test_each_bad_filter_gets_an_inline_error(admin_pages, query, field, message):
    page = admin_pages.get(f"/admin/log?{query}", expected_status=422)
    assert field_error(page, field) == message
    assert one(page, f"#{field}")["aria-invalid"] == "true"


def test_a_broken_page_cursor_is_a_400(admin_pages):
    admin_pages.get("/admin/log?before=abc", expected_status=400)


# --- CSV ----------------------------------------------------------------------------------------


def test_the_csv_has_the_header_and_every_row_newest_first(login, admin, delivered):
    response = login(admin).get("/admin/log.csv")
    assert response.mimetype == "text/csv" and "attachment" in response.headers["Content-Disposition"]
    rows = csv_rows(response)
    assert rows[0] == list(CSV_HEADER)
    assert [int(r[0]) for r in rows[1:]] == event_ids()


def test_csv_rows_match_the_filter_exactly(login, admin, delivered, patient):
    rows = csv_rows(login(admin).get(f"/admin/log.csv?kind=sent&patient={patient.id}"))
    sent = db.session.scalars(
        sa.select(NotificationEvent).join(Notification)
        .where(NotificationEvent.kind == "sent", Notification.user_id == patient.id)
        .order_by(NotificationEvent.id.desc())
    ).all()
    assert [int(r[0]) for r in rows[1:]] == [e.id for e in sent] and len(sent) == 3
    record = dict(zip(CSV_HEADER, rows[1], strict=True))
    event = sent[0]
    assert record == {
        "event_id": str(event.id),
        "time_utc": event.created_at.isoformat(),
        "notification": event.notification.public_id,
        "patient_id": str(patient.id),
        "patient": "Priya Sharma",
        "channel": event.notification.channel.value,
        "type": "treatment_update",
        "event": "sent",
        "status": "sent",
        "provider": "console",
        "http_status": "",
        "latency_ms": str(event.latency_ms),
        "error": "",
        "detail": "",
        "scheduled_for_utc": "",
    }
    assert record["time_utc"].endswith("+00:00")


def test_a_csv_of_a_filter_matching_nothing_has_only_the_header(login, admin, delivered):
    assert csv_rows(login(admin).get("/admin/log.csv?kind=failed")) == [list(CSV_HEADER)]


def test_the_csv_is_streamed(login, admin, delivered):
    assert login(admin).get("/admin/log.csv", buffered=False).is_streamed


def test_a_csv_with_bad_filters_is_a_400_saying_why(login, admin):
    response = login(admin).get("/admin/log.csv?from=yesterday")
    assert response.status_code == 400 and "Not a valid date value" in response.get_data(as_text=True)


def test_the_csv_link_carries_the_filters(admin_pages):
    page = admin_pages.get("/admin/log?channel=sms&kind=sent")
    assert one(page, 'a[href^="/admin/log.csv"]')["href"] == "/admin/log.csv?channel=sms&kind=sent"


def test_the_default_range_is_not_limited(admin_pages, practitioner, patient):
    factories.create_send(sender=practitioner, recipients=[patient], channels=["in_app"],
                          now=datetime.now(UTC) - timedelta(days=400))
    assert len(shown_ids(admin_pages.get("/admin/log"))) == 1


def test_a_scheduled_time_is_in_the_viewers_zone_on_the_page_and_in_utc_in_the_csv(admin_pages, practitioner,
                                                                                  patient):
    when = (datetime.now(UTC) + timedelta(hours=3)).replace(second=0, microsecond=0)
    factories.create_send(sender=practitioner, recipients=[patient], channels=["sms"], title="Later",
                          scheduled_at=when)
    local = when.astimezone(KOLKATA)
    year = "" if local.year == datetime.now(KOLKATA).year else f" {local.year}"
    assert column(admin_pages.get("/admin/log"), "Error or detail") == [
        f"due {local:%a} {local.day} {local:%b}{year}, {local:%H:%M}"]
    rows = csv_rows(admin_pages.client.get("/admin/log.csv"))
    [record] = [dict(zip(CSV_HEADER, row, strict=True)) for row in rows[1:]]
    assert (record["event"], record["scheduled_for_utc"]) == ("scheduled", when.isoformat())
