"""Signing out on one device signs the patient out of an inbox open on another, at once."""

from __future__ import annotations

from urllib.parse import urlsplit

from playwright.sync_api import expect

from tests.browser.conftest import TIMEOUT_MS, wait_for_live_inbox


def test_an_open_inbox_goes_to_sign_in_when_the_patient_signs_out_elsewhere(open_page_as, patient, shot):
    phone = open_page_as(patient)
    wait_for_live_inbox(phone)
    laptop = open_page_as(patient)
    laptop.get_by_role("button", name="Sign out").click()
    expect(laptop.get_by_text("You are signed out on every device.")).to_be_visible()
    phone.wait_for_url(lambda url: urlsplit(url).path == "/login", timeout=TIMEOUT_MS)
    shot(phone, "phone-after-sign-out-elsewhere")
    expect(phone.get_by_role("button", name="Sign in")).to_be_visible()
