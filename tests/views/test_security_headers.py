"""Every response of every route carries the security headers; nothing with patient data is cached.

The routes come from the app's URL map, not a list: a new route is covered the day it is added
(and this test asks for a sample argument or a role if it cannot build the route's URL).
"""


from app import create_app
from tests.conftest import base_settings
from tests.url_map import every_request, is_public, roles_for


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
    for endpoint, method, url, headers in every_request(app, samples):
        roles = () if is_public(endpoint) else roles_for(endpoint)
        client, token = clients[roles[0] if roles else None]  # no role reaches the API: its refusal, then
        response = client.open(url, method=method, headers={"X-CSRFToken": token, **headers})
        assert not roles or response.status_code not in (401, 403), f"{method} {url} was refused to its own role"
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

