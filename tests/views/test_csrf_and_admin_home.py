"""The admin area opens on the delivery log; every form in the product needs its CSRF token."""

from tests.url_map import PUBLIC_BLUEPRINTS, PUBLIC_ENDPOINTS, blueprint_of, every_request, roles_for


def test_the_admin_home_opens_on_the_delivery_log(login, admin):
    assert login(admin).get("/admin").headers["Location"] == "/admin/log"


def test_every_post_without_a_csrf_token_is_refused_even_to_its_own_role(app, samples, clients):
    checked = []
    for endpoint, method, url, _ in every_request(app, samples):
        if method != "POST" or blueprint_of(endpoint) in PUBLIC_BLUEPRINTS:  # webhooks are signed instead
            continue
        if not roles_for(endpoint):  # the API: a Bearer key, never a cookie, so nothing to forge
            continue
        client, _ = clients[None if endpoint in PUBLIC_ENDPOINTS else roles_for(endpoint)[0]]
        response = client.post(url)
        assert response.status_code == 400, f"POST {url} without a CSRF token answered {response.status_code}"
        checked.append(endpoint)
    assert len(checked) >= 10
