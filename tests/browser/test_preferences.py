"""A patient sets their delivery preferences on a phone."""

from __future__ import annotations

from playwright.sync_api import expect

from app.extensions import db
from tests.browser.conftest import PHONE


def test_on_a_phone_a_patient_turns_sms_off_for_one_type_and_sets_quiet_hours(open_page_as, shot, patient):
    page = open_page_as(patient, viewport=PHONE)
    page.get_by_role("link", name="Preferences").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("How we reach you")
    page.get_by_label("Appointment reminder by SMS", exact=True).uncheck()
    page.get_by_label("Medication reminder by push", exact=True).check()
    page.get_by_label("Quiet from").fill("21:30")
    page.get_by_label("Quiet until").fill("07:00")
    shot(page, "phone-preferences")
    scroll_width, client_width = page.evaluate(
        "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    grid_right = page.locator(".channel-grid").evaluate("grid => grid.getBoundingClientRect().right")
    assert grid_right <= client_width, "the grid's last column is off the screen"
    assert scroll_width <= client_width, f"the page is {scroll_width} px wide on a {client_width} px screen"
    page.get_by_role("button", name="Save preferences").click()
    expect(page.locator(".flashes")).to_contain_text("Saved")
    db.session.refresh(patient)
    assert patient.channel_choices["appointment_reminder"] == ["email", "push"]
    assert patient.channel_choices["treatment_update"] == ["sms", "email", "push"]
    assert patient.quiet_hours_start.strftime("%H:%M") == "21:30"
