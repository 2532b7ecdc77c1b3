"""The admin's delivery log: filtering it, and downloading what the filter shows as CSV."""

from __future__ import annotations

import csv
import re

import sqlalchemy as sa
from playwright.sync_api import expect

from app.extensions import db
from app.models import Notification
from app.models.notification import NotificationEvent
from app.vocabulary import Channel
from tests.browser.conftest import TIMEOUT_MS, send_message


def sms_events_of(patient) -> int:
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(NotificationEvent)
        .join(Notification, Notification.id == NotificationEvent.notification_id)
        .where(Notification.channel == Channel.SMS, Notification.user_id == patient.id)
    )


def test_the_csv_download_holds_exactly_the_filtered_log(
    open_page_as,
    shot,
    fake_twilio,
    use_fake,
    run_worker,
    admin,
    practitioner,
    patient,
    other_patient,
):
    use_fake(fake_twilio)
    send_message(
        practitioner,
        [patient, other_patient],
        title="Oil massage aftercare",
        channels=("in_app", "sms"),
    )
    send_message(practitioner, [patient], title="Diet for the week", channels=("sms", "email"))
    run_worker()
    expected = sms_events_of(patient)
    assert (
        expected > 2
    )  # several events per SMS: queued, sent, ...; the other rows must be filtered out

    page = open_page_as(admin)
    page.get_by_role("link", name="Delivery log").click()
    page.get_by_label("Channel", exact=True).select_option("sms")
    page.get_by_label("Patient", exact=True).fill("priya")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"channel=sms"), timeout=TIMEOUT_MS)
    rows = page.locator("tr[id^=event-]")
    expect(rows).to_have_count(expected, timeout=TIMEOUT_MS)
    for row in rows.all():
        expect(row.locator("td").nth(1)).to_contain_text(patient.name)
        expect(row.locator("td").nth(2)).to_have_text("SMS")
    shot(page, "log-filtered")

    with page.expect_download(timeout=TIMEOUT_MS) as download_info:
        page.get_by_role("link", name="Download CSV").click()
    download = download_info.value
    saved = shot.folder / download.suggested_filename
    download.save_as(saved)
    with saved.open(newline="", encoding="utf-8") as handle:
        records = list(csv.DictReader(handle))

    assert len(records) == expected
    assert {(r["channel"], r["patient_id"], r["patient"]) for r in records} == {
        ("sms", str(patient.id), patient.name)
    }
