"""The patient's inbox pages."""

import re
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import Notification
from app.models.status import Status
from tests import factories
from tests.pages import one, text, texts


def deliver(run_worker, sender, patient, title: str, **fields):
    result = factories.create_send(sender=sender, recipients=[patient], title=title, body=f"{title}: the full text.",
                                   **fields)
    run_worker()
    return result.items[0].notification_id


@pytest.fixture
def inbox(client_request, patient):
    return client_request.login(patient)


def item_titles(page) -> list[str]:
    return texts(page, "#inbox-items article h2")


def unread_badge(page) -> str:
    return text(one(page, "#unread-badge [data-count]"))


def test_the_inbox_shows_delivered_items_and_the_unread_badge(inbox, run_worker, practitioner, patient):
    deliver(run_worker, practitioner, patient, "First note")
    deliver(run_worker, practitioner, patient, "Second note")
    page = inbox.get("/inbox")
    assert item_titles(page) == ["Second note", "First note"]
    assert unread_badge(page) == "2"


def test_an_empty_inbox_says_so(inbox):
    assert text(one(inbox.get("/inbox"), "#inbox-empty")).startswith("Nothing here yet")


def test_only_in_app_items_that_have_arrived_are_listed(inbox, run_worker, practitioner, patient):
    deliver(run_worker, practitioner, patient, "By email", channels=["email"])
    factories.create_send(sender=practitioner, recipients=[patient], title="Later",
                          scheduled_at=datetime.now(UTC) + timedelta(hours=1))
    assert item_titles(inbox.get("/inbox")) == []


def test_unread_items_come_before_read_ones(inbox, run_worker, practitioner, patient):
    deliver(run_worker, practitioner, patient, "Older unread")
    newer = deliver(run_worker, practitioner, patient, "Newer but read")
    inbox.get("/inbox")
    inbox.post(f"/inbox/{newer}/read")
    page = inbox.get("/inbox")
    assert item_titles(page) == ["Older unread", "Newer but read"]
    assert [a["class"] for a in page.select("#inbox-items article")] == [["inbox-item", "unread"], ["inbox-item"]]


def test_marking_one_read_updates_status_time_and_badge(inbox, run_worker, practitioner, patient):
    item = deliver(run_worker, practitioner, patient, "Read me")
    inbox.get("/inbox")
    fragment = inbox.post(f"/inbox/{item}/read", headers={"HX-Request": "true"}, expected_status=200)
    assert one(fragment, f"article#item-{item}")["class"] == ["inbox-item"]
    assert one(fragment, "#unread-badge")["hx-swap-oob"] == "true" and unread_badge(fragment) == "0"
    row = db.session.scalar(sa.select(Notification).where(Notification.public_id == item))
    db.session.refresh(row)
    assert row.status is Status.READ and row.read_at is not None


def test_mark_all_read(inbox, run_worker, practitioner, patient):
    deliver(run_worker, practitioner, patient, "One")
    deliver(run_worker, practitioner, patient, "Two")
    inbox.get("/inbox")
    inbox.post("/inbox/read-all")
    db.session.expire_all()
    assert {n.status for n in db.session.scalars(sa.select(Notification))} == {Status.READ}


def test_a_patient_opening_another_patients_item_gets_404(inbox, run_worker, practitioner, patient, other_patient):
    theirs = deliver(run_worker, practitioner, other_patient, "Not yours")
    inbox.get(f"/inbox/{theirs}", expected_status=404)
    inbox.get("/inbox")
    inbox.post(f"/inbox/{theirs}/read", expected_status=404)


def test_an_unknown_item_is_404(inbox):
    inbox.get("/inbox/not-a-real-id", expected_status=404)


def test_the_full_text_shows_on_the_item_page(inbox, run_worker, practitioner, patient):
    item = deliver(run_worker, practitioner, patient, "Diet")
    page = inbox.get(f"/inbox/{item}")
    assert (text(page.h1), text(one(page, ".message-body"))) == ("Diet", "Diet: the full text.")


def test_item_text_is_escaped(inbox, run_worker, practitioner, patient):
    item = deliver(run_worker, practitioner, patient, "<b>bold</b>")
    page = inbox.get(f"/inbox/{item}")
    assert page.select("main b") == [] and text(page.h1) == "<b>bold</b>"


def test_marking_read_without_csrf_is_refused(inbox, run_worker, practitioner, patient):
    item = deliver(run_worker, practitioner, patient, "x")
    inbox.post(f"/inbox/{item}/read", csrf=False, expected_status=400)


def card_times(page) -> list[str]:
    return texts(page, "#inbox-items article time")


def test_times_show_in_the_patients_zone(client_request, run_worker, practitioner):
    new_yorker = factories.create_patient(practitioner=practitioner, timezone="America/New_York")
    deliver(run_worker, practitioner, new_yorker, "Zoned")
    row = db.session.scalar(sa.select(Notification))
    local = row.created_at.astimezone(new_yorker.zone)
    [shown] = card_times(client_request.login(new_yorker).get("/inbox"))
    assert shown.endswith(f", {local:%H:%M}")


def test_an_out_of_range_cursor_is_ignored(inbox, run_worker, practitioner, patient):
    deliver(run_worker, practitioner, patient, "Still here")
    assert item_titles(inbox.get("/inbox?before=" + "9" * 40)) == ["Still here"]


def test_each_card_says_who_sent_it(inbox, run_worker, practitioner, patient):
    deliver(run_worker, practitioner, patient, "After Abhyanga")
    assert texts(inbox.get("/inbox"), "article .sender") == ["From Dr. Vaidya Ramesh"]


def test_a_card_sent_from_the_shell_is_from_the_clinic(app, inbox, run_worker, patient):
    deliver(run_worker, None, patient, "Clinic closed on Friday")
    assert texts(inbox.get("/inbox"), "article .sender") == [f"From {app.config['CLINIC_NAME']}"]


def test_card_times_are_to_the_minute(inbox, run_worker, practitioner, patient):
    deliver(run_worker, practitioner, patient, "After Abhyanga")
    [shown] = card_times(inbox.get("/inbox"))
    assert re.fullmatch(r"Today, \d\d:\d\d", shown), shown
