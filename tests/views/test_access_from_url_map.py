"""Who may reach what, for every route in the URL map: nobody signed out, and no role an area is not for.

A route added tomorrow is covered by these tests without anyone listing it; a new area fails
them until tests/url_map.py says which roles it is for.
"""

import pytest

from tests.url_map import LAST, every_request, is_public, roles_for

ROLES = ("patient", "practitioner", "admin")


def refused(response) -> bool:
    """Refused outright (401 where only an API key would do, 403, or 404 for what the viewer may
    not know exists) or sent to sign in."""
    if response.status_code in (401, 403, 404):
        return True
    return response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_every_route_but_sign_in_static_files_and_webhooks_sends_the_signed_out_to_sign_in(app, samples, clients):
    client, token = clients[None]
    checked = []
    for endpoint, method, url, headers in every_request(app, samples):
        if is_public(endpoint):
            continue
        response = client.open(url, method=method, headers={"X-CSRFToken": token, **headers})
        assert refused(response), f"{method} {url} answered {response.status_code} to someone signed out"
        checked.append(endpoint)
    assert len(checked) >= 30


@pytest.mark.parametrize("role", ROLES)
def test_every_route_refuses_a_role_its_area_is_not_for(app, samples, clients, role):
    client, token = clients[role]
    checked = []
    for endpoint, method, url, headers in every_request(app, samples):
        if is_public(endpoint) or endpoint == LAST or role in roles_for(endpoint):
            continue
        response = client.open(url, method=method, headers={"X-CSRFToken": token, **headers})
        assert refused(response), f"{method} {url} answered {response.status_code} to a {role}"
        checked.append(endpoint)
    assert checked
