"""Creating users: every address stored is valid in form, every error names its field."""

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import User
from app.services.accounts import create_user
from app.services.errors import ValidationError


def refused(**fields) -> dict[str, str]:
    values = {"role": "patient", "name": "Kavya", "email": "kavya@clinic.example"}
    values.update(fields)
    before = db.session.scalar(sa.select(sa.func.count()).select_from(User))
    with pytest.raises(ValidationError) as caught:
        create_user(**values)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == before
    return caught.value.errors


def test_phones_are_stored_in_e164(app):
    user = create_user(role="patient", name="Kavya", email=None, phone="098765 43210")
    assert user.phone == "+919876543210"


@pytest.mark.parametrize("phone", ["12", "not a phone", "+91 12345"])
def test_a_malformed_phone_is_refused(app, phone):
    assert "phone" in refused(phone=phone)


@pytest.mark.parametrize("phone", ["+91 98765 abcde", "1-800-FLOWERS", "+91 98765 43210 ext 5"])
def test_letters_in_a_phone_are_refused_not_read_as_keypad_digits(app, phone):
    assert refused(phone=phone)["phone"] == "A phone number has only digits, spaces and +: remove the letters"


@pytest.mark.parametrize("email", ["kavya", "kavya@", "@clinic.example", "kavya@@clinic.example"])
def test_a_malformed_email_is_refused(app, email):
    assert "email" in refused(email=email)


def test_an_email_already_in_use_is_refused(app):
    create_user(role="patient", name="First", email="kavya@clinic.example")
    with pytest.raises(ValidationError) as caught:
        create_user(role="patient", name="Second", email="KAVYA@clinic.example")
    assert "already exists" in caught.value.errors["email"]


def test_unknown_role_time_zone_and_language_are_refused(app):
    errors = refused(role="wizard", timezone="Mars/Olympus", locale="xx")
    assert {"role", "timezone", "locale"} <= set(errors)


def test_staff_need_an_email(app):
    assert "email" in refused(role="practitioner", email=None)


def test_a_short_password_is_refused(app):
    assert "password" in refused(password="short")


def test_a_patients_practitioner_must_be_a_practitioner(app, admin):
    assert "practitioner" in refused(practitioner_id=admin.id)


def test_control_characters_in_a_name_are_refused(app):
    assert "name" in refused(name="Kav\x00ya")


def test_a_deactivated_practitioner_cannot_take_patients(app, practitioner):
    practitioner.active = False
    db.session.commit()
    assert "practitioner" in refused(practitioner_id=practitioner.id)
