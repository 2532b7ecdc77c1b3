"""Prescribing, changing and stopping a medication course."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField, TextAreaField
from wtforms.validators import Length

from app.forms.rules import plausible_date, printable, printable_text
from app.schemas.medication import DOSAGE_MAX, INSTRUCTIONS_MAX, MEDICINE_MAX

# Long enough for eight times a day written out with spaces; the schema says what is wrong.
TIMES_TEXT_MAX = 100


class CourseForm(FlaskForm):
    """What a course is; the schema (app.schemas.medication) checks it, this form only reads it."""

    medicine = StringField("Medicine", validators=[Length(max=MEDICINE_MAX), printable])
    dosage = StringField("Dosage", validators=[Length(max=DOSAGE_MAX), printable])
    times_of_day = StringField("Times of day", validators=[Length(max=TIMES_TEXT_MAX), printable])
    start_date = DateField("First day", validators=[plausible_date])
    end_date = DateField("Last day", validators=[plausible_date])
    instructions = TextAreaField("Instructions",
                                 validators=[Length(max=INSTRUCTIONS_MAX), printable_text])

    def details(self) -> dict[str, Any]:
        """What the form asks for, as the course schema reads it (it checks the rest)."""
        return {
            "medicine": self.medicine.data or "",
            "dosage": self.dosage.data or "",
            "times_of_day": self.times_of_day.data or "",
            "start_date": self.start_date.data,
            "end_date": self.end_date.data,
            "instructions": self.instructions.data or "",
        }


class PrescriptionForm(CourseForm):
    patient_id = SelectField("Patient", choices=[], validate_choice=False)

    def prescription(self) -> dict[str, Any]:
        return {"patient_id": self.patient_id.data, **self.details()}
