"""The users pages: list, create, deactivate and reactivate, assign a practitioner, reset two-factor sign-in."""


import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import User
from tests import factories, passwords
from tests.conftest import log_in
from tests.pages import field_error, href_of, one, text, texts

NEW_PATIENT = {"role": "patient", "name": "Kavya Iyer", "email": "kavya@clinic.example",
               "phone": "+91 98450 12345", "timezone": "Asia/Kolkata", "locale": "hi", "practitioner_id": "",
               "password": ""}


@pytest.fixture
def admin_pages(client_request, admin):
    return client_request.login(admin)


def user_count() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(User))


def listed_names(page) -> list[str]:
    return texts(page, "table.data tbody th[scope=row] a")


def create(admin_pages, expected_status: int = 302, follow_redirects: bool = False, **fields):
    admin_pages.get("/admin/users/new")
    return admin_pages.post("/admin/users/new", data={**NEW_PATIENT, **fields}, expected_status=expected_status,
                            follow_redirects=follow_redirects)


def test_the_list_shows_users_with_their_practitioner(admin_pages, patient):
    page = admin_pages.get("/admin/users")
    row = one(page, f'tbody tr:has(a[href="/admin/users/{patient.id}"])')
    assert text(row.th) == "Priya Sharma" and "Dr. Vaidya Ramesh" in texts(row, "td")


def test_the_list_filters_by_role(admin_pages, patient):
    assert listed_names(admin_pages.get("/admin/users?role=practitioner")) == ["Dr. Vaidya Ramesh"]


def test_the_list_filters_by_name_or_email(admin_pages, patient, other_patient):
    assert listed_names(admin_pages.get("/admin/users?q=arjun@")) == ["Arjun Patel"]


def test_an_unknown_role_filter_is_an_inline_error(admin_pages):
    page = admin_pages.get("/admin/users?role=wizard", expected_status=422)
    assert field_error(page, "role") == "Not a valid choice."


def test_the_list_pages_on(admin_pages, practitioner):
    factories.create_patients(50, practitioner=practitioner)  # with the admin and practitioner: 52 users
    first = admin_pages.get("/admin/users")
    second = admin_pages.get(href_of(first, "Older →"))
    first_ids, second_ids = ({a["href"] for a in page.select("tbody th a")} for page in (first, second))
    assert (len(first_ids), len(second_ids), first_ids & second_ids) == (50, 2, set())


def test_a_patient_is_created_and_the_admin_lands_on_their_page(admin_pages, practitioner):
    page = create(admin_pages, practitioner_id=str(practitioner.id), expected_status=200, follow_redirects=True)
    created = db.session.scalar(sa.select(User).where(User.email == "kavya@clinic.example"))
    assert (created.phone, created.locale) == ("+919845012345", "hi")
    assert created.practitioner_id == practitioner.id
    assert (text(page.h1), texts(page, ".flash")) == ("Kavya Iyer", ["Created patient Kavya Iyer."])


def test_a_new_practitioner_can_sign_in_with_the_initial_password(app, admin_pages):
    create(admin_pages, role="practitioner", password="a long enough secret")
    fresh = app.test_client()
    user = db.session.scalar(sa.select(User).where(User.email == "kavya@clinic.example"))
    assert log_in(fresh, user, password="a long enough secret").status_code == 302


def test_bad_email_and_phone_are_shown_inline_and_nothing_is_written(admin_pages):
    before = user_count()
    page = create(admin_pages, expected_status=422, email="kavya@", phone="12345")
    assert field_error(page, "email").startswith("This email address is not valid")
    assert field_error(page, "phone")
    assert (one(page, "#name")["value"], one(page, "#email")["value"]) == ("Kavya Iyer", "kavya@")  # kept
    assert user_count() == before


def test_control_characters_in_a_name_are_an_inline_error(admin_pages):
    before = user_count()
    page = create(admin_pages, expected_status=422, name="Kavya\x00Iyer")
    assert field_error(page, "name").startswith("Remove the control characters")
    assert user_count() == before


def test_a_practitioner_without_a_password_is_an_inline_error(admin_pages):
    page = create(admin_pages, expected_status=422, role="practitioner")
    assert "Practitioners sign in with a password" in field_error(page, "password")


def test_an_unknown_time_zone_is_an_inline_error(admin_pages):
    page = create(admin_pages, expected_status=422, timezone="Mars/Olympus")
    assert field_error(page, "timezone").startswith("Unknown time zone")


