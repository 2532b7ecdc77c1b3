"""Forms of the admin area: the GET filters of the log, stats and users pages, and user actions.

Filter forms read the query string and carry no CSRF token (they change nothing); every form
that changes something is a POST with one.
"""

from __future__ import annotations

from collections.abc import Iterable
from zoneinfo import ZoneInfo

from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    IntegerField,
    PasswordField,
    SelectField,
    StringField,
    TelField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, NumberRange, Optional, ValidationError

from app.forms.channel_grid import ChannelGridForm
from app.forms.compose import MultiCheckboxField
from app.forms.rules import id_or_name, plausible_date, printable
from app.models.audit_event import AuditAction
from app.models.clinic_settings import SMS_SEGMENT_LIMIT_MAX
from app.models.notification import EventKind
from app.models.status import Status
from app.models.user import User
from app.services.audit import AuditFilters
from app.services.clinic_settings import FALLBACK_ORDERS
from app.services.contact import SUPPORTED_LOCALES
from app.services.delivery_log import LogFilters, provider_choices
from app.services.password_policy import MIN_LENGTH
from app.services.query_filters import day_range
from app.services.user_admin import CREATABLE_ROLES
from app.vocabulary import ApiScope, Channel, Role

ANY = SelectChoice("", "Any")
LANGUAGE_NAMES = {"en": "English", "hi": "हिन्दी (Hindi)"}
COMMON_TIMEZONES = (
    "Asia/Kolkata", "Asia/Kathmandu", "Asia/Colombo", "Asia/Dubai", "Asia/Singapore", "Europe/London",
    "Europe/Berlin", "America/New_York", "America/Chicago", "America/Los_Angeles", "America/Toronto",
    "Australia/Sydney", "UTC",
)


def _choices(members) -> list[SelectChoice]:
    """An "Any" choice, then each member by its label."""
    return [ANY] + [SelectChoice(m.value, getattr(m, "label", m.value.replace("_", " ").capitalize()))
                    for m in members]


class GetForm(FlaskForm):
    """A filter form bound to the query string."""

    class Meta:
        csrf = False

    def __init__(self, args: MultiDict, **kwargs):
        super().__init__(formdata=args, **kwargs)

    def used_filters(self) -> list[str]:
        """The names of the filters given a value (what was chosen, never what was typed)."""
        return [field.name for field in self if field.data]


class DateRangeMixin:
    """`from` and `to` dates (the viewer's local days), the end not before the start."""

    date_from = DateField("From", name="from", validators=[Optional(), plausible_date])
    date_to = DateField("To", name="to", validators=[Optional(), plausible_date])

    def validate_date_to(self, field) -> None:
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError("The end date must be on or after the start date")


class DeliveryLogFilterForm(DateRangeMixin, GetForm):
    patient = StringField("Patient", validators=[Optional(), Length(max=120), printable],
                          description="Part of a name, or a patient's id number")
    channel = SelectField("Channel", choices=_choices(Channel), default="")
    provider = SelectField("Provider", default="")
    status = SelectField("Resulting status", choices=_choices(Status), default="")
    kind = SelectField("Event", choices=_choices(EventKind), default="")
    attempts_only = BooleanField("Provider attempts only")

    def __init__(self, args: MultiDict, **kwargs):
        super().__init__(args, **kwargs)
        self.provider.choices = [ANY] + [SelectChoice(name) for name in provider_choices()]

    def filters(self, zone: ZoneInfo) -> LogFilters:
        """The validated filters, dates taken as whole days in `zone`."""
        starts, ends = day_range(self.date_from.data, self.date_to.data, zone)
        return LogFilters(
            starts=starts,
            ends=ends,
            patient=(self.patient.data or "").strip() or None,
            channel=Channel(self.channel.data) if self.channel.data else None,
            provider=self.provider.data or None,
            status=Status(self.status.data) if self.status.data else None,
            kind=EventKind(self.kind.data) if self.kind.data else None,
            attempts_only=bool(self.attempts_only.data),
        )


class AuditFilterForm(DateRangeMixin, GetForm):
    who = StringField("Who", validators=[Optional(), Length(max=120), printable, id_or_name],
                      description="A user's id, or part of a name or email")
    action = SelectField("Action", choices=_choices(AuditAction), default="")
    patient = StringField("Patient", validators=[Optional(), Length(max=120), printable, id_or_name],
                          description="A patient's id, or part of a name")

    def filters(self, zone: ZoneInfo) -> AuditFilters:
        """The validated filters, dates taken as whole days in `zone`."""
        starts, ends = day_range(self.date_from.data, self.date_to.data, zone)
        return AuditFilters(
            starts=starts,
            ends=ends,
            actor=(self.who.data or "").strip() or None,
            patient=(self.patient.data or "").strip() or None,
            action=AuditAction(self.action.data) if self.action.data else None,
        )


