"""Fixtures for the JSON API: keys made by an admin, and a client that speaks JSON with one."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests import factories

ALL_SCOPES = ("send", "read", "appointments", "patients")


class ApiClient:
    """The test client with a key: every call sends `Authorization: Bearer <token>`."""

    def __init__(self, client: FlaskClient, token: str | None) -> None:
        self.client = client
        self.token = token

    def headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        auth = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        return {**auth, **(extra or {})}

    def get(self, path: str, **kwargs: Any) -> TestResponse:
        return self.client.get("/api/v1" + path, headers=self.headers(kwargs.pop("headers", None)), **kwargs)

    def post(self, path: str, json: Any = None, **kwargs: Any) -> TestResponse:
        return self.client.post("/api/v1" + path, json=json, headers=self.headers(kwargs.pop("headers", None)),
                                **kwargs)


@pytest.fixture
def api_token(admin) -> str:
    return factories.create_api_key(admin=admin, scopes=ALL_SCOPES)


@pytest.fixture
def api(client: FlaskClient, api_token: str) -> ApiClient:
    """A client with a key of every scope."""
    return ApiClient(client, api_token)


@pytest.fixture
def api_with(client: FlaskClient, admin):
    """A client with a new key of the given scopes (or a given token)."""

    def make(*scopes: str, token: str | None = None) -> ApiClient:
        return ApiClient(client, token if token is not None else factories.create_api_key(admin=admin, scopes=scopes))

    return make


def assert_problem(response: TestResponse, status: int) -> dict[str, Any]:
    """The answer is an RFC 9457 problem with `status`; returns its body."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json(force=True)
    assert body["status"] == status
    assert body["title"] and body["detail"]
    assert isinstance(body["errors"], list)
    return body
