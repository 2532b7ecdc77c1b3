"""Signing in and out, and what each role may open."""

import pytest

from app.services.accounts import authenticate
from tests import factories
from tests.conftest import csrf_token_from, log_in
from tests.pages import field_error


def test_the_login_page_is_public_and_has_a_csrf_token(client):
    response = client.get("/login")
    assert response.status_code == 200
    assert csrf_token_from(response.get_data(as_text=True))


@pytest.mark.parametrize("path", ["/", "/inbox", "/dashboard", "/admin"])
def test_every_other_page_needs_a_login(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


@pytest.mark.parametrize("user_fixture,landing", [("patient", "/inbox"), ("practitioner", "/monitor"),
                                                   ("admin", "/admin/log")])
def test_each_role_lands_on_its_home(request, login, user_fixture, landing):
    client = login(request.getfixturevalue(user_fixture))
    assert client.get("/").headers["Location"] == landing


def test_a_wrong_password_is_refused_without_saying_which_part_was_wrong(client, patient):
    response = log_in(client, patient, password="not the password")
    assert response.status_code == 422
    assert "do not match" in response.get_data(as_text=True)


def test_an_unknown_email_gets_the_same_answer(client):
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"email": "nobody@clinic.test", "password": "whatever-it-is",
                                           "csrf_token": token})
    assert response.status_code == 422
    assert "do not match" in response.get_data(as_text=True)


def test_an_empty_form_gets_field_errors(client_request):
    client_request.get("/login")
    page = client_request.post("/login", expected_status=422)
    assert (field_error(page, "email"), field_error(page, "password")) == ("Enter your email", "Enter your password")


def test_a_login_without_csrf_token_is_refused(client, patient):
    response = client.post("/login", data={"email": patient.email, "password": factories.TEST_PASSWORD})
    assert response.status_code == 400
    assert "expired" in response.get_data(as_text=True)


def test_a_deactivated_user_cannot_sign_in(client, practitioner):
    gone = factories.create_patient(practitioner=practitioner, active=False)
    assert log_in(client, gone).status_code == 422


def test_next_only_leads_to_this_site(client, patient):
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    form = {"email": patient.email, "password": factories.TEST_PASSWORD, "csrf_token": token}
    response = client.post("/login?next=https://evil.example/", data=form)
    assert response.headers["Location"] == "/"


def test_next_leads_back_to_the_page_asked_for(client, patient):
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    form = {"email": patient.email, "password": factories.TEST_PASSWORD, "csrf_token": token}
    assert client.post("/login?next=/inbox", data=form).headers["Location"] == "/inbox"


def test_logout_needs_a_post_with_csrf(login, patient):
    client = login(patient)
    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 400
    token = csrf_token_from(client.get("/inbox").get_data(as_text=True))
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/inbox").status_code == 302


def test_one_clients_sign_in_is_not_another_clients(app, login, patient):
    login(patient)
    assert app.test_client().get("/inbox").headers["Location"].startswith("/login")


def test_passwords_are_stored_as_argon2_hashes(patient):
    assert patient.password_hash.startswith("$argon2id$")
    assert authenticate(patient.email, factories.TEST_PASSWORD) == patient


def test_email_matching_ignores_case(patient):
    assert authenticate(patient.email.upper(), factories.TEST_PASSWORD) == patient


@pytest.mark.parametrize("path", ["/dashboard", "/admin"])
def test_a_patient_gets_403_on_staff_pages(login, patient, path):
    assert login(patient).get(path).status_code == 403


def test_a_practitioner_gets_403_on_admin_pages(login, practitioner):
    assert login(practitioner).get("/admin").status_code == 403


def test_staff_get_403_on_the_patient_inbox(login, practitioner):
    assert login(practitioner).get("/inbox").status_code == 403


def test_json_callers_get_json_errors(client):
    response = client.get("/no-such-page", headers={"Accept": "application/json"})
    assert response.status_code == 404
    assert response.get_json()["error"] == "not_found"


def test_repeated_failed_sign_ins_from_one_address_are_slowed_down(client, practitioner):
    # Each on a different account, so only the limit per address applies.
    accounts = [factories.create_patient(practitioner=practitioner) for _ in range(11)]
    responses = [log_in(client, account, password="wrong guess!") for account in accounts]
    assert [r.status_code for r in responses[:10]] == [422] * 10
    assert responses[10].status_code == 429
    assert "Too many sign-in attempts" in responses[10].get_data(as_text=True)


def test_the_login_page_itself_is_not_limited(client):
    assert all(client.get("/login").status_code == 200 for _ in range(15))
