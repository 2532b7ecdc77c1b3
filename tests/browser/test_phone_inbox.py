"""The patient's inbox on a phone-sized screen."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import PHONE, expect_badge, send_message


def test_the_inbox_fits_a_phone_screen_with_the_unread_badge_in_view(
    open_page_as, shot, run_worker, practitioner, patient
):
    # Real messages carry long titles and links to printed instructions.
    send_message(
        practitioner,
        [patient],
        title="Your Panchakarma preparation plan for the coming fortnight",
        body="Begin each day with warm water and ginger; avoid curd, fried food and cold drinks "
        "until the course ends. https://clinic.example/instructions/panchakarma-preparation-in-detail",
    )
    run_worker()
    page = open_page_as(patient, viewport=PHONE)
    expect(page.locator("article.inbox-item")).to_have_count(1)
    shot(page, "phone-inbox")

    badge = page.locator("#unread-badge")
    expect(badge).to_be_in_viewport()
    expect_badge(page, 1)
    scroll_width, client_width = page.evaluate(
        "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert scroll_width <= client_width, (
        f"the inbox is {scroll_width} px wide on a {client_width} px screen"
    )
