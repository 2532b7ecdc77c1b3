"""Booking and moving an appointment: what a practitioner (or, later, the clinic's booking
system through the API) may ask."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, ValidationInfo, field_validator

from app.schemas.fields import at_most, moment, text
from app.services.input_rules import as_id
from app.services.send_times import FURTHEST_SCHEDULE

TREATMENT_MAX = 80
LOCATION_MAX = 120
NOTES_MAX = 2000
SHORTEST_MINUTES = 5
LONGEST_MINUTES = 8 * 60


def _patient_id(raw: Any) -> int:
    patient_id = as_id(raw)
    if patient_id is None:
        raise ValueError("Choose a patient")
    return patient_id


def _minutes(raw: Any) -> int:
    minutes = as_id(raw)
    if minutes is None or not SHORTEST_MINUTES <= minutes <= LONGEST_MINUTES:
        raise ValueError(f"A duration is {SHORTEST_MINUTES} to {LONGEST_MINUTES} minutes")
    return minutes


def _start(raw: Any) -> datetime:
    when = moment(raw)
    if when is None:
        raise ValueError("Choose the date and time")
    return when


def _needed(value: str) -> str:
    if not value:
        raise ValueError("Name the treatment, e.g. Abhyanga")
    return value


class AppointmentTime(BaseModel):
    """When an appointment starts: aware, or ISO 8601 with an offset; read as UTC.

    Read with `context={"now": ...}`, a start that has passed is refused.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    starts_at: Annotated[datetime, BeforeValidator(_start)]

    @field_validator("starts_at")
    @classmethod
    def _still_ahead(cls, starts_at: datetime, info: ValidationInfo) -> datetime:
        now = (info.context or {}).get("now")
        if now is not None and starts_at <= now:
            raise ValueError("Choose a time that has not passed")
        if now is not None and starts_at > now + FURTHEST_SCHEDULE:
            raise ValueError("Book no more than a year ahead")
        return starts_at


class Booking(AppointmentTime):
    patient_id: Annotated[int, BeforeValidator(_patient_id)]
    duration_minutes: Annotated[int, BeforeValidator(_minutes)] = 60
    treatment: Annotated[str, BeforeValidator(text(multiline=False)), AfterValidator(_needed),
                         AfterValidator(at_most(TREATMENT_MAX, "treatment"))]
    location: Annotated[str, BeforeValidator(text(multiline=False)),
                        AfterValidator(at_most(LOCATION_MAX, "location"))] = ""
    notes: Annotated[str, BeforeValidator(text(multiline=True)), AfterValidator(at_most(NOTES_MAX, "note"))] = ""
