"""Booking, moving and closing an appointment."""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any

from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField, TextAreaField, TimeField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length

from app.forms.rules import plausible_date, printable, printable_text
from app.schemas.appointment import LOCATION_MAX, NOTES_MAX, TREATMENT_MAX
from app.vocabulary import AppointmentStatus

DURATIONS = [SelectChoice(str(m), f"{m} minutes") for m in (30, 45, 60, 90, 120, 180)]
TREATMENTS = ("Abhyanga", "Shirodhara", "Virechana", "Basti", "Nasya", "Udvartana", "Consultation")


class AppointmentTimeForm(FlaskForm):
    """A day and a time in the staff member's zone."""

    day = DateField("Date", validators=[InputRequired("Choose the date"), plausible_date])
    time = TimeField("Time", validators=[InputRequired("Choose the time")])

    def starts_at(self, zone: tzinfo) -> datetime | None:
        if self.day.data is None or self.time.data is None or self.day.errors:
            return None
        return datetime.combine(self.day.data, self.time.data, tzinfo=zone)


class BookingForm(AppointmentTimeForm):
    patient_id = SelectField("Patient", choices=[], validate_choice=False)
    duration_minutes = SelectField("Duration", choices=DURATIONS, default="60")
    treatment = StringField("Treatment", validators=[Length(max=TREATMENT_MAX), printable])
    location = StringField("Room or place", validators=[Length(max=LOCATION_MAX), printable])
    notes = TextAreaField("Notes for the clinic", validators=[Length(max=NOTES_MAX), printable_text])

    def booking(self, zone: tzinfo) -> dict[str, Any]:
        """What the form asks for, as the booking schema reads it (it checks the rest)."""
        return {
            "patient_id": self.patient_id.data,
            "starts_at": self.starts_at(zone),
            "duration_minutes": self.duration_minutes.data,
            "treatment": self.treatment.data or "",
            "location": self.location.data or "",
            "notes": self.notes.data or "",
        }


class OutcomeForm(FlaskForm):
    outcome = SelectField("Outcome", choices=[
        SelectChoice(AppointmentStatus.COMPLETED.value, "Completed"),
        SelectChoice(AppointmentStatus.NO_SHOW.value, "No-show"),
    ])
