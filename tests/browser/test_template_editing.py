"""An admin edits a template: the live preview and the save refuse a mistake by its line; fixed,
it saves, and the earlier version is restored."""

from __future__ import annotations

from playwright.sync_api import expect

from app.services.templates import slot_for
from tests.browser.conftest import TIMEOUT_MS


def stored_body() -> str:
    template = slot_for("appointment_reminder", "sms", "en").template
    assert template is not None
    return template.body


def test_an_admin_fixes_a_refused_template_saves_it_and_restores_the_one_before(open_page_as, shot, admin, templates):
    installed = stored_body()
    page = open_page_as(admin)
    page.get_by_role("link", name="Templates").click()
    page.locator("#template-appointment_reminder-sms-en a").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Appointment reminder: SMS, English")

    text = page.get_by_label("Text", exact=True)
    text.fill("{{ clinic }}: your visit\nis on {{ when }")
    expect(page.locator("[data-preview-problems]")).to_contain_text("Line 2:", timeout=TIMEOUT_MS)
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#body-error")).to_contain_text("Line 2:")
    shot(page, "refused")
    assert stored_body() == installed

    page.get_by_label("Text", exact=True).fill("{{ clinic }}: your visit\nis on {{ when }}.")
    expect(page.locator(".sms-bubble")).to_contain_text("your visit is on Mon 2 Dec, 10:00.", timeout=TIMEOUT_MS)
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".flashes")).to_contain_text("Saved")
    assert stored_body() == "{{ clinic }}: your visit\nis on {{ when }}."
    versions = page.locator("#versions tbody tr")
    expect(versions).to_have_count(2)
    shot(page, "saved")

    versions.nth(1).get_by_role("button", name="Restore").click()
    expect(page.locator(".flashes")).to_contain_text("Restored")
    expect(versions).to_have_count(3)
    expect(versions.first).to_contain_text("(restored)")
    assert stored_body() == installed
    shot(page, "restored")
