"""The users pages: list, create, deactivate and reactivate, assign a practitioner, reset two-factor sign-in."""

import re

import pytest
import sqlalchemy as sa
from markupsafe import escape

from app.extensions import db
from app.models import User
from tests import factories, passwords
from tests.conftest import csrf_token_from, log_in

NEW_PATIENT = {"role": "patient", "name": "Kavya Iyer", "email": "kavya@clinic.example",
               "phone": "+91 98450 12345", "timezone": "Asia/Kolkata", "locale": "hi", "practitioner_id": "",
               "password": ""}


def post(client, path: str, data: dict | None = None, page: str = "/admin/users/new"):
    token = csrf_token_from(client.get(page).get_data(as_text=True))
    return client.post(path, data={**(data or {}), "csrf_token": token})


def user_count() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(User))


def test_the_list_shows_users_with_their_practitioner(login, admin, patient):
    body = login(admin).get("/admin/users").get_data(as_text=True)
    assert f'<a href="/admin/users/{patient.id}">Priya Sharma</a>' in body and "Dr. Vaidya Ramesh" in body


def test_the_list_filters_by_role(login, admin, patient):
    body = login(admin).get("/admin/users?role=practitioner").get_data(as_text=True)
    table = body.split("<table")[1]
    assert "Dr. Vaidya Ramesh" in table and "Priya Sharma" not in table and "Asha Admin" not in table


def test_the_list_filters_by_name_or_email(login, admin, patient, other_patient):
    body = login(admin).get("/admin/users?q=arjun@").get_data(as_text=True)
    table = body.split("<table")[1]
    assert "Arjun Patel" in table and "Priya Sharma" not in table


def test_an_unknown_role_filter_is_an_inline_error(login, admin):
    response = login(admin).get("/admin/users?role=wizard")
    assert response.status_code == 422 and "Not a valid choice" in response.get_data(as_text=True)


def test_the_list_pages_on(login, admin, practitioner):
    factories.create_patients(50, practitioner=practitioner)  # with the admin and practitioner: 52 users
    client = login(admin)
    first = client.get("/admin/users").get_data(as_text=True)
    cursor = first.split('href="/admin/users?before=')[1].split('"')[0]
    second = client.get(f"/admin/users?before={cursor}").get_data(as_text=True)
    first_ids = set(re.findall(r'href="/admin/users/(\d+)"', first))
    second_ids = set(re.findall(r'href="/admin/users/(\d+)"', second))
    assert (len(first_ids), len(second_ids), first_ids & second_ids) == (50, 2, set())


def test_a_patient_is_created_and_the_admin_lands_on_their_page(login, admin, practitioner):
    client = login(admin)
    response = post(client, "/admin/users/new", {**NEW_PATIENT, "practitioner_id": str(practitioner.id)})
    created = db.session.scalar(sa.select(User).where(User.email == "kavya@clinic.example"))
    assert response.status_code == 302 and response.headers["Location"] == f"/admin/users/{created.id}"
    assert (created.phone, created.locale) == ("+919845012345", "hi")
    assert created.practitioner_id == practitioner.id
    assert "Created patient Kavya Iyer." in client.get(response.headers["Location"]).get_data(as_text=True)


def test_a_new_practitioner_can_sign_in_with_the_initial_password(app, login, admin):
    post(login(admin), "/admin/users/new",
         {**NEW_PATIENT, "role": "practitioner", "password": "a long enough secret"})
    fresh = app.test_client()
    user = db.session.scalar(sa.select(User).where(User.email == "kavya@clinic.example"))
    assert log_in(fresh, user, password="a long enough secret").status_code == 302


def test_bad_email_and_phone_are_shown_inline_and_nothing_is_written(login, admin):
    before = user_count()
    response = post(login(admin), "/admin/users/new", {**NEW_PATIENT, "email": "kavya@", "phone": "12345"})
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert '<p class="error" id="email-error">This email address is not valid' in body
    assert '<p class="error" id="phone-error">' in body
    assert 'value="Kavya Iyer"' in body and 'value="kavya@"' in body  # what was typed is kept
    assert user_count() == before


def test_control_characters_in_a_name_are_an_inline_error(login, admin):
    before = user_count()
    response = post(login(admin), "/admin/users/new", {**NEW_PATIENT, "name": "Kavya\x00Iyer"})
    assert response.status_code == 422
    assert 'id="name-error">Remove the control characters' in response.get_data(as_text=True)
    assert user_count() == before


def test_a_practitioner_without_a_password_is_an_inline_error(login, admin):
    response = post(login(admin), "/admin/users/new", {**NEW_PATIENT, "role": "practitioner"})
    assert response.status_code == 422
    assert "Practitioners sign in with a password" in response.get_data(as_text=True)


def test_an_unknown_time_zone_is_an_inline_error(login, admin):
    response = post(login(admin), "/admin/users/new", {**NEW_PATIENT, "timezone": "Mars/Olympus"})
    assert response.status_code == 422
    assert 'id="timezone-error">Unknown time zone' in response.get_data(as_text=True)


