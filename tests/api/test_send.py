"""POST /api/v1/notifications: the compose form's request and the outbox's path, over JSON."""

import time

import sqlalchemy as sa

from app.extensions import db
from app.models.audit_event import AuditAction, AuditEvent
from app.models.notification import Notification
from tests import factories
from tests.api.conftest import assert_problem
from tests.conftest import queued_job_ids


def test_a_send_answers_each_patients_channels_with_their_ids(api, patient, other_patient):
    response = api.post("/notifications", json={
        "type": "treatment_update", "recipient_ids": [patient.id, other_patient.id], "channels": ["in_app", "sms"],
        "title": "Rest well", "body": "Rest well after your session.",
    })
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    by_patient = {r["patient_id"]: r["channels"] for r in body["recipients"]}
    assert {c["channel"] for c in by_patient[patient.id]} == {"in_app", "sms"}
    stored = {n.public_id for n in factories.notifications()}
    assert {c["notification_id"] for channels in by_patient.values() for c in channels} == stored


def test_a_suppressed_channel_comes_back_with_its_reason(api, practitioner):
    no_phone = factories.create_patient(practitioner=practitioner, phone=None)
    response = api.post("/notifications", json={
        "type": "treatment_update", "recipient_ids": [no_phone.id], "channels": ["sms"], "body": "Hello",
    })
    [sms, *_fallback] = response.get_json()["recipients"][0]["channels"]
    assert (sms["channel"], sms["status"]) == ("sms", "suppressed") and sms["reason"]


def test_a_send_is_in_the_audit_log_naming_the_key(api, patient):
    api.post("/notifications", json={"type": "treatment_update", "recipient_ids": [patient.id], "body": "Hi"})
    actions = {e.action: e.detail for e in db.session.scalars(sa.select(AuditEvent))}
    assert AuditAction.SEND_CREATED in actions
    assert "key=" in actions[AuditAction.API_KEY_USED] and "did=send" in actions[AuditAction.API_KEY_USED]


def test_a_validation_error_lists_every_field_and_writes_nothing(api):
    response = api.post("/notifications", json={"type": "no_such_type", "recipient_ids": [], "channels": []})
    body = assert_problem(response, 422)
    assert {"type", "channels"} <= {e["field"] for e in body["errors"]}
    assert all(e["message"] for e in body["errors"])
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Notification)) == 0


def test_an_unknown_patient_is_a_field_error_and_writes_nothing(api):
    body = assert_problem(api.post("/notifications", json={"type": "treatment_update", "recipient_ids": [999],
                                                           "body": "Hi"}), 422)
    assert [e["field"] for e in body["errors"]] == ["recipients"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Notification)) == 0


def test_malformed_json_is_a_400_problem(api):
    response = api.client.post("/api/v1/notifications", data="{not json",
                               headers=api.headers({"Content-Type": "application/json"}))
    assert_problem(response, 400)


def test_a_body_that_is_not_json_is_415(api):
    response = api.client.post("/api/v1/notifications", data="type=health_alert",
                               headers=api.headers({"Content-Type": "application/x-www-form-urlencoded"}))
    assert_problem(response, 415)


def test_json_that_is_not_an_object_is_422(api):
    body = assert_problem(api.post("/notifications", json=["treatment_update"]), 422)
    assert body["errors"][0]["field"] == "request"


def test_ten_thousand_recipients_go_in_one_request_within_seconds(api, practitioner, redis):
    patients = _many_patients(10_000, practitioner)
    started = time.monotonic()
    response = api.post("/notifications", json={
        "type": "treatment_update", "recipient_ids": patients, "channels": ["in_app"], "body": "Clinic closed Friday",
    })
    elapsed = time.monotonic() - started
    assert response.status_code == 201, response.get_data(as_text=True)[:500]
    assert len(response.get_json()["recipients"]) == 10_000
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Notification)) == 10_000
    jobs = sum(len(ids) for ids in queued_job_ids(redis).values())
    assert jobs == 10_000 // 50  # DELIVERY_BATCH_SIZE in the tests: batches, not one job per row
    assert elapsed < 60, f"took {elapsed:.1f} s"
    print(f"10,000-recipient send answered in {elapsed:.2f} s")


def _many_patients(count: int, practitioner) -> list[int]:
    """Patients inserted in one statement: the users themselves are not what is measured."""
    from app.models.user import User
    from app.vocabulary import Role

    rows = [{"role": Role.PATIENT, "name": f"Patient {i}", "email": f"bulk{i}@clinic.test", "timezone": "Asia/Kolkata",
             "locale": "en", "active": True, "practitioner_id": practitioner.id, "preferred_channels": ["in_app"],
             "created_at": factories.utcnow()} for i in range(count)]
    ids = list(db.session.scalars(sa.insert(User).returning(User.id, sort_by_parameter_order=True), rows))
    db.session.commit()
    return ids
