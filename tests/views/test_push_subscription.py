"""The inbox page registers the browser's push subscription, and forgets it on request."""

import base64
import json
import os

import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from app.extensions import db
from app.models import Device
from tests.conftest import csrf_token_from


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def browser_subscription(endpoint: str = "https://push.example.net/send/abc123") -> dict:
    """What PushSubscription.toJSON() gives the page."""
    public = ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    keys = {"p256dh": b64url(public), "auth": b64url(os.urandom(16))}
    return {"endpoint": endpoint, "expirationTime": None, "keys": keys}


@pytest.fixture
def inbox(client, login, patient):
    login(patient)
    token = csrf_token_from(client.get("/inbox").get_data(as_text=True))

    def post(path: str, body, **headers):
        data = body if isinstance(body, str | bytes) else json.dumps(body)
        return client.post(path, data=data, headers={"Content-Type": "application/json", "Accept": "application/json",
                                                      "X-CSRFToken": token, **headers})

    return post


def browsers() -> list[Device]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(Device).where(Device.kind == "webpush")))


def test_a_patient_registers_their_browser(inbox, patient):
    subscription = browser_subscription()
    assert inbox("/inbox/push-subscription", subscription).status_code == 201
    [device] = browsers()
    assert (device.user_id, device.token, device.web_push_auth) == (
        patient.id, subscription["endpoint"], subscription["keys"]["auth"])


def test_registering_again_keeps_one_device_with_the_newest_keys(inbox):
    inbox("/inbox/push-subscription", browser_subscription())
    renewed = browser_subscription()
    inbox("/inbox/push-subscription", renewed)
    [device] = browsers()
    assert device.web_push_p256dh == renewed["keys"]["p256dh"]


def test_a_browser_someone_else_registered_now_reaches_whoever_registered_it_last(inbox, patient, other_patient):
    db.session.add(Device(user_id=other_patient.id, kind="webpush", token=browser_subscription()["endpoint"]))
    db.session.commit()
    inbox("/inbox/push-subscription", browser_subscription())
    assert [device.user_id for device in browsers()] == [patient.id]


@pytest.mark.parametrize("body", [
    "not json",
    [1, 2],
    {"endpoint": "http://push.example.net/send/1", "keys": browser_subscription()["keys"]},
    {"endpoint": "https://push.example.net/send/1"},
    {"endpoint": "https://push.example.net/send/1", "keys": {"p256dh": "abc", "auth": "def"}},
    {"endpoint": "https://push.example.net/" + "x" * 3000, "keys": browser_subscription()["keys"]},
    {"endpoint": "https://push.example.net/\x00", "keys": browser_subscription()["keys"]},
])
def test_a_subscription_no_browser_could_give_is_refused_and_nothing_is_kept(inbox, body):
    response = inbox("/inbox/push-subscription", body)
    assert response.status_code == 422
    assert response.is_json
    assert browsers() == []


def test_registering_needs_the_pages_form_token(inbox):
    assert inbox("/inbox/push-subscription", browser_subscription(), **{"X-CSRFToken": ""}).status_code == 400
    assert browsers() == []


def test_staff_cannot_register_a_browser_as_a_patient(client_request, practitioner):
    client_request.login(practitioner).get("/compose")
    response = client_request.client.post("/inbox/push-subscription", json=browser_subscription(),
                                           headers={"X-CSRFToken": client_request.csrf_token or ""})
    assert response.status_code == 403
    assert browsers() == []


def test_a_patient_forgets_their_browser(inbox):
    subscription = browser_subscription()
    inbox("/inbox/push-subscription", subscription)
    response = inbox("/inbox/push-subscription/remove", {"endpoint": subscription["endpoint"]})
    assert response.get_json() == {"removed": True}
    assert browsers() == []


def test_a_patient_cannot_remove_another_patients_browser(inbox, other_patient):
    endpoint = browser_subscription()["endpoint"]
    db.session.add(Device(user_id=other_patient.id, kind="webpush", token=endpoint))
    db.session.commit()
    assert inbox("/inbox/push-subscription/remove", {"endpoint": endpoint}).get_json() == {"removed": False}
    assert [device.user_id for device in browsers()] == [other_patient.id]
