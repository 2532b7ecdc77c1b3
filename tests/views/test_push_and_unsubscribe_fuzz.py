"""Whatever a browser or a mail client sends to the push-subscription and unsubscribe routes, the
answer is a clear refusal or success, never a 5xx, and a refusal keeps nothing."""

import json

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st

from app.extensions import db
from app.models import Device
from tests.conftest import csrf_token_from
from tests.strategies import FUZZ, json_values_of, odd_text

keys = st.fixed_dictionaries({"p256dh": odd_text(100), "auth": odd_text(30)})
subscriptions = st.one_of(
    json_values_of(odd_text(60)),
    st.fixed_dictionaries({"endpoint": st.one_of(odd_text(80), st.just("https://push.example.net/x")),
                           "keys": st.one_of(keys, json_values_of(odd_text(20)))}),
)


def device_count() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Device))


@pytest.fixture
def subscribe(client, login, patient):
    """Post a body as the signed-in patient's inbox page would (once signed in for every example)."""
    login(patient)
    token = csrf_token_from(client.get("/inbox").get_data(as_text=True))
    headers = {"Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": token}
    return lambda body: client.post("/inbox/push-subscription", data=json.dumps(body), headers=headers)


@FUZZ
@given(body=subscriptions)
def test_any_subscription_body_is_kept_or_refused_but_never_an_error(subscribe, body):
    before = device_count()
    response = subscribe(body)
    assert response.status_code in (201, 422), response.get_data(as_text=True)
    assert device_count() == before + (1 if response.status_code == 201 else 0)


@FUZZ
@given(token=odd_text(300), form=st.dictionaries(odd_text(20), odd_text(20), max_size=3))
def test_any_unsubscribe_link_is_not_found_and_changes_nothing(client, patient, token, form):
    for response in (client.get(f"/unsubscribe/{token}"), client.post(f"/unsubscribe/{token}", data=form)):
        assert response.status_code in (404, 405, 308), response.status_code
    db.session.refresh(patient)
    assert patient.email_opted_out_at is None
