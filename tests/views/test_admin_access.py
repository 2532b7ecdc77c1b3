"""Who may open the admin area: admins only; everyone else is refused or sent to sign in."""

import pytest

from tests.conftest import csrf_token_from

PAGES = ["/admin/log", "/admin/log.csv", "/admin/stats", "/admin/queues", "/admin/users", "/admin/users/new",
         "/admin/outbox"]
ACTIONS = ["/admin/queues/failed/some-job/retry", "/admin/queues/failed/retry-all", "/admin/users/new",
           "/admin/users/1/deactivate", "/admin/users/1/reactivate", "/admin/users/1/practitioner"]


def test_an_admin_can_open_every_admin_page(login, admin):
    client = login(admin)
    assert {path: client.get(path).status_code for path in PAGES} == {path: 200 for path in PAGES}


@pytest.mark.parametrize("role", ["practitioner", "patient"])
def test_practitioners_and_patients_are_refused_every_admin_page(request, login, role):
    client = login(request.getfixturevalue(role))
    assert {path: client.get(path).status_code for path in PAGES} == {path: 403 for path in PAGES}


@pytest.mark.parametrize("role", ["practitioner", "patient"])
def test_practitioners_and_patients_cannot_post_admin_actions(request, login, role):
    client = login(request.getfixturevalue(role))
    token = csrf_token_from(client.get("/admin/log").get_data(as_text=True))  # the 403 page carries one
    statuses = {path: client.post(path, data={"csrf_token": token}).status_code for path in ACTIONS}
    assert statuses == {path: 403 for path in ACTIONS}


def test_an_anonymous_visitor_is_sent_to_sign_in(client):
    for path in PAGES:
        response = client.get(path)
        assert response.status_code == 302 and response.headers["Location"].startswith("/login"), path


def test_admin_actions_without_a_csrf_token_are_refused(login, admin):
    client = login(admin)
    assert {path: client.post(path).status_code for path in ACTIONS} == {path: 400 for path in ACTIONS}


def test_the_admin_home_opens_on_the_delivery_log(login, admin):
    assert login(admin).get("/admin").headers["Location"] == "/admin/log"
