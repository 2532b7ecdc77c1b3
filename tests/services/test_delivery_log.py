"""The delivery log's query: day ranges, keyset pages, and the CSV it streams."""

import csv
import io
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from app.extensions import db
from app.models import NotificationEvent
from app.services.delivery_log import CSV_HEADER, LogFilters, csv_lines, log_page
from app.services.query_filters import day_range
from tests import factories


def all_event_ids() -> list[int]:
    return list(db.session.scalars(sa.select(NotificationEvent.id).order_by(NotificationEvent.id.desc())))


def parse(lines) -> list[list[str]]:
    return list(csv.reader(io.StringIO("".join(lines))))


def test_a_day_range_covers_whole_local_days_in_utc():
    starts, ends = day_range(date(2025, 3, 5), date(2025, 3, 6), ZoneInfo("Asia/Kolkata"))
    assert starts == datetime(2025, 3, 4, 18, 30, tzinfo=UTC)
    assert ends == datetime(2025, 3, 6, 18, 30, tzinfo=UTC)


def test_a_day_range_follows_daylight_saving_time():
    # 9 March 2025 is 23 hours long in New York.
    starts, ends = day_range(date(2025, 3, 9), date(2025, 3, 9), ZoneInfo("America/New_York"))
    assert (starts, ends) == (datetime(2025, 3, 9, 5, tzinfo=UTC), datetime(2025, 3, 10, 4, tzinfo=UTC))


def test_an_open_day_range_has_no_bound():
    assert day_range(None, None, ZoneInfo("UTC")) == (None, None)


def test_pages_walk_the_log_by_event_id_without_gaps_or_repeats(app, practitioner):
    factories.create_send(sender=practitioner, recipients=factories.create_patients(5, practitioner=practitioner))
    first = log_page(LogFilters(), size=2)
    second = log_page(LogFilters(), before=first.next_before, size=2)
    third = log_page(LogFilters(), before=second.next_before, size=2)
    ids = [r.event_id for page in (first, second, third) for r in page.rows]
    assert ids == all_event_ids()
    assert third.next_before is None


def test_the_last_full_page_has_no_next_cursor(app, practitioner):
    factories.create_send(sender=practitioner, recipients=factories.create_patients(2, practitioner=practitioner))
    assert log_page(LogFilters(), size=2).next_before is None


def test_a_patient_search_that_is_a_huge_number_matches_nobody(app, practitioner, patient):
    factories.create_send(sender=practitioner, recipients=[patient])
    assert log_page(LogFilters(patient="9" * 30)).rows == []


def test_a_patient_search_treats_like_wildcards_as_text(app, practitioner, patient, other_patient):
    factories.create_send(sender=practitioner, recipients=[patient, other_patient])
    assert log_page(LogFilters(patient="%")).rows == []


def test_the_csv_reads_in_chunks_and_keeps_every_row_once(app, practitioner):
    factories.create_send(sender=practitioner, recipients=factories.create_patients(5, practitioner=practitioner))
    rows = parse(csv_lines(LogFilters(), chunk=2))
    assert rows[0] == list(CSV_HEADER)
    assert [int(r[0]) for r in rows[1:]] == all_event_ids()


def test_the_csv_quotes_commas_quotes_and_newlines(app, practitioner):
    patient = factories.create_patient(practitioner=practitioner, name='Sharma, "Priya"\nJr')
    factories.create_send(sender=practitioner, recipients=[patient])
    [_, row] = parse(csv_lines(LogFilters()))
    assert row[CSV_HEADER.index("patient")] == patient.name


def test_the_csv_defuses_cells_a_spreadsheet_would_run_as_formulas(app, practitioner):
    formula = factories.create_patient(practitioner=practitioner, name="=HYPERLINK(\"x\")")
    factories.create_send(sender=practitioner, recipients=[formula])
    [_, row] = parse(csv_lines(LogFilters()))
    assert row[CSV_HEADER.index("patient")] == "'=HYPERLINK(\"x\")"
