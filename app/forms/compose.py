"""Compose, reschedule, and the Monitor filters."""

from __future__ import annotations

import uuid
from datetime import datetime, tzinfo

from flask import request
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from app.clock import utcnow
from app.forms.rules import plausible_date, printable, printable_text
from app.models.status import Status
from app.schemas import read
from app.schemas.send import ALL_MY_PATIENTS, ALL_PATIENTS, TITLE_MAX, SendRequest
from app.services.input_rules import as_id
from app.services.template_fields import fields_for
from app.vocabulary import Channel, NotificationType

ONE_PATIENT = "one"
DATA_FIELD_PREFIX = "data_"  # template values are posted as data_<name>


def options(*pairs: tuple[str, str]) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in pairs]


TYPE_CHOICES = options(*[(t.value, t.label) for t in NotificationType])


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class ComposeForm(FlaskForm):
    recipient_mode = RadioField(
        "Send to",
        choices=options((ONE_PATIENT, "One patient"), (ALL_MY_PATIENTS, "All my patients")),
        default=ONE_PATIENT,
    )
    patient_id = HiddenField()
    patient_search = StringField("Patient", validators=[Length(max=120), printable])
    type = SelectField("Type", choices=TYPE_CHOICES, default=NotificationType.TREATMENT_UPDATE.value)
    channel_mode = RadioField(
        "Channels",
        choices=options(("preferences", "The patient's preferences"), ("choose", "Choose channels")),
        default="preferences",
    )
    channels = MultiCheckboxField("Channels", choices=options(*[(c.value, c.label) for c in Channel]),
                          default="")
    content_mode = RadioField(
        "Message", choices=options(("text", "Write a message"), ("template", "Use the type's template")),
        default="text",
    )
    title = StringField("Title", validators=[Length(max=TITLE_MAX), printable])
    body = TextAreaField("Message", validators=[printable_text])
    send_mode = RadioField("When", choices=options(("now", "Send now"), ("later", "Schedule")), default="now")
    send_date = DateField("Date", validators=[Optional(), plausible_date])
    send_time = TimeField("Time", validators=[Optional()])
    in_patients_zones = BooleanField("At this time in each patient's own time zone")
    idempotency_key = HiddenField(default=lambda: uuid.uuid4().hex)

    def allow_all_patients(self) -> None:
        """Admins may also send to every patient."""
        self.recipient_mode.choices = [*self.recipient_mode.choices, SelectChoice(ALL_PATIENTS, "All patients")]

    def validate_patient_search(self, field) -> None:
        if self.recipient_mode.data == ONE_PATIENT and as_id(self.patient_id.data) is None:
            raise ValidationError("Choose a patient from the list")

    def validate_channels(self, field) -> None:
        if self.channel_mode.data == "choose" and not field.data:
            raise ValidationError("Choose at least one channel")

    def validate(self, extra_validators=None) -> bool:
        # Date and time are optional fields (empty when sending now), and WTForms stops an
        # optional field's checks when it is empty, so "schedule needs both" is checked here.
        valid = super().validate(extra_validators)
        if self.send_mode.data == "later" and (self.send_date.data is None or self.send_time.data is None):
            if not self.send_date.errors:
                self.send_date.errors = [*self.send_date.errors, "Choose the date and time to send at"]
            valid = False
        return valid

    @property
    def scheduling(self) -> bool:
        """Whether the form asks to send later (the submit button then says "Schedule")."""
        return self.send_mode.data == "later"

    def data_values(self) -> dict[str, str]:
        """The template values typed for the type's fields, whole: the outbox refuses a long one."""
        values = {}
        for field in fields_for(self.type.data):
            value = request.form.get(f"{DATA_FIELD_PREFIX}{field.name}", "").strip()
            if value:
                values[field.name] = value
        return values

    def send_request(self, zone: tzinfo) -> SendRequest:
        """What the form asks for, as far as its fields parsed, read as the one send schema.

        The date and time are read in `zone`, the practitioner's.

        Raises:
            ValidationError: what the schema refuses, by the schema's field names.
        """
        one = self.recipient_mode.data == ONE_PATIENT
        use_template = self.content_mode.data == "template"
        patient_id = as_id(self.patient_id.data)
        scheduled_at = at_local_time = None
        if self.scheduling and self.send_date.data and self.send_time.data and not self.send_date.errors:
            if self.in_patients_zones.data:
                at_local_time = datetime.combine(self.send_date.data, self.send_time.data)
            else:
                scheduled_at = datetime.combine(self.send_date.data, self.send_time.data, tzinfo=zone)
        return read(SendRequest, dict(
            type=self.type.data,
            recipient_ids=[patient_id] if one and patient_id is not None else [],
            recipient_group=None if one else self.recipient_mode.data,
            channels=self.channels.data if self.channel_mode.data == "choose" else None,
            template_key=self.type.data if use_template else None,
            title="" if use_template else self.title.data or "",
            body="" if use_template else self.body.data or "",
            data=self.data_values() if use_template else {},
            scheduled_at=scheduled_at,
            at_local_time=at_local_time,
            idempotency_key=self.idempotency_key.data or None,
        ), context={"now": utcnow()})


class RescheduleForm(FlaskForm):
    send_date = DateField("Date", validators=[InputRequired("Choose the new date"), plausible_date])
    send_time = TimeField("Time", validators=[InputRequired("Choose the new time")])


class MonitorFilterForm(FlaskForm):
    """GET filters: nothing changes, so no CSRF token in the URL."""

    class Meta:
        csrf = False

    # No Optional() on choices: it would stop validation for a blank-looking value such as " ",
    # which is not a choice; the empty choice already means "any".
    status = SelectField("Status", choices=options(("", "Any status"), *[(s.value, s.label) for s in Status]),
                         default="")
    channel = SelectField("Channel", choices=options(("", "Any channel"), *[(c.value, c.label) for c in Channel]),
                          default="")
    type = SelectField("Type", choices=[SelectChoice("", "Any type"), *TYPE_CHOICES], default="")
    patient = StringField("Patient", validators=[Optional(), Length(max=120), printable])
    date_from = DateField("From", validators=[Optional(), plausible_date])
    date_to = DateField("To", validators=[Optional(), plausible_date])

    def validate_date_to(self, field) -> None:
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError("The end date is before the start date")
