"""Reading notifications: one by id, and the list with filters and cursor pages."""

from datetime import timedelta

from app.clock import utcnow
from app.models.status import Status
from tests import factories
from tests.api.conftest import assert_problem


def test_one_notification_by_its_id(api, admin, patient):
    result = factories.create_send(sender=admin, recipients=[patient])
    body = api.get(f"/notifications/{result.items[0].notification_id}").get_json()
    assert body["id"] == result.items[0].notification_id
    assert (body["patient_id"], body["channel"], body["status"]) == (patient.id, "in_app", "queued")


def test_an_unknown_notification_is_a_404_problem(api):
    assert_problem(api.get("/notifications/" + "0" * 32), 404)


def test_an_unknown_route_is_a_404_problem(api):
    assert_problem(api.get("/no-such-thing"), 404)


def test_a_method_a_route_does_not_take_is_a_405_problem(api):
    response = api.client.delete("/api/v1/notifications", headers=api.headers())
    assert_problem(response, 405)
    assert "POST" in response.headers["Allow"]


def test_cursor_pages_show_every_item_once_newest_first(api, admin, patient, other_patient):
    for i in range(7):
        factories.create_send(sender=admin, recipients=[patient, other_patient], title=f"Note {i}")
    every = [n.public_id for n in factories.notifications()][::-1]
    seen, cursor = [], None
    while True:
        page = api.get("/notifications", query_string={"limit": 3, **({"cursor": cursor} if cursor else {})})
        body = page.get_json()
        seen += [item["id"] for item in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == every


def test_filters_narrow_the_list(api, admin, patient, other_patient):
    factories.create_send(sender=admin, recipients=[patient], channels=["in_app", "email"])
    factories.create_send(sender=admin, recipients=[other_patient], status=Status.DELIVERED)
    items = api.get("/notifications", query_string={"patient": patient.id, "channel": "email"}).get_json()["items"]
    assert [(i["patient_id"], i["channel"]) for i in items] == [(patient.id, "email")]
    delivered = api.get("/notifications", query_string={"status": "delivered"}).get_json()["items"]
    assert [i["patient_id"] for i in delivered] == [other_patient.id]
    later = (utcnow() + timedelta(minutes=1)).isoformat()
    assert api.get("/notifications", query_string={"since": later}).get_json()["items"] == []


def test_a_bad_cursor_is_a_problem_not_a_500(api):
    for cursor in ("not-a-cursor", "bjE6", "%%%", "eA"):
        body = assert_problem(api.get("/notifications", query_string={"cursor": cursor}), 422)
        assert body["errors"][0]["field"] == "cursor"


def test_a_bad_filter_is_a_field_error(api):
    body = assert_problem(api.get("/notifications", query_string={"status": "lost", "limit": 0}), 422)
    assert {e["field"] for e in body["errors"]} == {"status", "limit"}
