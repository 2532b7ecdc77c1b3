"""The patient's inbox on a phone-sized screen."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from app.channels.web_push import new_key_pair
from tests.browser.conftest import PHONE, expect_badge, send_message


def phone_inbox_with_a_message(open_page_as, run_worker, practitioner, patient) -> Page:
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
    return page


def test_the_inbox_fits_a_phone_screen_with_the_unread_badge_in_view(
    open_page_as, shot, run_worker, practitioner, patient
):
    page = phone_inbox_with_a_message(open_page_as, run_worker, practitioner, patient)
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


def test_on_a_phone_the_inbox_actions_share_one_bar_and_the_messages_start_near_the_top(
    open_page_as, use_settings, run_worker, practitioner, patient
):
    use_settings(VAPID_PUBLIC_KEY=new_key_pair()[0])  # browser push set up: the inbox offers it
    page = phone_inbox_with_a_message(open_page_as, run_worker, practitioner, patient)
    heading = page.get_by_role("heading", name="Inbox", level=1).bounding_box()
    actions = [page.get_by_role("button", name="Mark all read"), page.get_by_role("button", name="Notify me")]
    expect(actions[1]).to_be_visible()  # the browser can subscribe and has not yet
    for action in actions:
        box = action.bounding_box()
        assert box["y"] < heading["y"] + heading["height"] and heading["y"] < box["y"] + box["height"], (
            f"{action} sits on another line than the heading: {box} vs {heading}"
        )
    card = page.locator("article.inbox-item").bounding_box()
    assert card["y"] < PHONE["height"] / 4, f"the first message starts {card['y']:.0f} px down a phone screen"


def test_on_a_phone_each_card_says_who_sent_it_and_when_to_the_minute(
    open_page_as, shot, run_worker, practitioner, patient
):
    page = phone_inbox_with_a_message(open_page_as, run_worker, practitioner, patient)
    card = page.locator("article.inbox-item")
    expect(card.locator(".sender")).to_have_text(f"From {practitioner.name}")
    expect(card.locator("time")).to_have_text(re.compile(r"^Today, \d\d:\d\d$"))
    shot(page, "phone-inbox-card")