def test_an_unknown_practitioner_is_an_inline_error(login, admin):
    response = post(login(admin), "/admin/users/new", {**NEW_PATIENT, "practitioner_id": "999"})
    assert response.status_code == 422 and 'id="practitioner_id-error"' in response.get_data(as_text=True)


def test_deactivation_prevents_sign_in(app, login, admin, practitioner):
    page = f"/admin/users/{practitioner.id}"
    response = post(login(admin), f"{page}/deactivate", page=page)
    assert response.status_code == 302
    assert log_in(app.test_client(), practitioner).status_code == 422


def test_deactivation_ends_the_users_open_session(app, login, admin, practitioner):
    theirs = app.test_client()
    assert log_in(theirs, practitioner).status_code == 302
    post(login(admin), f"/admin/users/{practitioner.id}/deactivate", page=f"/admin/users/{practitioner.id}")
    assert theirs.get("/admin/log").headers["Location"].startswith("/login")


def test_reactivation_lets_the_user_sign_in_again(app, login, admin):
    gone = factories.create_practitioner(active=False)
    post(login(admin), f"/admin/users/{gone.id}/reactivate", page=f"/admin/users/{gone.id}")
    assert log_in(app.test_client(), gone).status_code == 302


def test_an_admin_cannot_deactivate_themselves(login, admin):
    client = login(admin)
    response = post(client, f"/admin/users/{admin.id}/deactivate", page=f"/admin/users/{admin.id}")
    assert response.status_code == 302
    db.session.refresh(admin)
    assert admin.active
    body = client.get(f"/admin/users/{admin.id}").get_data(as_text=True)
    assert "You cannot deactivate your own account" in body


def test_a_patients_practitioner_is_reassigned(login, admin, patient, other_practitioner):
    response = post(login(admin), f"/admin/users/{patient.id}/practitioner",
                    {"practitioner_id": str(other_practitioner.id)}, page=f"/admin/users/{patient.id}")
    assert response.status_code == 302
    db.session.refresh(patient)
    assert patient.practitioner_id == other_practitioner.id


def test_assigning_someone_who_is_not_a_practitioner_is_an_inline_error(login, admin, patient, other_patient):
    response = post(login(admin), f"/admin/users/{patient.id}/practitioner",
                    {"practitioner_id": str(other_patient.id)}, page=f"/admin/users/{patient.id}")
    assert response.status_code == 422 and 'id="practitioner_id-error"' in response.get_data(as_text=True)


def test_an_unknown_user_is_a_404(login, admin):
    client = login(admin)
    assert client.get("/admin/users/999").status_code == 404
    assert client.get(f"/admin/users/{10**30}").status_code == 404
    assert post(client, "/admin/users/999/deactivate").status_code == 404


@pytest.mark.parametrize("password,message", passwords.REFUSED)
def test_each_password_rule_is_an_inline_error_and_nothing_is_written(login, admin, password, message):
    before = user_count()
    response = post(login(admin), "/admin/users/new", {**NEW_PATIENT, "role": "practitioner", "name": passwords.NAME,
                                                       "email": passwords.EMAIL, "password": password})
    assert response.status_code == 422
    assert f'id="password-error">{escape(message)}' in response.get_data(as_text=True)
    assert user_count() == before


def test_a_staff_members_page_offers_to_reset_their_two_factor_sign_in(login, admin, practitioner):
    factories.enrol_two_factor(practitioner)
    assert "Reset two-factor sign-in" in login(admin).get(f"/admin/users/{practitioner.id}").get_data(as_text=True)


@pytest.mark.parametrize("whose", ["practitioner", "admin"])
def test_no_reset_is_offered_without_two_factor_sign_in_or_for_ones_own(request, login, admin, whose):
    person = request.getfixturevalue(whose)
    if whose == "admin":
        factories.enrol_two_factor(admin)
    body = login(admin).get(f"/admin/users/{person.id}").get_data(as_text=True)
    assert "Reset two-factor sign-in" not in body


def test_resetting_two_factor_sign_in_signs_them_out_and_says_what_comes_next(app, login, admin, practitioner):
    theirs = app.test_client()
    assert log_in(theirs, practitioner).status_code == 302
    factories.enrol_two_factor(practitioner)
    page = f"/admin/users/{practitioner.id}"
    client = login(admin)
    assert post(client, f"{page}/two-factor/reset", page=page).status_code == 302
    assert "two-factor sign-in is reset and they are signed out everywhere; they sign in with their password alone" in (
        client.get(page).get_data(as_text=True))
    assert theirs.get("/compose").headers["Location"].startswith("/login")
    assert log_in(theirs, practitioner).headers["Location"] == "/"  # the password alone, no code


def test_resetting_two_factor_sign_in_that_is_off_says_so(login, admin, practitioner):
    page = f"/admin/users/{practitioner.id}"
    client = login(admin)
    post(client, f"{page}/two-factor/reset", page=page)
    assert "has no two-factor sign-in to reset" in client.get(page).get_data(as_text=True)