def test_an_unknown_practitioner_is_an_inline_error(admin_pages):
    assert field_error(create(admin_pages, expected_status=422, practitioner_id="999"), "practitioner_id")


def act_on(admin_pages, user, action: str, expected_status: int = 302, **data):
    """Press `action`'s button on `user`'s page."""
    admin_pages.get(f"/admin/users/{user.id}")
    return admin_pages.post(f"/admin/users/{user.id}/{action}", data=data, expected_status=expected_status)


def test_deactivation_prevents_sign_in(app, admin_pages, practitioner):
    act_on(admin_pages, practitioner, "deactivate")
    assert log_in(app.test_client(), practitioner).status_code == 422


def test_deactivation_ends_the_users_open_session(app, admin_pages, practitioner):
    theirs = app.test_client()
    assert log_in(theirs, practitioner).status_code == 302
    act_on(admin_pages, practitioner, "deactivate")
    assert theirs.get("/admin/log").headers["Location"].startswith("/login")


def test_reactivation_lets_the_user_sign_in_again(app, admin_pages):
    gone = factories.create_practitioner(active=False)
    act_on(admin_pages, gone, "reactivate")
    assert log_in(app.test_client(), gone).status_code == 302


def test_an_admin_cannot_deactivate_themselves(admin_pages, admin):
    act_on(admin_pages, admin, "deactivate")
    assert factories.reload(admin).active
    page = admin_pages.get(f"/admin/users/{admin.id}")
    assert texts(page, ".flash") == ["You cannot deactivate your own account"]


def test_a_patients_practitioner_is_reassigned(admin_pages, patient, other_practitioner):
    act_on(admin_pages, patient, "practitioner", practitioner_id=str(other_practitioner.id))
    assert factories.reload(patient).practitioner_id == other_practitioner.id


def test_assigning_someone_who_is_not_a_practitioner_is_an_inline_error(admin_pages, patient, other_patient):
    page = act_on(admin_pages, patient, "practitioner", expected_status=422, practitioner_id=str(other_patient.id))
    assert field_error(page, "practitioner_id")


def test_an_unknown_user_is_a_404(admin_pages):
    admin_pages.get("/admin/users/999", expected_status=404)
    admin_pages.get(f"/admin/users/{10**30}", expected_status=404)
    admin_pages.post("/admin/users/999/deactivate", expected_status=404)


@pytest.mark.parametrize("password,message", passwords.REFUSED)
def test_each_password_rule_is_an_inline_error_and_nothing_is_written(admin_pages, password, message):
    before = user_count()
    page = create(admin_pages, expected_status=422, role="practitioner", name=passwords.NAME, email=passwords.EMAIL,
                  password=password)
    assert field_error(page, "password") == message
    assert user_count() == before


def main_buttons(page) -> list[str]:
    return texts(page, "main form button")


def test_a_staff_members_page_offers_to_reset_their_two_factor_sign_in(admin_pages, practitioner):
    factories.enrol_two_factor(practitioner)
    assert "Reset two-factor sign-in" in main_buttons(admin_pages.get(f"/admin/users/{practitioner.id}"))


@pytest.mark.parametrize("whose", ["practitioner", "admin"])
def test_no_reset_is_offered_without_two_factor_sign_in_or_for_ones_own(request, admin_pages, admin, whose):
    person = request.getfixturevalue(whose)
    if whose == "admin":
        factories.enrol_two_factor(admin)
    assert "Reset two-factor sign-in" not in main_buttons(admin_pages.get(f"/admin/users/{person.id}"))


def test_resetting_two_factor_sign_in_signs_them_out_and_says_what_comes_next(app, admin_pages, practitioner):
    theirs = app.test_client()
    assert log_in(theirs, practitioner).status_code == 302
    factories.enrol_two_factor(practitioner)
    act_on(admin_pages, practitioner, "two-factor/reset")
    [flash] = texts(admin_pages.get(f"/admin/users/{practitioner.id}"), ".flash")
    assert ("two-factor sign-in is reset and they are signed out everywhere; they sign in with their password alone"
            in flash)
    assert theirs.get("/compose").headers["Location"].startswith("/login")
    assert log_in(theirs, practitioner).headers["Location"] == "/"  # the password alone, no code


def test_resetting_two_factor_sign_in_that_is_off_says_so(admin_pages, practitioner):
    act_on(admin_pages, practitioner, "two-factor/reset")
    [flash] = texts(admin_pages.get(f"/admin/users/{practitioner.id}"), ".flash")
    assert "has no two-factor sign-in to reset" in flash