class StatsRangeForm(DateRangeMixin, GetForm):
    """The days the stats cover."""


class UserFilterForm(GetForm):
    role = SelectField("Role", choices=_choices(Role), default="")
    q = StringField("Name or email", validators=[Optional(), Length(max=120), printable])


class NewUserForm(FlaskForm):
    role = SelectField("Role", choices=[SelectChoice(r.value, r.value.capitalize()) for r in CREATABLE_ROLES],
                       default=Role.PATIENT.value)
    name = StringField("Full name", validators=[Length(max=120), printable])
    email = EmailField("Email", validators=[Length(max=254), printable],
                       description="Required for practitioners: they sign in with it")
    phone = TelField("Phone", validators=[Length(max=32), printable],
                     description="With the country code, like +91 98765 43210")
    timezone = StringField("Time zone", validators=[Length(max=64), printable],
                           description="Pick a common zone or type any name like Asia/Kolkata")
    locale = SelectField("Language", choices=[SelectChoice(code, LANGUAGE_NAMES.get(code, code))
                                              for code in SUPPORTED_LOCALES],
                         default="en")
    practitioner_id = SelectField("Practitioner", default="",
                                  description="For patients: who looks after them")
    password = PasswordField("Initial password", validators=[Length(max=512)],
                             description=f"Required for practitioners; optional for patients. At least {MIN_LENGTH} "
                             "characters, not a common password, and not containing their name or email")

    # Service field names that differ from this form's.
    FIELD_FOR = {"practitioner": "practitioner_id"}

    def add_service_errors(self, errors: dict[str, str]) -> list[str]:
        """Put each service error on its field; return those no field shows."""
        leftover = []
        for name, message in errors.items():
            name = self.FIELD_FOR.get(name, name)
            if name in self:
                self[name].errors = [*self[name].errors, message]
            else:
                leftover.append(message)
        return leftover


class AssignPractitionerForm(FlaskForm):
    practitioner_id = SelectField("Practitioner", default="")


def offer_practitioners(field: SelectField, practitioners: Iterable[User]) -> None:
    """Fill a practitioner select: "None" first, then each practitioner by name."""
    field.choices = [SelectChoice("", "None")] + [SelectChoice(str(p.id), p.name) for p in practitioners]


def chosen_id(field: SelectField) -> int | None:
    """The id a validated practitioner select holds, or None for "None"."""
    return int(field.data) if field.data else None


class ClinicSettingsForm(ChannelGridForm):
    require_staff_two_factor = BooleanField("Require two-factor sign-in for admins and practitioners")
    fallback_order = SelectField(
        "When a channel cannot reach the patient, try",
        choices=[SelectChoice(",".join(c.value for c in order),
                              ", then ".join(c.noun if i else c.label for i, c in enumerate(order)))
                 for order in FALLBACK_ORDERS],
        validate_choice=False,  # the service names a wrong one
    )
    sms_segment_limit = IntegerField(
        "Most SMS segments one message may cost", validators=[Optional(), NumberRange(1, SMS_SEGMENT_LIMIT_MAX)],
        description=f"From 1 to {SMS_SEGMENT_LIMIT_MAX}. A segment is 160 characters (153 each when split), or 70 "
        "(67) when the text has characters such as Hindi's. An SMS template whose fixed text alone costs more "
        "is refused when it is saved.",
    )

    def fallback(self) -> list[str] | None:
        """The order chosen, channel by channel (None: none given, leave it as it is)."""
        return self.fallback_order.data.split(",") if self.fallback_order.data else None


API_SCOPE_HINTS = {
    ApiScope.SEND: "Send, cancel and reschedule notifications",
    ApiScope.READ: "Read notifications, delivery stats and queues",
    ApiScope.APPOINTMENTS: "Appointments (for later API routes)",
    ApiScope.PATIENTS: "Patients (for later API routes)",
}


class NewApiKeyForm(FlaskForm):
    name = StringField("Name", validators=[Length(max=80), printable],
                       description="The system that will use it, like “Front desk records”")
    scopes = MultiCheckboxField("Scopes", choices=[SelectChoice(s.value, f"{s.value}: {API_SCOPE_HINTS[s]}")
                                                   for s in ApiScope])


class TemplateForm(FlaskForm):
    """A template's text; the template service checks it (and its length) when it is saved."""

    subject = StringField("Subject")
    # Browsers send a textarea's line breaks as CRLF; sends and SMS counts expect LF.
    body = TextAreaField("Text", filters=[lambda text: text.replace("\r\n", "\n") if text else text])
