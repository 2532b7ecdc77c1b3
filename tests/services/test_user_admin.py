"""Managing people from the admin area."""

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import RecoveryCode, User
from app.services import two_factor
from app.services.accounts import authenticate
from app.services.errors import Conflict, NotFound, ValidationError
from app.services.sign_in_sessions import start_session, user_for_token
from app.services.user_admin import assign_practitioner, create_account, reset_two_factor, set_active, users_page
from app.vocabulary import Role
from tests import factories

VALID = {"name": "Kavya Iyer", "email": "kavya@clinic.example", "phone": "+91 98450 12345",
         "timezone": "Asia/Kolkata", "locale": "hi", "practitioner_id": None, "password": None}


def test_a_patient_is_created_with_normalised_contact_details(app, practitioner, admin):
    user = create_account(admin, role="patient", **{**VALID, "practitioner_id": practitioner.id})
    assert (user.role, user.phone, user.locale, user.practitioner_id) == (Role.PATIENT, "+919845012345", "hi",
                                                                          practitioner.id)
    assert user.password_hash is None


def test_a_practitioner_needs_an_initial_password(app, admin):
    with pytest.raises(ValidationError) as caught:
        create_account(admin, role="practitioner", **VALID)
    assert "Practitioners sign in with a password" in caught.value.errors["password"]
    assert db.session.query(User).count() == 1  # the admin alone


def test_a_practitioner_can_sign_in_with_the_initial_password(app, admin):
    create_account(admin, role="practitioner", **{**VALID, "password": "a long enough secret"})
    assert authenticate("kavya@clinic.example", "a long enough secret") is not None


def test_every_bad_field_is_reported_at_once(app, admin):
    with pytest.raises(ValidationError) as caught:
        create_account(admin, role="patient", **{**VALID, "name": "", "email": "not-an-email", "phone": "12",
                                          "timezone": "Mars/Olympus"})
    assert set(caught.value.errors) == {"name", "email", "phone", "timezone"}


def test_the_admin_area_does_not_create_admins(app, admin):
    with pytest.raises(ValidationError) as caught:
        create_account(admin, role="admin", **{**VALID, "password": "a long enough secret"})
    assert set(caught.value.errors) == {"role"}


def test_an_admin_cannot_deactivate_themselves(app, admin):
    with pytest.raises(Conflict):
        set_active(admin, admin.id, False)
    assert admin.active


def test_deactivation_stops_sign_in_and_reactivation_restores_it(app, admin, practitioner):
    set_active(admin, practitioner.id, False)
    assert authenticate(practitioner.email, factories.TEST_PASSWORD) is None
    set_active(admin, practitioner.id, True)
    assert authenticate(practitioner.email, factories.TEST_PASSWORD) is not None


def test_an_unknown_user_is_not_found(app, admin):
    with pytest.raises(NotFound):
        set_active(admin, 999, False)


def test_a_patient_is_assigned_and_unassigned_a_practitioner(app, patient, other_practitioner, admin):
    assert assign_practitioner(admin, patient.id, other_practitioner.id).practitioner_id == other_practitioner.id
    assert assign_practitioner(admin, patient.id, None).practitioner_id is None


@pytest.mark.parametrize("target", ["admin", "patient"])
def test_only_an_active_practitioner_can_be_assigned(request, app, patient, target, admin):
    with pytest.raises(ValidationError):
        assign_practitioner(admin, patient.id, request.getfixturevalue(target).id)


def test_a_deactivated_practitioner_cannot_be_assigned(app, admin, patient, other_practitioner):
    set_active(admin, other_practitioner.id, False)
    with pytest.raises(ValidationError):
        assign_practitioner(admin, patient.id, other_practitioner.id)


def test_only_patients_have_a_practitioner(app, practitioner, other_practitioner, admin):
    with pytest.raises(ValidationError):
        assign_practitioner(admin, practitioner.id, other_practitioner.id)


def test_the_user_list_pages_by_id_without_repeats(app, practitioner):
    factories.create_patients(4, practitioner=practitioner)
    first = users_page(size=3)
    second = users_page(before=first.next_before, size=3)
    ids = [u.id for u in first.users + second.users]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == 5
    assert second.next_before is None


def test_the_user_list_filters_by_role_and_by_name_or_email(app, admin, patient, other_patient):
    assert [u.id for u in users_page(role=Role.ADMIN).users] == [admin.id]
    assert [u.id for u in users_page(search="ARJUN").users] == [other_patient.id]
    assert [u.id for u in users_page(search="priya@clinic").users] == [patient.id]


def test_resetting_two_factor_sign_in_lets_the_password_alone_sign_in_again(app, admin, practitioner):
    enrolment = factories.enrol_two_factor(practitioner)
    reset_two_factor(admin, practitioner.id)
    practitioner = factories.reload(practitioner)
    assert not practitioner.two_factor_enabled and practitioner.totp_secret is None
    assert two_factor.check_code(practitioner, enrolment.recovery_codes[0]) is None
    assert db.session.scalar(sa.select(sa.func.count()).select_from(RecoveryCode)) == 0


def test_resetting_two_factor_sign_in_ends_every_sign_in_of_theirs(app, admin, practitioner):
    factories.enrol_two_factor(practitioner)
    token = start_session(practitioner, client_address=None, user_agent=None)
    reset_two_factor(admin, practitioner.id)
    assert user_for_token(token) is None


@pytest.mark.parametrize("target", ["admin", "practitioner"])
def test_two_factor_sign_in_is_reset_only_for_someone_else_who_has_it(request, app, admin, target):
    """An admin's own is moved from their account page; one that is off has nothing to reset."""
    user = request.getfixturevalue(target)
    if target == "admin":
        factories.enrol_two_factor(admin)
    with pytest.raises(Conflict):
        reset_two_factor(admin, user.id)
