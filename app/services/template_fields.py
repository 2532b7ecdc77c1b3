"""The data each notification type's templates use: what compose asks for in template mode."""

from __future__ import annotations

from dataclasses import dataclass

from app.models.enums import NotificationType as T


@dataclass(frozen=True, slots=True)
class DataField:
    name: str
    label: str
    required: bool
    hint: str = ""


_WHEN = DataField("when", "Appointment time", True, "As the patient should read it, e.g. Mon 2 Dec, 10:00")
_THERAPY = DataField("therapy", "Therapy", False, "e.g. Abhyanga, Shirodhara")
_NOTE = DataField("note", "Note", False, "Shown in the inbox and email, never in SMS or push")

TEMPLATE_FIELDS: dict[T, tuple[DataField, ...]] = {
    T.APPOINTMENT_REMINDER: (_WHEN, _THERAPY),
    T.APPOINTMENT_CONFIRMATION: (_WHEN, _THERAPY),
    T.TREATMENT_UPDATE: (_THERAPY, _NOTE),
    T.MEDICATION_REMINDER: (
        DataField("medicine", "Medicine", True, "e.g. Triphala churna"),
        DataField("dose", "Dose", False, "e.g. 1 teaspoon with warm water"),
    ),
    T.HEALTH_ALERT: (DataField("message", "Alert", True, "What the patient must know or do"),),
    T.PROGRESS_UPDATE: (_NOTE,),
}


def fields_for(type_value: str | None) -> tuple[DataField, ...]:
    return TEMPLATE_FIELDS.get(T(type_value), ()) if T.has_value(type_value) else ()
