"""A treatment plan and a progress record on it: what a practitioner may ask.

A plan's phases come in the order they happen and do not overlap (one ends before the next
starts; a gap between them is allowed). A phase's problem is filed under `phases.<n>.<field>`,
`n` counting from 0 in the order given, so a form can show it at that row.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date, datetime
from itertools import pairwise
from typing import Annotated, Any

import pydantic
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, ValidationInfo, field_validator

from app.schemas import field_errors, refusal
from app.schemas.fields import at_most, text
from app.services.input_rules import DAY_OUT_OF_RANGE, as_id, plausible_day

PLAN_NAME_MAX = 80
PHASE_NAME_MAX = 60
PHASE_DESCRIPTION_MAX = 500
PHASES_MAX = 12
MILESTONE_MAX = 120
# A record's notes go to the patient inside the template's `note`, beside the phase and the
# milestone, and a template value holds at most 500 characters (app.schemas.send).
PROGRESS_NOTES_MAX = 280

NOT_A_PERCENT = "Give the percent complete as a whole number from 0 to 100"
_WHOLE_NUMBER = re.compile(r"^[+-]?[0-9]{1,9}$")


def _needed(words: str) -> Callable[[str], str]:
    def check(value: str) -> str:
        if not value:
            raise ValueError(words)
        return value

    return check


def _day(missing: str) -> Callable[[Any], date]:
    """A day as a date or ISO text (what a date input sends: 2026-12-01)."""

    def parse(raw: Any) -> date:
        if raw is None or raw == "":
            raise ValueError(missing)
        if isinstance(raw, str):
            try:
                raw = date.fromisoformat(raw.strip())
            except ValueError:
                raise ValueError("Give the day as a date, like 2026-12-01") from None
        if isinstance(raw, datetime) or not isinstance(raw, date):
            raise ValueError("Give the day as a date, like 2026-12-01")
        if not plausible_day(raw):
            raise ValueError(DAY_OUT_OF_RANGE)
        return raw

    return parse


def _patient_id(raw: Any) -> int:
    patient_id = as_id(raw)
    if patient_id is None:
        raise ValueError("Choose a patient")
    return patient_id


def _phase_id(raw: Any) -> int:
    phase_id = as_id(raw)
    if phase_id is None:
        raise ValueError("Choose one of this plan's phases")
    return phase_id


def _percent(raw: Any) -> int:
    if raw is None or raw == "":
        raise ValueError("Give the percent complete, 0 to 100")
    if isinstance(raw, str) and _WHOLE_NUMBER.match(raw.strip()):
        raw = int(raw.strip())
    if isinstance(raw, bool) or not isinstance(raw, int):
        raise ValueError(NOT_A_PERCENT)
    if not 0 <= raw <= 100:
        raise ValueError(f"A percent is 0 to 100, not {raw}")
    return raw


class Phase(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: Annotated[str, BeforeValidator(text(multiline=False)),
                    AfterValidator(_needed("Name the phase, e.g. Purvakarma")),
                    AfterValidator(at_most(PHASE_NAME_MAX, "phase name"))]
    starts_on: Annotated[date, BeforeValidator(_day("Choose the day it starts"))]
    ends_on: Annotated[date, BeforeValidator(_day("Choose the day it ends"))]
    description: Annotated[str, BeforeValidator(text(multiline=True)),
                           AfterValidator(at_most(PHASE_DESCRIPTION_MAX, "description"))] = ""

    @field_validator("ends_on")
    @classmethod
    def _not_before_start(cls, ends_on: date, info: ValidationInfo) -> date:
        starts_on = info.data.get("starts_on")
        if starts_on is not None and ends_on < starts_on:
            raise ValueError("A phase ends on or after the day it starts")
        return ends_on


def _phases(raw: Any) -> list[Phase]:
    """Every phase read, then their order checked; every problem at its row at once."""
    if raw is None or (isinstance(raw, list | tuple) and not raw):
        raise ValueError("Give the plan at least one phase")
    if not isinstance(raw, list | tuple):
        raise ValueError("Give the phases as a list")
    if len(raw) > PHASES_MAX:
        raise ValueError(f"A plan has at most {PHASES_MAX} phases")
    phases: list[Phase | None] = []
    problems: dict[tuple[str, ...], str] = {}
    for n, item in enumerate(raw):
        if not isinstance(item, Mapping):
            phases.append(None)
            problems[(str(n), "name")] = "Give each phase as its name, days and description"
            continue
        try:
            phases.append(Phase.model_validate(item))
        except pydantic.ValidationError as exc:
            phases.append(None)
            problems.update({(str(n), key): words for key, words in field_errors(exc).items()})
    for n, (before, after) in enumerate(pairwise(phases), start=1):
        if before is None or after is None:
            continue
        if after.starts_on < before.starts_on:
            problems[(str(n), "starts_on")] = f"Phases come in the order they happen: this starts before {before.name}"
        elif after.starts_on <= before.ends_on:
            problems[(str(n), "starts_on")] = (
                f"This overlaps {before.name}, which ends on {before.ends_on.isoformat()}; start it after that"
            )
    if problems:
        raise refusal(problems)
    return [phase for phase in phases if phase is not None]


class PlanRequest(BaseModel):
    """A new plan for one patient, with its phases in order."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    patient_id: Annotated[int, BeforeValidator(_patient_id)]
    name: Annotated[str, BeforeValidator(text(multiline=False)),
                    AfterValidator(_needed("Name the plan, e.g. Panchakarma")),
                    AfterValidator(at_most(PLAN_NAME_MAX, "plan name"))]
    phases: Annotated[list[Phase], BeforeValidator(_phases)]


class ProgressRequest(BaseModel):
    """A progress record: which phase, how far the whole plan is, what comes next."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    phase_id: Annotated[int, BeforeValidator(_phase_id)]
    percent: Annotated[int, BeforeValidator(_percent)]
    next_milestone: Annotated[str, BeforeValidator(text(multiline=False)),
                              AfterValidator(at_most(MILESTONE_MAX, "milestone"))] = ""
    notes: Annotated[str, BeforeValidator(text(multiline=True)),
                     AfterValidator(at_most(PROGRESS_NOTES_MAX, "note"))] = ""
