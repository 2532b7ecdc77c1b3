"""A practitioner starts a treatment plan in the browser, records progress and sees the update go."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from app.vocabulary import NotificationType
from tests import factories
from tests.browser.conftest import TIMEOUT_MS


def test_starting_a_plan_then_recording_progress_shows_the_update_on_the_plan_page(
    open_page_as, shot, templates, practitioner, patient
):
    page = open_page_as(practitioner)
    page.goto(f"/appointments?patient={patient.id}")
    page.get_by_role("link", name="Start a treatment plan").click()
    page.get_by_label("Plan", exact=True).fill("Panchakarma")
    for n, (name, starts, ends) in enumerate([("Purvakarma", "2026-12-01", "2026-12-07"),
                                              ("Pradhanakarma", "2026-12-08", "2026-12-20"),
                                              ("Paschatkarma", "2026-12-21", "2026-12-31")]):
        page.locator(f"#phases-{n}-name").fill(name)
        page.locator(f"#phases-{n}-starts_on").fill(starts)
        page.locator(f"#phases-{n}-ends_on").fill(ends)
    shot(page, "new plan")
    page.get_by_role("button", name="Start the plan").click()
    expect(page).to_have_url(re.compile(r"/treatment-plans/\w+$"), timeout=TIMEOUT_MS)
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Panchakarma for {patient.name}")

    page.get_by_label("Phase", exact=True).select_option(label="Pradhanakarma")
    page.get_by_label("Percent complete").fill("45")
    page.get_by_label("Next milestone").fill("Basti on 15 Dec")
    page.get_by_label("Note to the patient").fill("Virechana went well.")
    page.get_by_role("button", name="Record and send the update").click()
    expect(page.locator(".flashes")).to_contain_text("The patient has been sent the update")
    expect(page.locator("[data-latest-percent]")).to_have_text(re.compile(r"45% complete"))
    update = page.locator("table.treatment-updates tbody tr")
    expect(update).to_have_count(1)
    expect(update).to_contain_text("Basti on 15 Dec")
    expect(update.locator("[data-channel='email']")).to_be_visible()
    shot(page, "plan with an update")
    assert {n.channel.value for n in factories.notifications() if n.type is NotificationType.TREATMENT_UPDATE} == {
        "in_app", "email", "sms", "push"}
