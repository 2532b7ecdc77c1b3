"""The account page: anyone signed in changes their own password there."""

import pytest
from markupsafe import escape

from tests import factories, passwords
from tests.conftest import csrf_token_from, log_in

NEW = "monsoon over the western ghats"


def change(client, *, current: str = factories.TEST_PASSWORD, new: str = NEW, again: str | None = None):
    token = csrf_token_from(client.get("/account").get_data(as_text=True))
    return client.post("/account/password", data={"current_password": current, "new_password": new,
                                                  "confirm_password": new if again is None else again,
                                                  "csrf_token": token})


def test_the_account_page_needs_a_sign_in(client):
    assert client.get("/account").headers["Location"].startswith("/login")


@pytest.mark.parametrize("role", ["patient", "practitioner", "admin"])
def test_every_role_has_an_account_page_with_the_password_form(request, login, role):
    body = login(request.getfixturevalue(role)).get("/account").get_data(as_text=True)
    assert 'action="/account/password"' in body and csrf_token_from(body)


def test_a_change_without_a_csrf_token_is_refused(login, patient):
    response = login(patient).post("/account/password", data={
        "current_password": factories.TEST_PASSWORD, "new_password": NEW, "confirm_password": NEW})
    assert response.status_code == 400


def test_the_current_password_must_be_right(app, login, patient):
    response = change(login(patient), current="not my password at all")
    assert response.status_code == 422
    assert 'id="current_password-error">That is not your current password' in response.get_data(as_text=True)
    assert log_in(app.test_client(), patient).status_code == 302


def test_the_new_password_typed_twice_must_match(app, login, patient):
    response = change(login(patient), again=NEW + "!")
    assert response.status_code == 422
    assert 'id="confirm_password-error">The two new passwords are not the same' in response.get_data(as_text=True)
    assert log_in(app.test_client(), patient).status_code == 302


def test_problems_are_listed_at_the_top_linked_to_their_fields(login, patient):
    body = change(login(patient), current="", again="").get_data(as_text=True)
    summary = body.split('class="error-summary"')[1].split("</div>")[0]
    assert '<a href="#current_password">Enter your current password</a>' in summary
    assert '<a href="#confirm_password">Enter the new password again</a>' in summary


@pytest.mark.parametrize("password,message", passwords.REFUSED)
def test_each_password_rule_is_refused_on_the_account_page(app, login, practitioner, password, message):
    user = factories.create_patient(practitioner=practitioner, name=passwords.NAME, email=passwords.EMAIL)
    response = change(login(user), new=password)
    assert response.status_code == 422
    assert f'id="new_password-error">{escape(message)}' in response.get_data(as_text=True)
    assert log_in(app.test_client(), user).status_code == 302


def test_after_a_change_the_new_password_signs_in_and_the_old_one_does_not(app, login, practitioner):
    response = change(login(practitioner))
    assert response.status_code == 302 and response.headers["Location"] == "/account"
    assert log_in(app.test_client(), practitioner, password=NEW).status_code == 302
    assert log_in(app.test_client(), practitioner).status_code == 422


def test_repeated_wrong_current_passwords_are_slowed_down(login, patient):
    client = login(patient)
    responses = [change(client, current="a wrong guess!") for _ in range(11)]
    assert [r.status_code for r in responses] == [422] * 10 + [429]
    assert "Too many password attempts" in responses[10].get_data(as_text=True)


def test_a_password_change_signs_out_every_other_device(app, login, patient):
    elsewhere = app.test_client()
    assert log_in(elsewhere, patient).status_code == 302
    here = login(patient)
    assert change(here).status_code == 302
    assert elsewhere.get("/inbox").headers["Location"].startswith("/login")
    assert "everywhere else is signed out" in here.get("/account").get_data(as_text=True)
    assert here.get("/inbox").status_code == 200


def test_a_refused_password_change_signs_nobody_out(app, login, patient):
    elsewhere = app.test_client()
    assert log_in(elsewhere, patient).status_code == 302
    assert change(login(patient), current="not my password at all").status_code == 422
    assert elsewhere.get("/inbox").status_code == 200
