"""Compose in a browser: inline errors that keep what was typed; the keyboard patient picker."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import TIMEOUT_MS, choose_patient

TITLE = "Diet during Virechana"


@pytest.fixture
def compose(open_page_as, practitioner, patient) -> Page:
    """The compose form, with Priya chosen, SMS and in-app ticked and a title typed."""
    page = open_page_as(practitioner)
    page.goto("/compose")
    choose_patient(page, "Priya", patient.name)
    page.get_by_label("Choose channels").check()
    page.get_by_label("SMS").check()
    page.get_by_label("In-app").check()
    page.get_by_label("Title").fill(TITLE)
    return page


def submit(page: Page, button: str = "Send") -> None:
    with page.expect_navigation(timeout=TIMEOUT_MS):
        page.get_by_role("button", name=button, exact=True).click()


def expect_kept(page: Page, patient) -> None:
    """Everything chosen before the submit is still chosen after it."""
    expect(page.get_by_label("Title")).to_have_value(TITLE)
    expect(page.get_by_role("combobox", name="Patient")).to_have_value(patient.name)
    expect(page.locator("#patient_id")).to_have_value(str(patient.id))
    expect(page.get_by_label("One patient")).to_be_checked()
    expect(page.get_by_label("Choose channels")).to_be_checked()
    expect(page.get_by_label("SMS")).to_be_checked()
    expect(page.get_by_label("In-app")).to_be_checked()
    expect(page.get_by_label("Email")).not_to_be_checked()


def test_an_empty_message_is_shown_inline_and_the_form_keeps_what_was_typed(compose, shot, patient):
    shot(compose, "compose-without-a-message")
    submit(compose)
    shot(compose, "compose-with-errors")
    expect(compose).to_have_url(re.compile(r"/compose$"))
    expect(compose.locator("p.error#body-error")).to_contain_text("Write a message")
    expect(compose.get_by_label("Message", exact=True)).to_have_attribute("aria-invalid", "true")
    expect_kept(compose, patient)


def test_a_past_schedule_time_is_shown_inline_and_the_form_keeps_what_was_typed(
    compose, shot, practitioner, patient
):
    body = "Take only rice gruel for three days."
    an_hour_ago = datetime.now(practitioner.zone) - timedelta(hours=1)
    compose.get_by_label("Message", exact=True).fill(body)
    compose.get_by_label("Schedule").check()
    compose.get_by_label("Date", exact=True).fill(an_hour_ago.strftime("%Y-%m-%d"))
    compose.get_by_label("Time", exact=True).fill(an_hour_ago.strftime("%H:%M"))
    shot(compose, "compose-scheduled-in-the-past")
    submit(compose, "Schedule")
    shot(compose, "compose-with-errors")
    expect(compose.locator("p.error#send_date-error")).to_contain_text("in the past")
    expect(compose.get_by_label("Message", exact=True)).to_have_value(body)
    expect(compose.get_by_label("Schedule")).to_be_checked()
    expect(compose.get_by_label("Date", exact=True)).to_have_value(an_hour_ago.strftime("%Y-%m-%d"))
    expect(compose.get_by_label("Time", exact=True)).to_have_value(an_hour_ago.strftime("%H:%M"))
    expect_kept(compose, patient)


def test_the_button_says_schedule_while_scheduling_is_chosen(compose):
    button = compose.locator("#compose-submit")
    expect(button).to_have_text("Send")
    compose.get_by_label("Schedule").check()
    expect(button).to_have_text("Schedule")
    compose.get_by_label("Send now").check()
    expect(button).to_have_text("Send")


def test_every_problem_is_summarised_at_the_top_and_each_link_leads_to_its_field(
    open_page_as, shot, practitioner
):
    page = open_page_as(practitioner)
    page.goto("/compose")
    page.get_by_label("Choose channels").check()
    submit(page)
    summary = page.locator(".error-summary")
    expect(summary).to_be_focused()  # a screen reader starts with the list of problems
    expect(summary.get_by_role("heading")).to_have_text("There is a problem")
    expect(summary.get_by_role("link")).to_have_text(
        ["Choose a patient from the list", "Choose at least one channel", "Write a message, or choose a template"]
    )
    shot(page, "compose-error-summary")
    summary.get_by_role("link", name="Write a message").click()
    expect(page.get_by_label("Message", exact=True)).to_be_focused()


def test_a_patient_can_be_chosen_with_the_keyboard_alone(open_page_as, shot, practitioner, patient):
    page = open_page_as(practitioner)
    page.goto("/compose")
    search = page.get_by_role("combobox", name="Patient")
    search.focus()
    page.keyboard.type("pri")
    suggestion = page.get_by_role("option", name=patient.name)
    expect(suggestion).to_be_visible()
    expect(search).to_have_attribute("aria-expanded", "true")
    page.keyboard.press("ArrowDown")
    # Focus stays in the search box; the active option is announced through it.
    expect(search).to_be_focused()
    expect(suggestion).to_have_attribute("aria-selected", "true")
    expect(search).to_have_attribute("aria-activedescendant", f"patient-option-{patient.id}")
    shot(page, "suggestion-active")
    page.keyboard.press("Enter")
    expect(search).to_have_value(patient.name)
    expect(page.locator("#patient_id")).to_have_value(str(patient.id))
    expect(search).to_be_focused()
    expect(search).to_have_attribute("aria-expanded", "false")
    expect(page.locator(".suggestion")).to_have_count(0)
    expect(page).to_have_url(re.compile(r"/compose$"))  # Enter chose a patient; it did not submit
    shot(page, "patient-chosen")
