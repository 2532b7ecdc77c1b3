"""Every response of every route carries the security headers; nothing with patient data is cached.

The routes come from the app's URL map, not a list: a new route is covered the day it is added
(and this test asks for a sample argument or a role if it cannot build the route's URL).
"""

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app import create_app
from app.services.outbox import SendRequest, create_send
from tests.conftest import base_settings, csrf_token_from, log_in

# Who opens each area: the role its pages are for (None: anyone, signed in or not).
ROLE_FOR_BLUEPRINT = {
    "auth": None,
    "home": "patient",
    "inbox": "patient",
    "dashboard": "practitioner",
    "admin": "admin",
    "webhooks": None,
    "ws": "patient",
}
# Signing out ends the session the other requests use, so it goes last.
LAST = "auth.logout"


@pytest.fixture
def samples(practitioner, patient, other_patient, run_worker) -> dict[str, object]:
    """A value for every URL argument a route may take (a delivered in-app message for the ids)."""
    result = create_send(practitioner, SendRequest(type="treatment_update", recipient_ids=[patient.id],
                                                   channels=["in_app"], title="Rest", body="Rest well."))
    run_worker()
    return {
        "public_id": result.items[0].notification_id,
        "group_id": result.group_id,
        "patient_id": patient.id,
        "user_id": other_patient.id,  # the admin's POSTs (deactivate, ...) act on someone not signed in
        "job_id": "no-such-job",
        "filename": "css/app.css",
    }


@pytest.fixture
def clients(app: Flask, patient, practitioner, admin) -> dict[str | None, tuple[FlaskClient, str]]:
    """A signed-in client per role (and an anonymous one), each with its CSRF token."""
    signed_in = {}
    for role, user in (("patient", patient), ("practitioner", practitioner), ("admin", admin), (None, None)):
        client = app.test_client()
        if user is not None:
            assert log_in(client, user).status_code == 302
        page = "/login" if user is None else {"patient": "/inbox", "practitioner": "/compose",
                                              "admin": "/admin/users/new"}[role]
        signed_in[role] = (client, csrf_token_from(client.get(page).get_data(as_text=True)))
    return signed_in


def every_request(app: Flask, samples: dict[str, object]):
    """(endpoint, method, url) for every route and method in the URL map, sign-out last."""
    found = []
    adapter = app.url_map.bind("localhost")
    for rule in app.url_map.iter_rules():
        missing = set(rule.arguments) - set(samples)
        assert not missing, f"{rule.endpoint}: add a sample value for {sorted(missing)}"
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            url = adapter.build(rule.endpoint, {name: samples[name] for name in rule.arguments}, method=method)
            url = url.removeprefix("ws://localhost")  # the inbox socket's rule builds a ws:// URL
            found.append((rule.endpoint, method, url))
    return sorted(found, key=lambda request: request[0] == LAST)


def assert_secure_headers(response, endpoint: str) -> None:
    headers = response.headers
    policy = headers.get("Content-Security-Policy", "")
    where = f"{endpoint} ({response.status_code})"
    assert "default-src 'self'" in policy and "script-src 'self'" in policy, where
    assert "frame-ancestors 'none'" in policy and "unsafe-inline" not in policy, where
    assert headers.get("X-Frame-Options") == "DENY", where
    assert headers.get("X-Content-Type-Options") == "nosniff", where
    assert headers.get("Referrer-Policy") == "same-origin", where
    if endpoint == "static":
        assert "no-store" not in headers.get("Cache-Control", ""), where
    else:
        assert headers.get("Cache-Control") == "no-store", where
    assert "Strict-Transport-Security" not in headers, where  # plain HTTP here


def test_every_route_answers_with_the_security_headers(app, samples, clients):
    requested = 0
    for endpoint, method, url in every_request(app, samples):
        blueprint = endpoint.partition(".")[0]
        assert blueprint == "static" or blueprint in ROLE_FOR_BLUEPRINT, f"{endpoint}: which role opens it?"
        client, token = clients[ROLE_FOR_BLUEPRINT.get(blueprint)]
        response = client.open(url, method=method, headers={"X-CSRFToken": token})
        assert response.status_code not in (401, 403), f"{method} {url} was refused to its own role"
        assert_secure_headers(response, endpoint)
        requested += 1
    assert requested >= 40


def test_pages_of_patient_data_and_the_csv_export_are_never_stored(login, admin, samples):
    client = login(admin)
    for url in ("/admin/log", "/admin/log.csv", f"/notifications/{samples['public_id']}", "/monitor"):
        assert client.get(url).headers["Cache-Control"] == "no-store", url


def test_error_pages_carry_the_headers_too(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert_secure_headers(response, "none")


def test_over_https_browsers_are_told_to_use_https_only(client):
    response = client.get("/login", base_url="https://localhost")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")


def test_behind_a_trusted_proxy_its_https_counts(database_url, redis_url):
    app = create_app({**base_settings(database_url, redis_url), "TRUSTED_PROXIES": 1})
    response = app.test_client().get("/login", headers={"X-Forwarded-Proto": "https"})
    assert "Strict-Transport-Security" in response.headers


def test_without_trusted_proxies_a_forwarded_https_is_ignored(client):
    response = client.get("/login", headers={"X-Forwarded-Proto": "https"})
    assert "Strict-Transport-Security" not in response.headers


def test_the_policy_allows_no_inline_script_and_only_the_emails_own_styles():
    from app.views.security_headers import content_security_policy

    directives = dict(part.strip().split(" ", 1) for part in content_security_policy().split(";"))
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["style-src-attr"].count("'sha256-") == 2
    assert "unsafe-eval" not in content_security_policy()

