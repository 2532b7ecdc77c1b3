"""A scheduled message cancelled from Monitor never goes out."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from playwright.sync_api import expect

from tests.browser.conftest import TIMEOUT_MS, choose_patient
from tests.conftest import queued_job_ids

TITLE = "Reminder: Shirodhara tomorrow"


def scheduled_jobs(redis) -> list[str]:
    return [
        job
        for name, jobs in queued_job_ids(redis).items()
        if name.startswith("scheduled:")
        for job in jobs
    ]


def test_a_scheduled_message_cancelled_in_monitor_never_reaches_sms_or_the_inbox(
    open_page_as, shot, fake_twilio, use_fake, run_worker, redis, practitioner, patient
):
    use_fake(fake_twilio)
    when = datetime.now(practitioner.zone) + timedelta(hours=1)
    page = open_page_as(practitioner)
    page.get_by_role("link", name="Compose").first.click()
    choose_patient(page, "Priya", patient.name)
    page.get_by_label("Choose channels").check()
    page.get_by_label("In-app").check()
    page.get_by_label("SMS").check()
    page.get_by_label("Title").fill(TITLE)
    page.get_by_label("Message", exact=True).fill("Please arrive at 9:30, after a light breakfast.")
    page.get_by_label("Schedule").check()
    page.get_by_label("Date", exact=True).fill(when.strftime("%Y-%m-%d"))
    page.get_by_label("Time", exact=True).fill(when.strftime("%H:%M"))
    shot(page, "compose-scheduled")
    page.get_by_role("button", name="Send", exact=True).click()
    expect(page).to_have_url(re.compile(r"/sends/"), timeout=TIMEOUT_MS)
    shot(page, "send-page")
    assert scheduled_jobs(redis), "the send was not scheduled on the queue"

    page.get_by_role("link", name="Monitor", exact=True).click()
    rows = page.locator("tr[id^=row-]")  # the in-app and SMS copies of the one send
    expect(rows).to_have_count(2, timeout=TIMEOUT_MS)
    row_ids = [rows.nth(i).get_attribute("id") for i in range(2)]
    for row_id in row_ids:
        expect(page.locator(f"#{row_id}")).to_have_attribute("data-status", "scheduled")
    shot(page, "monitor-scheduled")

    for row_id in row_ids:
        row = page.locator(f"#{row_id}")
        row.get_by_role("button", name=re.compile(r"^Cancel\b")).click()
        expect(row).to_have_attribute("data-status", "cancelled", timeout=TIMEOUT_MS)
        expect(row).to_contain_text("Cancelled")
    shot(page, "monitor-cancelled")

    run_worker(scheduled=True)
    assert fake_twilio.received == []
    inbox = open_page_as(patient)
    expect(inbox.locator("article.inbox-item")).to_have_count(0)
    expect(inbox.locator("#inbox-empty")).to_be_visible()
