"""Prescribing and changing a medication course: what a practitioner may ask."""

from __future__ import annotations

from datetime import date, time, timedelta
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, ValidationInfo, field_validator

from app.schemas.fields import at_most, text
from app.services.input_rules import DAY_OUT_OF_RANGE, as_id, parse_time_of_day, plausible_day

MEDICINE_MAX = 120
DOSAGE_MAX = 120
INSTRUCTIONS_MAX = 1000
MOST_TIMES_A_DAY = 8
LONGEST_COURSE = timedelta(days=366)
# A course may be recorded after it began (the patient started it at the last visit), but not
# one that began so long ago that its record would be mostly made-up reminders.
EARLIEST_START = timedelta(days=30)


def _patient_id(raw: Any) -> int:
    patient_id = as_id(raw)
    if patient_id is None:
        raise ValueError("Choose a patient")
    return patient_id


def _needed(what: str) -> Any:
    def check(value: str) -> str:
        if not value:
            raise ValueError(f"Name the {what}")
        return value

    return check


def _day(what: str) -> Any:
    def parse(raw: Any) -> date:
        if raw is None or raw == "":
            raise ValueError(f"Choose the {what} date")
        if isinstance(raw, str):
            try:
                raw = date.fromisoformat(raw.strip())
            except ValueError:
                raise ValueError("Give the date as YYYY-MM-DD, like 2026-12-01") from None
        if not isinstance(raw, date):
            raise ValueError("Give the date as YYYY-MM-DD, like 2026-12-01")
        if not plausible_day(raw):
            raise ValueError(DAY_OUT_OF_RANGE)
        return raw

    return parse


def _times(raw: Any) -> list[time]:
    """Times of day as a list, or as text separated by commas or spaces ("08:00, 20:00")."""
    if raw is None:
        raw = []
    if isinstance(raw, str):
        raw = [part for part in raw.replace(",", " ").split() if part]
    if not isinstance(raw, list | tuple):
        raise ValueError("Give the times of day as a list, like 08:00, 20:00")
    if not raw:
        raise ValueError("Give at least one time of day, like 08:00")
    if len(raw) > MOST_TIMES_A_DAY:
        raise ValueError(f"At most {MOST_TIMES_A_DAY} times a day")
    times: list[time] = []
    for value in raw:
        try:
            times.append(value if isinstance(value, time) else parse_time_of_day(value))
        except ValueError as exc:
            raise ValueError(f"{str(value)[:20]!r}: {exc}") from None
    repeated = sorted({t for t in times if times.count(t) > 1})
    if repeated:
        raise ValueError(f"{', '.join(f'{t:%H:%M}' for t in repeated)} is given more than once")
    return sorted(times)


class CourseDetails(BaseModel):
    """What a course is, changeable while it runs.

    Read with `context={"today": ..., "kept_start": ...}`: a course whose end has passed, or that
    starts more than EARLIEST_START ago (unless it is the start the course already has), is refused.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    medicine: Annotated[str, BeforeValidator(text(multiline=False)), AfterValidator(_needed("medicine")),
                        AfterValidator(at_most(MEDICINE_MAX, "medicine"))]
    dosage: Annotated[str, BeforeValidator(text(multiline=False)), AfterValidator(_needed("dosage, e.g. 1 tablet")),
                      AfterValidator(at_most(DOSAGE_MAX, "dosage"))]
    times_of_day: Annotated[list[time], BeforeValidator(_times)]
    start_date: Annotated[date, BeforeValidator(_day("start"))]
    end_date: Annotated[date, BeforeValidator(_day("end"))]
    instructions: Annotated[str, BeforeValidator(text(multiline=True)),
                            AfterValidator(at_most(INSTRUCTIONS_MAX, "instructions"))] = ""

    @field_validator("start_date")
    @classmethod
    def _not_long_ago(cls, start: date, info: ValidationInfo) -> date:
        context = info.context or {}
        today = context.get("today")
        if today is not None and start < today - EARLIEST_START and start != context.get("kept_start"):
            raise ValueError(f"A course starts no more than {EARLIEST_START.days} days ago")
        return start

    @field_validator("end_date")
    @classmethod
    def _after_start(cls, end: date, info: ValidationInfo) -> date:
        start = info.data.get("start_date")
        today = (info.context or {}).get("today")
        if start is not None and end < start:
            raise ValueError("The end date is before the start date")
        if start is not None and end - start >= LONGEST_COURSE:
            raise ValueError(f"A course lasts at most {LONGEST_COURSE.days} days")
        if today is not None and end < today:
            raise ValueError("The end date has passed")
        return end

    @property
    def times_text(self) -> list[str]:
        return [f"{t:%H:%M}" for t in self.times_of_day]


class Prescription(CourseDetails):
    patient_id: Annotated[int, BeforeValidator(_patient_id)]
