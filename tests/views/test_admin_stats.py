"""The stats page: per channel per day counts drawn as SVG, with a table of the same numbers."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from tests import factories
from tests.pages import field_error, one, text, texts

KOLKATA = ZoneInfo("Asia/Kolkata")  # the admin fixture's zone


@pytest.fixture
def admin_pages(client_request, admin):
    return client_request.login(admin)


def chart(page, channel: str):
    return one(page, f'section[aria-labelledby="chart-{channel}-heading"]')


def day_rows(chart) -> dict[str, list[int]]:
    """Day -> its sent, delivered and failed numbers, from a chart's table."""
    return {str(tr.time["datetime"]): [int(n) for n in texts(tr, "td")] for tr in chart.select("tbody tr:has(time)")}


def totals(page, row_id: str) -> list[str]:
    return texts(one(page, f"tr#{row_id}"), "th, td")


@pytest.fixture
def sms_sent_and_failed(run_worker, fake_twilio, use_fake, practitioner):
    """Three SMS accepted by Twilio and one refused, today."""
    use_fake(fake_twilio)
    patients = [factories.create_patient(practitioner=practitioner, phone=f"+9198000004{i:02d}",
                                         preferred_channels=["sms"]) for i in range(4)]
    fake_twilio.fail_for(patients[3].phone, "permanent", code=21211)
    factories.create_send(sender=practitioner, recipients=patients, channels=["sms"])
    run_worker()


def test_todays_counts_match_what_was_sent(admin_pages, sms_sent_and_failed):
    today = datetime.now(KOLKATA).date().isoformat()
    assert day_rows(chart(admin_pages.get("/admin/stats"), "sms"))[today] == [3, 0, 1]


def test_each_channel_has_an_svg_chart_with_a_title_and_description(admin_pages, sms_sent_and_failed):
    page = admin_pages.get("/admin/stats")
    assert len(page.select("svg.chart")) == 4
    svg = one(chart(page, "sms"), "svg.chart")
    assert svg["aria-labelledby"] == "chart-sms-title chart-sms-desc"
    assert text(svg.title) == "SMS: sent, delivered and failed per day"
    assert "3 sent, 0 delivered and 1 failed in all" in text(svg.desc)


def test_failure_reasons_are_listed_with_their_counts(admin_pages, sms_sent_and_failed):
    page = admin_pages.get("/admin/stats")
    [row] = page.select('section:has(#reasons-heading) tbody tr')
    reason, count = texts(row, "td")
    assert "21211" in reason and count == "1"


def test_the_default_range_is_the_last_fourteen_days(admin_pages):
    assert len(day_rows(chart(admin_pages.get("/admin/stats"), "sms"))) == 14


def test_a_chosen_range_is_shown(admin_pages):
    page = admin_pages.get("/admin/stats?from=2025-03-01&to=2025-03-03")
    assert "from 2025-03-01 to 2025-03-03" in text(one(page, "p.lead"))
    assert day_rows(chart(page, "sms")) == {"2025-03-03": [0, 0, 0], "2025-03-02": [0, 0, 0], "2025-03-01": [0, 0, 0]}


BAD_RANGES = {
    "from=2025-02-30": ("from", "Not a valid date value."),
    "from=2025-03-05&to=2025-03-01": ("to", "The end date must be on or after the start date"),
    "from=2023-01-01&to=2025-01-01": ("to", "Choose a range of at most 366 days"),
    "from=9999-12-31": ("from", "Enter a date between 1970 and 2999"),
}


@pytest.mark.parametrize("query,field,message", [(q, f, m) for q, (f, m) in BAD_RANGES.items()])
def test_each_bad_range_gets_an_inline_error_and_the_default_range(admin_pages, query, field, message):
    page = admin_pages.get(f"/admin/stats?{query}", expected_status=422)
    assert field_error(page, field) == message and one(page, f"#{field}")["aria-invalid"] == "true"
    assert texts(page, "p.error[role=alert]") == ["Showing the last 14 days instead."]
    assert max(day_rows(chart(page, "sms"))) == datetime.now(KOLKATA).date().isoformat()


def test_each_days_table_starts_with_today(admin_pages):
    days = list(day_rows(chart(admin_pages.get("/admin/stats"), "sms")))
    assert days[0] == datetime.now(KOLKATA).date().isoformat()
    assert days == sorted(days, reverse=True)


def test_the_totals_give_each_channels_failure_rate_for_the_period(admin_pages, sms_sent_and_failed):
    page = admin_pages.get("/admin/stats")
    assert totals(page, "totals-sms") == ["SMS", "3", "0", "1", "25.0%", "1 of 4"]
    assert totals(page, "totals-push")[4] == "–"  # nothing went out on push: no rate rather than 0 %
    assert totals(page, "totals-all")[0::4] == ["All channels", "20.0%"]  # with the refused SMS's email fallback
