"""The API keys page: an admin creates a key (its token shown once), sees the keys, revokes one."""

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models.api_key import ApiKey
from app.models.audit_event import AuditAction, AuditEvent
from tests.api.conftest import ApiClient
from tests.pages import field_error, one, text, texts


@pytest.fixture
def admin_pages(client_request, admin):
    return client_request.login(admin)


def create(admin_pages, expected_status=201, **fields):
    admin_pages.get("/admin/api-keys")
    return admin_pages.post("/admin/api-keys", data={"name": "Front desk", "scopes": ["send", "read"], **fields},
                            expected_status=expected_status)


def test_a_new_key_is_shown_once_and_stored_only_as_a_digest(admin_pages):
    page = create(admin_pages)
    token = text(one(page, "#new-token"))
    key = db.session.scalar(sa.select(ApiKey))
    assert token.startswith("sutra_") and token not in (key.token_hash, key.prefix)
    assert (key.name, key.scopes) == ("Front desk", ["send", "read"])
    assert token not in admin_pages.get("/admin/api-keys").get_text()


def test_the_new_key_works_and_its_creation_is_audited(admin_pages, client):
    token = text(one(create(admin_pages), "#new-token"))
    assert ApiClient(client, token).get("/notifications").status_code == 200
    assert db.session.scalar(sa.select(AuditEvent.action).where(AuditEvent.action == AuditAction.API_KEY_CREATED))


def test_the_list_shows_each_key_its_scopes_and_last_use(admin_pages, client):
    token = text(one(create(admin_pages), "#new-token"))
    page = admin_pages.get("/admin/api-keys")
    assert "Never" in texts(page, "table.data tbody td")
    ApiClient(client, token).get("/notifications")
    row = one(admin_pages.get("/admin/api-keys"), "table.data tbody tr")
    assert text(row.th) == "Front desk" and "send, read" in texts(row, "td")
    assert "Never" not in texts(row, "td")


def test_a_key_without_a_name_or_scope_is_refused_at_its_fields(admin_pages):
    page = create(admin_pages, expected_status=422, name="", scopes=[])
    assert field_error(page, "name") and field_error(page, "scopes")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ApiKey)) == 0


def test_revoking_a_key_refuses_its_next_request_and_is_audited(admin_pages, client):
    token = text(one(create(admin_pages), "#new-token"))
    key_id = db.session.scalar(sa.select(ApiKey.id))
    admin_pages.get("/admin/api-keys")
    admin_pages.post(f"/admin/api-keys/{key_id}/revoke", expected_redirect="/admin/api-keys")
    assert ApiClient(client, token).get("/notifications").status_code == 401
    assert db.session.scalar(sa.select(AuditEvent.action).where(AuditEvent.action == AuditAction.API_KEY_REVOKED))
    assert "Revoked" in text(one(admin_pages.get("/admin/api-keys"), "table.data tbody tr"))


@pytest.mark.parametrize("role", ["patient", "practitioner"])
def test_only_admins_reach_the_key_pages(client_request, role, request):
    user = request.getfixturevalue(role)
    pages = client_request.login(user)
    pages.get("/admin/api-keys", expected_status=403)
    pages.post("/admin/api-keys/1/revoke", expected_status=403)


def test_revoking_a_key_that_does_not_exist_is_404(admin_pages):
    admin_pages.get("/admin/api-keys")
    admin_pages.post("/admin/api-keys/99999999999999999999/revoke", expected_status=404)
