"""The patient's inbox pages."""

import re

import sqlalchemy as sa

from app.extensions import db
from app.models import Notification
from app.models.status import Status
from tests import factories
from tests.conftest import csrf_token_from


def deliver(run_worker, sender, patient, title: str, **fields):
    result = factories.create_send(sender=sender, recipients=[patient], title=title, body=f"{title}: the full text.",
                                   **fields)
    run_worker()
    return result.items[0].notification_id


def test_the_inbox_shows_delivered_items_and_the_unread_badge(login, run_worker, practitioner, patient):
    deliver(run_worker, practitioner, patient, "First note")
    deliver(run_worker, practitioner, patient, "Second note")
    body = login(patient).get("/inbox").get_data(as_text=True)
    assert body.index("Second note") < body.index("First note")
    assert '<span data-count>2</span>' in body


def test_an_empty_inbox_says_so(login, patient):
    assert "Nothing here yet" in login(patient).get("/inbox").get_data(as_text=True)


def test_only_in_app_items_that_have_arrived_are_listed(login, run_worker, practitioner, patient):
    deliver(run_worker, practitioner, patient, "By email", channels=["email"])
    from datetime import UTC, datetime, timedelta

    factories.create_send(sender=practitioner, recipients=[patient], title="Later",
                          scheduled_at=datetime.now(UTC) + timedelta(hours=1))
    body = login(patient).get("/inbox").get_data(as_text=True)
    assert "By email" not in body and "Later" not in body


def test_unread_items_come_before_read_ones(login, run_worker, practitioner, patient):
    older = deliver(run_worker, practitioner, patient, "Older unread")
    newer = deliver(run_worker, practitioner, patient, "Newer but read")
    client = login(patient)
    token = csrf_token_from(client.get("/inbox").get_data(as_text=True))
    client.post(f"/inbox/{newer}/read", data={"csrf_token": token})
    body = client.get("/inbox").get_data(as_text=True)
    assert body.index("Older unread") < body.index("Newer but read")
    assert older


def test_marking_one_read_updates_status_time_and_badge(login, run_worker, practitioner, patient):
    item = deliver(run_worker, practitioner, patient, "Read me")
    client = login(patient)
    token = csrf_token_from(client.get("/inbox").get_data(as_text=True))
    response = client.post(f"/inbox/{item}/read", data={"csrf_token": token}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert 'hx-swap-oob="true"' in response.get_data(as_text=True)
    row = db.session.scalar(sa.select(Notification).where(Notification.public_id == item))
    db.session.refresh(row)
    assert row.status is Status.READ and row.read_at is not None


def test_mark_all_read(login, run_worker, practitioner, patient):
    deliver(run_worker, practitioner, patient, "One")
    deliver(run_worker, practitioner, patient, "Two")
    client = login(patient)
    token = csrf_token_from(client.get("/inbox").get_data(as_text=True))
    assert client.post("/inbox/read-all", data={"csrf_token": token}).status_code == 302
    db.session.expire_all()
    assert {n.status for n in db.session.scalars(sa.select(Notification))} == {Status.READ}


def test_a_patient_opening_another_patients_item_gets_404(login, run_worker, practitioner, patient, other_patient):
    theirs = deliver(run_worker, practitioner, other_patient, "Not yours")
    client = login(patient)
    assert client.get(f"/inbox/{theirs}").status_code == 404
    token = csrf_token_from(client.get("/inbox").get_data(as_text=True))
    assert client.post(f"/inbox/{theirs}/read", data={"csrf_token": token}).status_code == 404


def test_an_unknown_item_is_404(login, patient):
    assert login(patient).get("/inbox/not-a-real-id").status_code == 404


def test_the_full_text_shows_on_the_item_page(login, run_worker, practitioner, patient):
    item = deliver(run_worker, practitioner, patient, "Diet")
    body = login(patient).get(f"/inbox/{item}").get_data(as_text=True)
    assert "Diet: the full text." in body


def test_item_text_is_escaped(login, run_worker, practitioner, patient):
    item = deliver(run_worker, practitioner, patient, "<b>bold</b>")
    body = login(patient).get(f"/inbox/{item}").get_data(as_text=True)
    assert "<b>bold</b>" not in body and "&lt;b&gt;bold&lt;/b&gt;" in body


def test_marking_read_without_csrf_is_refused(login, run_worker, practitioner, patient):
    item = deliver(run_worker, practitioner, patient, "x")
    assert login(patient).post(f"/inbox/{item}/read").status_code == 400


def test_times_show_in_the_patients_zone(login, run_worker, practitioner):
    from tests import factories

    new_yorker = factories.create_patient(practitioner=practitioner, timezone="America/New_York")
    deliver(run_worker, practitioner, new_yorker, "Zoned")
    row = db.session.scalar(sa.select(Notification))
    local = row.created_at.astimezone(new_yorker.zone)
    assert f", {local:%H:%M}</time>" in login(new_yorker).get("/inbox").get_data(as_text=True)


def test_an_out_of_range_cursor_is_ignored(login, run_worker, practitioner, patient):
    deliver(run_worker, practitioner, patient, "Still here")
    assert "Still here" in login(patient).get("/inbox?before=" + "9" * 40).get_data(as_text=True)


def test_each_card_says_who_sent_it(login, run_worker, practitioner, patient):
    deliver(run_worker, practitioner, patient, "After Abhyanga")
    assert '<span class="sender">From Dr. Vaidya Ramesh</span>' in login(patient).get("/inbox").get_data(as_text=True)


def test_a_card_sent_from_the_shell_is_from_the_clinic(app, login, run_worker, patient):
    deliver(run_worker, None, patient, "Clinic closed on Friday")
    body = login(patient).get("/inbox").get_data(as_text=True)
    assert f'<span class="sender">From {app.config["CLINIC_NAME"]}</span>' in body


def test_card_times_are_to_the_minute(login, run_worker, practitioner, patient):
    deliver(run_worker, practitioner, patient, "After Abhyanga")
    body = login(patient).get("/inbox").get_data(as_text=True)
    assert re.search(r'<time datetime="[^"]+">Today, \d\d:\d\d</time>', body), body
