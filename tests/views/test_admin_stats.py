"""The stats page: per channel per day counts drawn as SVG, with a table of the same numbers."""

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from tests import factories

KOLKATA = ZoneInfo("Asia/Kolkata")  # the admin fixture's zone


def day_row(body: str, day: str) -> list[int]:
    """The sent, delivered and failed numbers of the first table row for `day`."""
    match = re.search(rf'<time datetime="{day}">{day}</time></th>((?:<td class="num">\d+</td>){{3}})', body)
    assert match, f"no row for {day}"
    return [int(n) for n in re.findall(r"\d+", match.group(1))]


@pytest.fixture
def sms_sent_and_failed(run_worker, fake_twilio, use_fake, practitioner):
    """Three SMS accepted by Twilio and one refused, today."""
    use_fake(fake_twilio)
    patients = [factories.create_patient(practitioner=practitioner, phone=f"+9198000004{i:02d}",
                                         preferred_channels=["sms"]) for i in range(4)]
    fake_twilio.fail_for(patients[3].phone, "permanent", code=21211)
    factories.create_send(sender=practitioner, recipients=patients, channels=["sms"])
    run_worker()


def test_todays_counts_match_what_was_sent(login, admin, sms_sent_and_failed):
    body = login(admin).get("/admin/stats").get_data(as_text=True)
    sms = body[body.index('id="chart-sms-heading"'):body.index('id="chart-email-heading"')]
    today = datetime.now(KOLKATA).date().isoformat()
    assert day_row(sms, today) == [3, 0, 1]


def test_each_channel_has_an_svg_chart_with_a_title_and_description(login, admin, sms_sent_and_failed):
    body = login(admin).get("/admin/stats").get_data(as_text=True)
    assert body.count("<svg class=\"chart\"") == 4
    assert '<title id="chart-sms-title">SMS: sent, delivered and failed per day</title>' in body
    assert re.search(r'<desc id="chart-sms-desc">[^<]*3 sent, 0 delivered and 1 failed in all', body)


def test_failure_reasons_are_listed_with_their_counts(login, admin, sms_sent_and_failed):
    body = login(admin).get("/admin/stats").get_data(as_text=True)
    reasons = body[body.index('id="reasons-heading"'):]
    assert "21211" in reasons and '<td class="num">1</td>' in reasons


def test_the_default_range_is_the_last_fourteen_days(login, admin):
    body = login(admin).get("/admin/stats").get_data(as_text=True)
    sms = body[body.index('id="chart-sms-heading"'):body.index('id="chart-email-heading"')]
    assert len(re.findall(r'<tr><th scope="row"><time', sms)) == 14


def test_a_chosen_range_is_shown(login, admin):
    body = login(admin).get("/admin/stats?from=2025-03-01&to=2025-03-03").get_data(as_text=True)
    assert "from 2025-03-01 to 2025-03-03" in body
    assert day_row(body, "2025-03-02") == [0, 0, 0]


BAD_RANGES = {
    "from=2025-02-30": "Not a valid date value",
    "from=2025-03-05&to=2025-03-01": "The end date must be on or after the start date",
    "from=2023-01-01&to=2025-01-01": "Choose a range of at most 366 days",
    "from=9999-12-31": "Enter a date between 1970 and 2999",
}


def test_each_bad_range_gets_an_inline_error_and_the_default_range(login, admin):
    client = login(admin)
    today = datetime.now(KOLKATA).date().isoformat()
    for query, message in BAD_RANGES.items():
        response = client.get(f"/admin/stats?{query}")
        body = response.get_data(as_text=True)
        assert response.status_code == 422, query
        assert message in body and 'aria-invalid="true"' in body, query
        assert f"to {today}" in body and "Showing the last 14 days instead." in body, query


def test_each_days_table_starts_with_today(login, admin):
    body = login(admin).get("/admin/stats").get_data(as_text=True)
    sms = body[body.index('id="chart-sms-heading"'):body.index('id="chart-email-heading"')]
    days = re.findall(r'<tr><th scope="row"><time datetime="([\d-]+)"', sms)
    assert days[0] == datetime.now(KOLKATA).date().isoformat()
    assert days == sorted(days, reverse=True)


def test_the_totals_give_each_channels_failure_rate_for_the_period(login, admin, sms_sent_and_failed):
    body = login(admin).get("/admin/stats").get_data(as_text=True)
    sms = body[body.index('id="totals-sms"'):body.index("</tr>", body.index('id="totals-sms"'))]
    assert re.findall(r'<td class="num[^"]*"[^>]*>([^<]*)<', sms) == ["3", "0", "1", "25.0%", "1 of 4"]
    push = body[body.index('id="totals-push"'):body.index("</tr>", body.index('id="totals-push"'))]
    assert "–" in push  # nothing went out on push: no rate rather than 0 %
    everything = body[body.index('id="totals-all"'):body.index("</tr>", body.index('id="totals-all"'))]
    assert "All channels" in everything and "25.0%" in everything
