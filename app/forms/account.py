"""Forms of a person's own account page."""

from __future__ import annotations

from zoneinfo import available_timezones

from flask_wtf import FlaskForm
from wtforms import PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length

from app.services.password_policy import MIN_LENGTH


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField("Current password", validators=[
        DataRequired("Enter your current password"), Length(max=512, message="That is not your current password"),
    ])
    # Its length and every other rule are the password policy's, checked by the service.
    new_password = PasswordField("New password", validators=[DataRequired("Enter a new password")],
                                 description=f"At least {MIN_LENGTH} characters. A few words that mean something "
                                 "to you make a strong password; it must not be a common one or contain your "
                                 "name or email.")
    confirm_password = PasswordField(
        "New password again",
        validators=[DataRequired("Enter the new password again"),
                    EqualTo("new_password", "The two new passwords are not the same: type them again")],
    )


class TwoFactorCodeForm(FlaskForm):
    """One code: six digits from the authenticator app, or (where allowed) a recovery code."""

    code = StringField("Code", validators=[DataRequired("Enter the 6-digit code your authenticator app shows"),
                                           Length(max=64, message="That code is not right")])


# The clinic's usual zones first, then every other by name.
COMMON_ZONES = ("Asia/Kolkata", "Asia/Dubai", "Europe/London", "America/New_York", "Asia/Singapore", "UTC")
LANGUAGES = [SelectChoice("en", "English"), SelectChoice("hi", "हिन्दी (Hindi)")]


def zone_choices() -> list[SelectChoice]:
    others = sorted(available_timezones() - set(COMMON_ZONES))
    return [SelectChoice(zone, zone.replace("_", " ")) for zone in (*COMMON_ZONES, *others)]


class ZoneAndLanguageForm(FlaskForm):
    """Where and in what language a person reads times and messages. The service checks both
    (a zone this machine does not know is refused there, with the others)."""

    timezone = SelectField("Time zone", choices=zone_choices, validate_choice=False)
    locale = SelectField("Language", choices=LANGUAGES, validate_choice=False)
