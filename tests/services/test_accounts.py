"""Creating users: every address stored is valid in form, every error names its field."""

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import User
from app.services.accounts import create_user
from app.services.channel_choice import CHOOSABLE_TYPES
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


def test_every_bad_field_is_named_in_one_refusal(app, admin):
    errors = refused(role="wizard", name="", email="kavya@", phone="12", password="short",
                     timezone="Mars/Olympus", locale="xx", preferred_channels=["pigeon"], practitioner_id=admin.id)
    assert list(errors) == ["role", "name", "email", "phone", "password", "timezone", "locale",
                            "preferred_channels", "practitioner"]


@pytest.mark.parametrize("name", ["", "   ", "K" * 121])
def test_a_name_must_have_1_to_120_characters(app, name):
    assert refused(name=name)["name"] == "Enter a name of 1 to 120 characters"


def test_an_unknown_preferred_channel_is_refused(app):
    assert refused(preferred_channels=["sms", "pigeon"])["preferred_channels"].startswith("Channels are: sms")


def test_a_password_that_contains_the_name_is_refused(app):
    assert "password" in refused(name="  Kavyashree ", password="kavyashree-2026-notes")


def test_a_new_user_is_stored_as_given_following_the_clinics_channels(app):
    user = create_user(role="patient", name="  Kavya ", email="Kavya@Clinic.Example", timezone="Asia/Kolkata",
                       locale="hi", password="a long and unusual passphrase")
    assert (user.name, user.email) == ("Kavya", "Kavya@clinic.example")
    assert (user.timezone, user.locale) == ("Asia/Kolkata", "hi")
    assert user.channel_choices == {} and user.password_hash.startswith("$argon2")


def test_channels_given_for_a_new_patient_are_their_choice_for_every_type(app):
    user = create_user(role="patient", name="Kavya", email="kavya@clinic.example", preferred_channels=["in_app", "sms"])
    assert user.channel_choices == {kind.value: ["sms"] for kind in CHOOSABLE_TYPES}


def test_only_a_patient_keeps_the_practitioner_given(app, practitioner):
    staff = create_user(role="practitioner", name="Second", email="second@clinic.example",
                        practitioner_id=practitioner.id)
    patient = create_user(role="patient", name="Kavya", email=None, practitioner_id=practitioner.id)
    assert staff.practitioner_id is None and patient.practitioner_id == practitioner.id
