"""Cancel and reschedule over the API: Monitor's services, on the whole message, attributable to the key."""

from datetime import timedelta

import sqlalchemy as sa

from app.clock import utcnow
from app.extensions import db
from app.models.audit_event import AuditAction, AuditEvent
from app.models.status import Status
from tests import factories
from tests.api.conftest import assert_problem


def _scheduled(admin, patient):
    return factories.create_send(sender=admin, recipients=[patient], channels=["in_app", "email"],
                                 scheduled_at=utcnow() + timedelta(hours=2))


def test_cancel_cancels_every_waiting_channel_of_the_message(api, admin, patient):
    result = _scheduled(admin, patient)
    response = api.post(f"/notifications/{result.items[0].notification_id}/cancel")
    assert response.status_code == 200
    assert set(response.get_json()["changed"]) == {"in_app", "email"}
    assert {n.status for n in factories.notifications()} == {Status.CANCELLED}


def test_a_cancel_is_in_the_audit_log_naming_the_key(api, admin, patient):
    result = _scheduled(admin, patient)
    api.post(f"/notifications/{result.items[0].notification_id}/cancel")
    used = db.session.scalars(sa.select(AuditEvent.detail).where(AuditEvent.action == AuditAction.API_KEY_USED))
    assert any("did=cancel" in detail for detail in used)


def test_reschedule_moves_the_message(api, admin, patient):
    result = _scheduled(admin, patient)
    when = (utcnow() + timedelta(days=1)).replace(microsecond=0)
    response = api.post(f"/notifications/{result.items[0].notification_id}/reschedule",
                        json={"scheduled_at": when.isoformat()})
    assert response.status_code == 200, response.get_json()
    assert {n.scheduled_at for n in factories.notifications()} == {when}


def test_a_time_in_the_past_is_a_field_error(api, admin, patient):
    result = _scheduled(admin, patient)
    body = assert_problem(api.post(f"/notifications/{result.items[0].notification_id}/reschedule",
                                   json={"scheduled_at": "2020-01-01T00:00:00+00:00"}), 422)
    assert body["errors"][0]["field"] == "scheduled_at"


def test_cancelling_an_unknown_notification_is_404(api):
    assert_problem(api.post("/notifications/" + "f" * 32 + "/cancel"), 404)
