"""The account page: anyone signed in changes their own password there."""

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models.audit_event import AuditAction, AuditEvent
from tests import factories, passwords
from tests.conftest import log_in
from tests.pages import error_summary, field_error, one, text, texts

NEW = "monsoon over the western ghats"


def change(pages, *, current: str = factories.TEST_PASSWORD, new: str = NEW, again: str | None = None,
           expected_status: int = 302):
    pages.get("/account")
    return pages.post("/account/password", expected_status=expected_status, data={
        "current_password": current, "new_password": new, "confirm_password": new if again is None else again})


def test_the_account_page_needs_a_sign_in(client):
    assert client.get("/account").headers["Location"].startswith("/login")


@pytest.mark.parametrize("role", ["patient", "practitioner", "admin"])
def test_every_role_has_an_account_page_with_the_password_form(request, client_request, role):
    page = client_request.login(request.getfixturevalue(role)).get("/account")
    form = one(page, 'form[action="/account/password"]')
    assert form["method"] == "post" and form.select_one('input[name="csrf_token"]')["value"]


def test_a_change_without_a_csrf_token_is_refused(client_request, patient):
    client_request.login(patient).post("/account/password", csrf=False, expected_status=400, data={
        "current_password": factories.TEST_PASSWORD, "new_password": NEW, "confirm_password": NEW})


def test_the_current_password_must_be_right(app, client_request, patient):
    page = change(client_request.login(patient), current="not my password at all", expected_status=422)
    assert field_error(page, "current_password") == "That is not your current password"
    assert log_in(app.test_client(), patient).status_code == 302


def test_the_new_password_typed_twice_must_match(app, client_request, patient):
    page = change(client_request.login(patient), again=NEW + "!", expected_status=422)
    assert field_error(page, "confirm_password") == "The two new passwords are not the same: type them again"
    assert log_in(app.test_client(), patient).status_code == 302


def test_problems_are_listed_at_the_top_linked_to_their_fields(client_request, patient):
    page = change(client_request.login(patient), current="", again="", expected_status=422)
    assert error_summary(page) == {"current_password": "Enter your current password",
                                   "confirm_password": "Enter the new password again"}


@pytest.mark.parametrize("password,message", passwords.REFUSED)
def test_each_password_rule_is_refused_on_the_account_page(app, client_request, practitioner, password, message):
    user = factories.create_patient(practitioner=practitioner, name=passwords.NAME, email=passwords.EMAIL)
    page = change(client_request.login(user), new=password, expected_status=422)
    assert field_error(page, "new_password") == message
    assert log_in(app.test_client(), user).status_code == 302


def test_after_a_change_the_new_password_signs_in_and_the_old_one_does_not(app, client_request, practitioner):
    pages = client_request.login(practitioner)
    pages.get("/account")
    pages.post("/account/password", expected_redirect="/account", data={
        "current_password": factories.TEST_PASSWORD, "new_password": NEW, "confirm_password": NEW})
    assert log_in(app.test_client(), practitioner, password=NEW).status_code == 302
    assert log_in(app.test_client(), practitioner).status_code == 422


def test_repeated_wrong_current_passwords_are_slowed_down(client_request, patient):
    pages = client_request.login(patient)
    for _ in range(10):
        change(pages, current="a wrong guess!", expected_status=422)
    page = change(pages, current="a wrong guess!", expected_status=429)
    assert "Too many password attempts" in text(page.main)


def test_a_password_change_signs_out_every_other_device(app, client_request, patient):
    elsewhere = app.test_client()
    assert log_in(elsewhere, patient).status_code == 302
    here = client_request.login(patient)
    change(here)
    assert elsewhere.get("/inbox").headers["Location"].startswith("/login")
    assert "everywhere else is signed out" in " ".join(texts(here.get("/account"), ".flash"))
    here.get("/inbox")


def test_a_refused_password_change_signs_nobody_out(app, client_request, patient):
    elsewhere = app.test_client()
    assert log_in(elsewhere, patient).status_code == 302
    change(client_request.login(patient), current="not my password at all", expected_status=422)
    assert elsewhere.get("/inbox").status_code == 200


# --- time zone and language ---------------------------------------------------------------------


def change_zone(pages, expected_status: int = 302, **fields):
    pages.get("/account")
    return pages.post("/account/zone", data={"timezone": "Europe/London", "locale": "hi", **fields},
                      expected_status=expected_status)


@pytest.mark.parametrize("role", ["patient", "practitioner", "admin"])
def test_anyone_sets_their_own_time_zone_and_language(request, client_request, role):
    person = request.getfixturevalue(role)
    pages = client_request.login(person)
    change_zone(pages)
    db.session.refresh(person)
    assert (person.timezone, person.locale) == ("Europe/London", "hi")
    page = pages.get("/account")
    assert one(page, "#timezone option[selected]")["value"] == "Europe/London"


def test_the_change_is_in_the_audit_log(client_request, practitioner):
    change_zone(client_request.login(practitioner))
    [event] = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == AuditAction.PROFILE_CHANGED))
    assert (event.actor_id, event.detail) == (practitioner.id, "changed=timezone,locale")


@pytest.mark.parametrize(("fields", "field"), [
    ({"timezone": "Mars/Olympus_Mons"}, "timezone"),
    ({"timezone": "Asia/Kolkata\x00"}, "timezone"),
    ({"locale": "fr"}, "locale"),
    ({"locale": ""}, "locale"),
])
def test_an_unknown_zone_or_language_is_refused_at_its_field_and_nothing_changes(client_request, patient, fields,
                                                                                  field):
    page = change_zone(client_request.login(patient), expected_status=422, **fields)
    assert field_error(page, field)
    db.session.refresh(patient)
    assert (patient.timezone, patient.locale) == ("Asia/Kolkata", "en")
