"""One-click email unsubscribe (RFC 8058): the headers every non-urgent email carries, and the
link's page, which works without signing in."""

import time
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from itsdangerous import TimestampSigner

from app.extensions import db
from app.models.audit_event import AuditAction, AuditEvent
from app.services.email_unsubscribe import link_for
from app.vocabulary import NotificationType
from tests import factories
from tests.pages import one, text

ONE_CLICK = {"List-Unsubscribe": "One-Click"}


@pytest.fixture
def sendgrid(fake_sendgrid, use_fake):
    use_fake(fake_sendgrid)
    return fake_sendgrid


def emailed_link(sendgrid, run_worker, practitioner, patient, type: str = "treatment_update") -> str:
    """Send `patient` an email of `type` through the worker and SendGrid; the link it carried."""
    factories.create_send(sender=practitioner, recipients=[patient], channels=["email"], type=type)
    run_worker()
    header = sendgrid.received[-1]["headers"]["List-Unsubscribe"]
    return urlsplit(header.strip("<>")).path


def emails_by_preference(sendgrid, run_worker, practitioner, patient, type: str) -> int:
    before = len(sendgrid.received)
    factories.create_send(sender=practitioner, recipients=[patient], channels=None, type=type)
    run_worker()
    return len(sendgrid.received) - before


def test_a_non_urgent_email_carries_one_click_unsubscribe_headers(sendgrid, run_worker, practitioner, patient):
    path = emailed_link(sendgrid, run_worker, practitioner, patient)
    assert path.startswith("/unsubscribe/")
    assert sendgrid.received[-1]["headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_a_health_alert_carries_no_unsubscribe_link(sendgrid, run_worker, practitioner, patient):
    factories.create_send(sender=practitioner, recipients=[patient], channels=["email"], type="health_alert")
    run_worker()
    assert "List-Unsubscribe" not in sendgrid.received[-1]["headers"]


def test_a_mail_clients_one_click_post_stops_that_kind_of_email_only(client, sendgrid, run_worker, practitioner,
                                                                    patient):
    path = emailed_link(sendgrid, run_worker, practitioner, patient)
    response = client.post(path, data=ONE_CLICK)  # no cookie, no form token: as a mail client posts
    assert response.status_code == 200
    assert emails_by_preference(sendgrid, run_worker, practitioner, patient, "treatment_update") == 0
    assert emails_by_preference(sendgrid, run_worker, practitioner, patient, "appointment_reminder") == 1


def test_stopping_all_email_opts_the_address_out(client, sendgrid, run_worker, practitioner, patient):
    path = emailed_link(sendgrid, run_worker, practitioner, patient)
    client.post(path, data={"scope": "all"})
    db.session.refresh(patient)
    assert patient.email_opted_out_at is not None
    assert emails_by_preference(sendgrid, run_worker, practitioner, patient, "appointment_reminder") == 0


def test_each_unsubscribe_is_recorded_on_the_patient(client, sendgrid, run_worker, practitioner, patient):
    path = emailed_link(sendgrid, run_worker, practitioner, patient)
    client.post(path, data=ONE_CLICK)
    client.post(path, data=ONE_CLICK)  # a second click changes nothing more
    events = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == AuditAction.EMAIL_OPTED_OUT)).all()
    assert [(event.patient_id, event.actor_id) for event in events] == [(patient.id, None)]
    assert "treatment_update" in events[0].detail


def test_opening_the_link_changes_nothing_until_a_button_is_pressed(client_request, sendgrid, run_worker,
                                                                      practitioner, patient):
    path = emailed_link(sendgrid, run_worker, practitioner, patient)
    page = client_request.get(path)
    assert "p•••@clinic.test" in text(one(page, "#unsubscribe"))
    assert [button.get_text(strip=True) for button in page.select("#unsubscribe button")] == [
        "Stop “Treatment update” emails", "Stop all email",
    ]
    assert emails_by_preference(sendgrid, run_worker, practitioner, patient, "treatment_update") == 1


def test_the_page_speaks_the_patients_language(client_request, sendgrid, run_worker, practitioner, patient):
    patient.locale = "hi"
    db.session.commit()
    page = client_request.get(emailed_link(sendgrid, run_worker, practitioner, patient))
    assert page.html["lang"] == "hi"
    assert "सभी ईमेल बंद करें" in [button.get_text(strip=True) for button in page.select("#unsubscribe button")]


def test_a_link_for_an_address_the_patient_no_longer_has_stops_nothing(client, sendgrid, run_worker, practitioner,
                                                                       patient):
    path = emailed_link(sendgrid, run_worker, practitioner, patient)
    patient.email = "priya.new@clinic.test"
    db.session.commit()
    assert client.post(path, data={"scope": "all"}).status_code == 404
    db.session.refresh(patient)
    assert patient.email_opted_out_at is None


def test_an_expired_link_says_so_and_stops_nothing(app, client, monkeypatch, patient):
    long_ago = int(time.time()) - 91 * 24 * 3600
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: long_ago)
    path = urlsplit(link_for(patient.id, patient.email, NotificationType.TREATMENT_UPDATE, app.config)).path
    monkeypatch.undo()
    response = client.post(path, data={"scope": "all"})
    assert response.status_code == 410
    assert "expired" in response.get_data(as_text=True)
    db.session.refresh(patient)
    assert patient.email_opted_out_at is None


@pytest.mark.parametrize("token", ["x", "not.a.token", "é" * 300, "%00", "eyJwIjoxfQ.forged.sig"])
def test_a_link_that_is_not_ours_is_not_found(client, token):
    assert client.get(f"/unsubscribe/{token}").status_code == 404
    assert client.post(f"/unsubscribe/{token}", data=ONE_CLICK).status_code == 404


def test_a_link_naming_a_staff_member_is_not_found(app, client, practitioner):
    path = urlsplit(link_for(practitioner.id, practitioner.email, NotificationType.TREATMENT_UPDATE, app.config)).path
    assert client.post(path, data={"scope": "all"}).status_code == 404
