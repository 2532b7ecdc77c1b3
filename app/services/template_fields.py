"""The data each notification type's templates use: what compose asks for in template mode."""

from __future__ import annotations

from dataclasses import dataclass

from app.vocabulary import NotificationType as T


@dataclass(frozen=True, slots=True)
class DataField:
    name: str
    label: str
    required: bool
    hint: str = ""
    sample: str = ""  # what the template editor's preview fills it with


# What every template may use besides its type's data: they come from the recipient and clinic.
RECIPIENT_FIELDS = (
    DataField("patient_name", "The patient's name", True, sample="Priya Sharma"),
    DataField("practitioner_name", "Their practitioner's name (the clinic's when they have none)", True,
              sample="Dr. Vaidya Ramesh"),
    DataField("clinic", "The clinic's name", True),
    DataField("inbox_url", "The link to the patient's inbox", True),
)


_WHEN = DataField("when", "Appointment time", True, "As the patient should read it, e.g. Mon 2 Dec, 10:00",
                  "Mon 2 Dec, 10:00")
_THERAPY = DataField("therapy", "Therapy", False, "e.g. Abhyanga, Shirodhara", "Abhyanga")
_NOTE = DataField("note", "Note", False, "Shown in the inbox and email, never in SMS or push",
                  "Keep the oil on for an hour before bathing.")
# A treatment plan's progress, given apart so each language's template can phrase it.
_PHASE = DataField("phase", "Phase", False, "e.g. Purvakarma", "Purvakarma")
_PERCENT = DataField("percent", "Percent complete", False, "A whole number, e.g. 40", "40")
_NEXT = DataField("next_milestone", "Next milestone", False, "e.g. Virechana on 8 Dec", "Virechana on 8 Dec")

TEMPLATE_FIELDS: dict[T, tuple[DataField, ...]] = {
    T.APPOINTMENT_REMINDER: (_WHEN, _THERAPY),
    T.APPOINTMENT_CONFIRMATION: (_WHEN, _THERAPY),
    T.APPOINTMENT_CANCELLATION: (_WHEN, _THERAPY),
    T.TREATMENT_UPDATE: (_THERAPY, _PHASE, _PERCENT, _NEXT, _NOTE),
    T.MEDICATION_REMINDER: (
        DataField("medicine", "Medicine", True, "e.g. Triphala churna", "Triphala churna"),
        DataField("dose", "Dose", False, "e.g. 1 teaspoon with warm water", "1 teaspoon with warm water"),
    ),
    T.HEALTH_ALERT: (DataField("message", "Alert", True, "What the patient must know or do",
                               "Drink water and rest indoors this afternoon."),),
    T.PROGRESS_UPDATE: (_NOTE,),
}


_LABELS = {f.name: f.label for fields in TEMPLATE_FIELDS.values() for f in fields}


def fields_for(type_value: str | None) -> tuple[DataField, ...]:
    return TEMPLATE_FIELDS.get(T(type_value), ()) if T.has_value(type_value) else ()


def label_for(name: str) -> str:
    """A data value's name as the compose form labels it ("when" is "Appointment time")."""
    return _LABELS.get(name) or name.replace("_", " ").strip().capitalize() or name


def missing_value_message(name: str) -> str:
    """What a send is told when its template needs a value it was not given."""
    return f"Fill in “{label_for(name)}”: the template needs it"
