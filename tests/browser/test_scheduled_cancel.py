"""A scheduled message cancelled from Monitor never goes out, on any of its channels."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from playwright.sync_api import expect

from app.models.status import Status
from tests import factories
from tests.browser.conftest import TIMEOUT_MS, choose_patient

TITLE = "Reminder: Shirodhara tomorrow"


def test_a_message_scheduled_on_three_channels_and_cancelled_in_monitor_reaches_no_provider_or_inbox(
    open_page_as, shot, fake_twilio, fake_sendgrid, use_fake, run_worker, redis, practitioner, patient
):
    use_fake(fake_twilio)
    use_fake(fake_sendgrid)
    when = datetime.now(practitioner.zone) + timedelta(hours=1)
    page = open_page_as(practitioner)
    page.get_by_role("link", name="Compose").first.click()
    choose_patient(page, "Priya", patient.name)
    page.get_by_label("Choose channels").check()
    for channel in ("In-app", "SMS", "Email"):
        page.get_by_label(channel, exact=True).check()
    page.get_by_label("Title").fill(TITLE)
    page.get_by_label("Message", exact=True).fill("Please arrive at 9:30, after a light breakfast.")
    page.get_by_label("Schedule").check()
    page.get_by_label("Date", exact=True).fill(when.strftime("%Y-%m-%d"))
    page.get_by_label("Time", exact=True).fill(when.strftime("%H:%M"))
    shot(page, "compose-scheduled")
    page.get_by_role("button", name="Schedule", exact=True).click()
    expect(page).to_have_url(re.compile(r"/sends/"), timeout=TIMEOUT_MS)
    shot(page, "send-page")
    assert {(n.status, n.job_id) for n in factories.notifications()} == {(Status.SCHEDULED, None)}, (
        "the send is not waiting for its time")

    page.get_by_role("link", name="Monitor", exact=True).click()
    rows = page.locator("tr[id^=row-]")
    expect(rows).to_have_count(1)  # one message to Priya, on three channels
    row = rows.first
    channels = row.locator("[data-channel]")
    expect(channels).to_have_count(3)
    for i in range(3):
        expect(channels.nth(i)).to_have_attribute("data-status", "scheduled")
    shot(page, "monitor-scheduled")

    row.get_by_role("link", name=re.compile(r"^SMS")).click()  # one channel's own page
    expect(page.get_by_role("heading", level=1)).to_have_text(TITLE)
    expect(page.locator(".timeline li").first).to_contain_text(f"Scheduled for {when:%a} {when.day} {when:%b}")
    expect(page.get_by_role("button", name="Cancel only the SMS")).to_be_visible()
    shot(page, "notification-page")
    page.go_back()

    row.get_by_role("button", name=re.compile(r"^Cancel\b")).click()
    expect(page.locator(".flash")).to_have_text("Cancelled SMS, email and in-app.")
    for i in range(3):
        expect(channels.nth(i)).to_have_attribute("data-status", "cancelled")
    expect(row).to_have_attribute("data-pending", "false")
    expect(row.get_by_role("button", name=re.compile(r"^Cancel\b"))).to_have_count(0)
    shot(page, "monitor-cancelled")

    run_worker(scheduled=True)
    assert fake_twilio.received == []
    assert fake_sendgrid.received == []
    inbox = open_page_as(patient)
    expect(inbox.locator("article.inbox-item")).to_have_count(0)
    expect(inbox.locator("#inbox-empty")).to_be_visible()
