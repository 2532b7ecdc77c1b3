"""Who the API answers: a live key with the route's scope, sent as a Bearer token, and nothing else."""

import sqlalchemy as sa

from app.extensions import db
from app.models.api_key import ApiKey
from app.services import api_keys, user_admin
from tests import factories
from tests.api.conftest import ApiClient, assert_problem
from tests.conftest import log_in


def test_a_key_with_the_scope_reads(api):
    assert api.get("/notifications").status_code == 200


def test_a_missing_authorization_header_is_401_asking_for_a_bearer_key(client):
    response = client.get("/api/v1/notifications")
    assert_problem(response, 401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_an_unknown_key_is_401(client, admin):
    assert_problem(ApiClient(client, "sutra_not-a-key-anyone-made").get("/notifications"), 401)


def test_a_revoked_key_stops_working_at_once(api, admin, api_token):
    import sqlalchemy as sa

    from app.extensions import db
    from app.models.api_key import ApiKey

    assert api.get("/notifications").status_code == 200
    key_id = db.session.scalar(sa.select(ApiKey.id))
    api_keys.revoke_key(admin, key_id)
    assert_problem(api.get("/notifications"), 401)


def test_a_key_without_the_scope_is_403(api_with):
    reader = api_with("read")
    body = assert_problem(reader.post("/notifications", json={"type": "health_alert"}), 403)
    assert "send" in body["detail"]


def test_a_session_cookie_alone_does_not_authenticate(client, admin):
    assert log_in(client, admin).status_code == 302
    assert_problem(client.get("/api/v1/notifications"), 401)


def test_a_key_stops_working_when_its_admin_is_deactivated(api, admin):
    other_admin = factories.create_admin()
    user_admin.set_active(other_admin, admin.id, False)
    assert_problem(api.get("/notifications"), 401)


def test_use_is_recorded_at_most_once_a_minute(api):
    api.get("/notifications")
    first = db.session.scalar(sa.select(ApiKey.last_used_at))
    api.get("/notifications")
    db.session.expire_all()
    assert first is not None and db.session.scalar(sa.select(ApiKey.last_used_at)) == first
