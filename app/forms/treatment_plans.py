"""Starting a treatment plan and recording progress on it.

The forms carry what was typed; the plan and progress schemas (app/schemas/treatment_plan.py)
say what is valid, so the rules live in one place and the form shows their words.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_wtf import FlaskForm
from wtforms import Field, Form, SelectField, StringField, TextAreaField
from wtforms.fields import FieldList, FormField

from app.schemas.treatment_plan import PHASES_MAX

PHASE_ROWS = 5  # rows offered on a new plan; an empty row is no phase
PLACEHOLDERS = ("Purvakarma (preparation)", "Pradhanakarma (Vamana, Virechana, Basti…)", "Paschatkarma (recovery)")


class PhaseForm(Form):
    name = StringField("Phase")
    starts_on = StringField("Starts", render_kw={"type": "date"})
    ends_on = StringField("Ends", render_kw={"type": "date"})
    description = StringField("Description")

    def is_blank(self) -> bool:
        return not any((field.data or "").strip() for field in self)


class PlanForm(FlaskForm):
    patient_id = SelectField("Patient", choices=[], validate_choice=False)
    name = StringField("Plan")
    phases = FieldList(FormField(PhaseForm), min_entries=PHASE_ROWS, max_entries=PHASES_MAX)

    def filled_rows(self) -> list[int]:
        """The rows holding a phase, in order: the schema's phase n is row `filled_rows()[n]`."""
        return [n for n, entry in enumerate(self.phases) if not entry.form.is_blank()]

    def plan(self) -> dict[str, Any]:
        """What the form asks for, as the plan schema reads it."""
        return {
            "patient_id": self.patient_id.data,
            "name": self.name.data or "",
            "phases": [
                {key: self.phases[n].form[key].data or "" for key in ("name", "starts_on", "ends_on", "description")}
                for n in self.filled_rows()
            ],
        }

    def show_phase_errors(self, errors: Mapping[str, str]) -> tuple[dict[str, str], list[tuple[str, str]]]:
        """Put each phase's problem (`phases.<n>.<field>`, or `phases` when none was given) at
        its row. Returns the other problems, and (field id, problem) pairs for the summary."""
        rows = self.filled_rows() or [0]
        rest: dict[str, str] = {}
        links: list[tuple[str, str]] = []
        for key, message in errors.items():
            field = self._phase_field(key, rows)
            if field is None:
                rest[key] = message
            else:
                field.errors = [message]
                links.append((field.id, message))
        return rest, links

    def _phase_field(self, key: str, rows: list[int]) -> Field | None:
        if key == "phases":
            return self.phases[rows[0]].form.name
        n, _, name = key.removeprefix("phases.").partition(".")
        if not key.startswith("phases.") or not n.isdigit() or int(n) >= len(rows):
            return None
        row = self.phases[rows[int(n)]].form
        return row._fields.get(name)


class ProgressForm(FlaskForm):
    phase_id = SelectField("Phase", choices=[], validate_choice=False)
    percent = StringField("Percent complete", render_kw={"inputmode": "numeric"})
    next_milestone = StringField("Next milestone")
    notes = TextAreaField("Note to the patient")

    def progress(self) -> dict[str, Any]:
        return {
            "phase_id": self.phase_id.data,
            "percent": self.percent.data or "",
            "next_milestone": self.next_milestone.data or "",
            "notes": self.notes.data or "",
        }
