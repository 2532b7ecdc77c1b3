"""A practitioner books, moves and cancels an appointment in the browser; its reminders follow."""

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
               if n.type is NotificationType.APPOINTMENT_REMINDER and n.status is status)


def test_booking_then_moving_then_cancelling_keeps_one_set_of_reminders_and_then_none(
    open_page_as, shot, templates, practitioner, patient
):
    when = (datetime.now(practitioner.zone) + timedelta(days=3)).replace(hour=10, minute=30)
    page = open_page_as(practitioner)
    page.get_by_role("link", name="Appointments").first.click()
    page.get_by_role("link", name="Book an appointment").click()
    page.get_by_label("Patient").select_option(label=patient.name)
    page.get_by_label("Date").fill(when.strftime("%Y-%m-%d"))
    page.get_by_label("Time").fill("10:30")
    page.get_by_label("Treatment").fill("Shirodhara")
    shot(page, "booking")
    page.get_by_role("button", name="Book").click()
    expect(page).to_have_url(re.compile(r"/appointments/\w+$"), timeout=TIMEOUT_MS)
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Shirodhara with {patient.name}")
    shot(page, "appointment")
    assert reminders(Status.SCHEDULED) == 2 * 4  # 24 h and 2 h before, on Priya's four channels

    page.get_by_label("Date").fill((when + timedelta(days=1)).strftime("%Y-%m-%d"))
    page.get_by_label("Time").fill("11:00")
    page.get_by_role("button", name="Move the appointment").click()
    expect(page.locator(".flashes")).to_contain_text("the reminders follow the new time")
    assert reminders(Status.SCHEDULED) == 2 * 4

    page.get_by_role("button", name="Cancel the appointment").click()
    expect(page.locator("[data-appointment-status]")).to_have_text("Cancelled")
    shot(page, "cancelled")
    assert reminders(Status.SCHEDULED) == 0
