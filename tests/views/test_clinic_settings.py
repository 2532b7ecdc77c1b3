"""The clinic's settings page, and what "two-factor sign-in required for staff" does."""

import pytest

from app.services import clinic_settings
from tests import factories
from tests.conftest import csrf_token_from, log_in

SETUP = "/account/two-factor/setup"


@pytest.fixture
def required(admin):
    clinic_settings.save_settings(admin, require_staff_two_factor=True)


def test_the_requirement_is_off_until_an_admin_turns_it_on(app):
    assert clinic_settings.current_settings().require_staff_two_factor is False


def test_an_admin_turns_the_requirement_on_from_the_settings_page(login, admin):
    client = login(factories.create_admin())
    factories.enrol_two_factor(admin)
    token = csrf_token_from(client.get("/admin/settings").get_data(as_text=True))
    response = client.post("/admin/settings", data={"require_staff_two_factor": "y", "csrf_token": token})
    assert response.status_code == 302
    saved = clinic_settings.current_settings()
    assert saved.require_staff_two_factor and saved.updated_by_id != admin.id


def test_the_settings_page_names_the_staff_without_it(login, admin, practitioner, patient):
    client = login(admin)
    factories.enrol_two_factor(admin)
    body = client.get("/admin/settings").get_data(as_text=True)
    assert "Staff without two-factor sign-in (1):" in body and "Dr. Vaidya Ramesh" in body
    assert "Priya Sharma" not in body


def test_staff_without_it_are_sent_to_set_it_up_after_signing_in(client, practitioner, required):
    log_in(client, practitioner)
    assert client.get("/").headers["Location"] == SETUP
    assert client.get(SETUP).status_code == 200


@pytest.mark.parametrize("path", ["/monitor", "/compose", "/account", "/admin/log"])
def test_staff_who_must_set_it_up_can_open_nothing_else(client, admin, required, path):
    log_in(client, admin)
    assert client.get(path).headers["Location"] == SETUP


def test_htmx_requests_move_the_whole_page_to_set_up(login, practitioner, required):
    response = login(practitioner).get("/monitor", headers={"HX-Request": "true"})
    assert response.headers["HX-Redirect"] == SETUP


def test_staff_who_must_set_it_up_can_still_sign_out(client, practitioner, required):
    log_in(client, practitioner)
    token = csrf_token_from(client.get(SETUP).get_data(as_text=True))
    assert client.post("/logout", data={"csrf_token": token}).headers["Location"] == "/login"


def test_once_set_up_staff_use_every_page_again(login, practitioner, required):
    client = login(practitioner)
    factories.enrol_two_factor(practitioner)
    assert client.get("/monitor").status_code == 200


def test_patients_are_not_made_to_set_it_up(login, patient, required):
    assert login(patient).get("/inbox").status_code == 200


def test_staff_cannot_turn_it_off_while_it_is_required(app, practitioner, admin):
    enrolment = factories.enrol_two_factor(practitioner)
    client = app.test_client()
    log_in(client, practitioner)
    token = csrf_token_from(client.get("/login/code").get_data(as_text=True))
    client.post("/login/code", data={"code": factories.code_for(enrolment.secret), "csrf_token": token})
    clinic_settings.save_settings(admin, require_staff_two_factor=True)
    page = client.get("/account").get_data(as_text=True)
    assert "cannot be turned off" in page and "/account/two-factor/disable" not in page
    response = client.post("/account/two-factor/disable",
                           data={"code": enrolment.recovery_codes[0], "csrf_token": csrf_token_from(page)})
    assert response.headers["Location"] == "/account"
    db_user = factories.reload(practitioner)
    assert db_user.two_factor_enabled
