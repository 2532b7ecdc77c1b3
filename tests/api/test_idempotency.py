"""An Idempotency-Key on a POST: the same request again gets the first answer; another request is refused."""

from tests import factories
from tests.api.conftest import ApiClient, assert_problem


def _send(api, patient, key, body="Rest well"):
    return api.post("/notifications", json={"type": "treatment_update", "recipient_ids": [patient.id], "body": body},
                    headers={"Idempotency-Key": key})


def test_the_same_key_and_body_return_the_first_answer_and_send_once(api, patient):
    first = _send(api, patient, "visit-42")
    again = _send(api, patient, "visit-42")
    assert (again.status_code, again.get_json()) == (first.status_code, first.get_json())
    assert len(factories.notifications()) == len(first.get_json()["recipients"][0]["channels"])


def test_the_same_key_with_another_body_is_422(api, patient):
    _send(api, patient, "visit-42")
    body = assert_problem(_send(api, patient, "visit-42", body="Something else"), 422)
    assert "different request" in body["detail"]


def test_keys_are_per_api_key(api, patient, client, admin):
    other = ApiClient(client, factories.create_api_key(admin=admin, scopes=["send"]))
    _send(api, patient, "visit-42")
    assert _send(other, patient, "visit-42", body="Another clinic system's request").status_code == 201


def test_a_key_the_outbox_would_refuse_is_a_field_error(api, patient):
    body = assert_problem(_send(api, patient, "x" * 300), 422)
    assert body["errors"][0]["field"] == "Idempotency-Key"


def test_a_refused_request_keeps_no_answer_so_its_key_can_be_used_once_fixed(api, patient):
    refused = api.post("/notifications", json={"type": "treatment_update", "recipient_ids": [patient.id]},
                       headers={"Idempotency-Key": "visit-43"})
    assert refused.status_code == 422
    assert _send(api, patient, "visit-43").status_code == 201


def test_a_cancel_retried_with_its_key_answers_as_the_first_time(api, patient):
    sent = _send(api, patient, "visit-44", body="Later").get_json()
    notification_id = sent["recipients"][0]["channels"][0]["notification_id"]
    first = api.post(f"/notifications/{notification_id}/cancel", headers={"Idempotency-Key": "cancel-1"})
    again = api.post(f"/notifications/{notification_id}/cancel", headers={"Idempotency-Key": "cancel-1"})
    assert first.status_code == 200 and first.get_json()["changed"]
    assert (again.status_code, again.get_json()) == (first.status_code, first.get_json())



def test_an_idempotency_key_in_the_body_counts_as_the_header(api, patient):
    asked = {"type": "treatment_update", "recipient_ids": [patient.id], "body": "Rest well"}
    first = api.post("/notifications", json={**asked, "idempotency_key": "visit-45"})
    again = _send(api, patient, "visit-45")
    assert first.status_code == 201 and again.get_json() == first.get_json()


def test_a_body_key_that_differs_from_the_header_is_a_field_error(api, patient):
    response = api.post("/notifications", json={"type": "treatment_update", "recipient_ids": [patient.id],
                                                "body": "Hi", "idempotency_key": "one"},
                        headers={"Idempotency-Key": "two"})
    assert assert_problem(response, 422)["errors"][0]["field"] == "idempotency_key"
