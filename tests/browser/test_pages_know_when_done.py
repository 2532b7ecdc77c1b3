"""Pages that refresh themselves stop when nothing on them can change, and say only what is true."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from playwright.sync_api import Page, expect

from tests import factories
from tests.browser.conftest import TIMEOUT_MS, eventually, send_message

POLL = "every 5s"


def schedule_message(sender, patient, title: str):
    return factories.create_send(sender=sender, recipients=[patient], type="appointment_reminder",
                                 channels=["in_app", "email"], title=title, body="Please arrive at 9:30.",
                                 scheduled_at=datetime.now(UTC) + timedelta(hours=2))


def count_polls(page: Page, path: str) -> list[str]:
    """Every htmx request the page makes to `path` from now on."""
    polls: list[str] = []
    page.on("request", lambda r: polls.append(r.url)
            if r.headers.get("hx-request") == "true" and re.search(rf"{re.escape(path)}(\?|$)", r.url) else None)
    return polls


def polls_within_a_period(page: Page, polls: list[str]) -> bool:
    """Move the page's clock on 5 s at a time until it polls once more: a page just loaded or
    swapped may not have set its timer yet when the clock first moves, and one jump would then pass
    before the timer exists."""
    seen = len(polls)

    def moved_on_and_polled() -> bool:
        if len(polls) == seen:
            page.clock.fast_forward(5_000)
        return len(polls) > seen
    return eventually(moved_on_and_polled, interval=0.25)


def test_monitor_polls_while_something_is_on_its_way_and_stops_when_nothing_can_change(
    open_page_as, shot, run_worker, practitioner, patient
):
    schedule_message(practitioner, patient, "Abhyanga on Friday")
    page = open_page_as(practitioner)
    page.clock.install()  # timers run as usual; fast_forward makes "5 s later" happen at once
    page.goto("/monitor")
    rows = page.locator("#monitor-rows")
    expect(rows).to_have_attribute("data-polling", "on")
    polls = count_polls(page, "/monitor")
    assert polls_within_a_period(page, polls), "Monitor did not poll with a scheduled message on it"
    expect(page.locator("[data-channel=in_app]")).to_have_attribute("data-status", "scheduled")
    shot(page, "monitor-polling")

    run_worker(scheduled=True)  # the message's time comes: in-app delivered, email sent
    assert polls_within_a_period(page, polls), "Monitor stopped polling before its message went"
    expect(page.locator("[data-channel=in_app]")).to_have_attribute("data-status", "delivered")
    expect(page.locator("[data-channel=email]")).to_have_attribute("data-status", "sent")
    expect(rows).to_have_attribute("data-polling", "off")
    expect(rows).not_to_have_attribute("hx-trigger", POLL)
    settled = len(polls)
    page.clock.fast_forward(60_000)
    page.wait_for_timeout(500)
    assert len(polls) == settled, "Monitor kept polling with nothing on its way"
    shot(page, "monitor-settled")

    # Something new can change again: a page showing it polls once more.
    schedule_message(practitioner, patient, "Basti next week")
    page.get_by_role("link", name="Monitor", exact=True).click()
    expect(page.locator("#monitor-rows")).to_have_attribute("data-polling", "on")
    polls = count_polls(page, "/monitor")
    assert polls_within_a_period(page, polls), "Monitor did not poll again with a scheduled message on it"

    # Cancelling it re-renders the page, which has nothing on its way any more.
    page.locator("tr", has_text="Basti next week").get_by_role("button", name=re.compile(r"^Cancel\b")).click()
    expect(page.locator(".flash")).to_have_text("Cancelled email and in-app.")
    expect(page.locator("#monitor-rows")).to_have_attribute("data-polling", "off")
    shot(page, "monitor-after-cancel")


def test_the_send_page_drops_its_cancel_button_and_sending_line_when_everything_has_gone(
    open_page_as, shot, run_worker, practitioner, patient
):
    result = send_message(practitioner, [patient], title="Your Basti course starts Monday")
    page = open_page_as(practitioner)
    page.goto(f"/sends/{result.group_id}")
    cancel = page.get_by_role("button", name="Cancel what has not gone out")
    expect(page.locator("[data-send-state]")).to_have_text("Sending: 1 of 1 still to go.")
    expect(cancel).to_be_visible()
    shot(page, "send-page-sending")

    run_worker()
    expect(page.locator("[data-send-state]")).to_have_attribute("data-send-state", "finished", timeout=TIMEOUT_MS)
    expect(cancel).to_have_count(0)
    expect(page.get_by_text("Sending:")).to_have_count(0)
    expect(page.locator("#send-live")).not_to_have_attribute("hx-trigger", re.compile("every"))
    expect(page.locator("[data-progress=done] strong")).to_have_text("1")
    shot(page, "send-page-finished")
