"""What a patient sees when they open a page that is not theirs."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import send_message


def test_a_patient_opening_another_patients_message_gets_the_not_found_page(
    open_page_as, shot, run_worker, practitioner, patient, other_patient
):
    theirs = send_message(practitioner, [other_patient], title="Arjun's Virechana diet")
    run_worker()
    page = open_page_as(patient)
    response = page.goto(f"/inbox/{theirs.items[0].notification_id}")
    shot(page, "other-patients-message")
    assert response.status == 404
    expect(page.locator(".error-code")).to_have_text("404")
    expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")
    expect(page.locator("main")).not_to_contain_text("Virechana")


def test_a_patient_opening_a_practitioner_page_gets_the_forbidden_page(open_page_as, shot, patient):
    page = open_page_as(patient)
    for path in ("/compose", "/monitor"):
        response = page.goto(path)
        shot(page, f"patient-at-{path}")
        assert response.status == 403, path
        expect(page.locator(".error-code")).to_have_text("403")
        expect(page.get_by_role("heading", level=1)).to_have_text("You cannot open this page")
        expect(page.locator("#compose-form, #monitor-rows")).to_have_count(0)
