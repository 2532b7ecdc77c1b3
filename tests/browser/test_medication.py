"""A practitioner prescribes a medication course from the patient's page in the browser and
opens the course, its reminders written for the window ahead."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from playwright.sync_api import expect

from app.models.status import Status
from app.vocabulary import NotificationType
from tests import factories
from tests.browser.conftest import TIMEOUT_MS


def reminders(status: Status) -> int:
    return sum(1 for n in factories.notifications()
               if n.type is NotificationType.MEDICATION_REMINDER and n.status is status)


def test_prescribing_a_course_from_the_patients_page_opens_it_with_its_reminders_then_stopping_cancels_them(
    open_page_as, shot, templates, practitioner, patient
):
    start = datetime.now(patient.zone).date() + timedelta(days=1)
    page = open_page_as(practitioner)
    page.goto(f"/appointments?patient={patient.id}")
    page.get_by_role("link", name="Prescribe a course").click()
    expect(page.get_by_label("Patient")).to_have_value(str(patient.id))
    page.get_by_label("Medicine").fill("Triphala churna")
    page.get_by_label("Dosage").fill("1 teaspoon with warm water")
    page.get_by_label("Times of day").fill("08:00, 20:00")
    page.get_by_label("First day").fill(start.isoformat())
    page.get_by_label("Last day").fill((start + timedelta(days=29)).isoformat())
    shot(page, "prescription")
    page.get_by_role("button", name="Prescribe").click()
    expect(page).to_have_url(re.compile(r"/medication/\w+$"), timeout=TIMEOUT_MS)
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Triphala churna for {patient.name}")
    expect(page.locator(".adherence")).to_have_text("No dose reminded yet")
    shot(page, "course")
    written = reminders(Status.SCHEDULED)
    assert written >= 2 * 2  # the doses of the next 48 h that fall in the course, on the patient's channels

    page.get_by_role("button", name="Stop the course").click()
    expect(page.locator("[data-course-status]")).to_have_attribute("data-course-status", "stopped", timeout=TIMEOUT_MS)
    shot(page, "stopped")
    assert reminders(Status.SCHEDULED) == 0
    assert reminders(Status.CANCELLED) == written
