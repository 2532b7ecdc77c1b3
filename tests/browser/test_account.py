"""The Account page in Chromium: staff change their time zone and password; a patient picks Hindi."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.test_content_security_policy import Violations
from tests.factories import TEST_PASSWORD

NEW_PASSWORD = "copper-monsoon-lantern-58"


def test_a_practitioner_changes_their_time_zone_and_password_then_signs_in_with_it(open_page_as, practitioner,
                                                                                  shot):
    page = open_page_as(practitioner)
    violations = Violations(page)
    violations.visit("/account")
    page.get_by_label("Time zone", exact=True).select_option("America/New_York")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Saved. Times are now shown in your time zone.")).to_be_visible()
    expect(page.get_by_label("Time zone", exact=True)).to_have_value("America/New_York")

    page.get_by_label("Current password", exact=True).fill("wrong password")
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("New password again").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_role("alert")).to_contain_text("There is a problem")
    shot(page, "wrong-current-password")

    page.get_by_label("Current password", exact=True).fill(TEST_PASSWORD)
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("New password again").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_text("Your password is changed.")).to_be_visible()
    violations.check("the account page")

    page.get_by_role("button", name="Sign out").click()
    page.get_by_label("Email", exact=True).fill(practitioner.email)
    page.get_by_label("Password", exact=True).fill(NEW_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def test_a_patient_who_chooses_hindi_reads_their_inbox_in_hindi(open_page_as, patient, shot):
    page = open_page_as(patient, viewport={"width": 390, "height": 844})
    page.goto("/account")
    page.get_by_label("Language", exact=True).select_option("hi")
    page.get_by_role("button", name="Save").click()
    page.get_by_role("link", name="इनबॉक्स").click()
    expect(page.get_by_role("heading", name="इनबॉक्स")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "hi")
    shot(page, "inbox-in-hindi")
