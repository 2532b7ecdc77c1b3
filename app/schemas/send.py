"""A request to send: to whom, what, on which channels, and when.

Every sender fills this one model (the compose form, the command line, the demo data, the
JSON API), so a request the form accepts is one the API accepts too. What it cannot check alone
(the time against the clock, lengths the clinic sets, which patients exist and may be reached,
whether the type has templates) the outbox checks next.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from datetime import datetime
from enum import Enum
from typing import Annotated, Any, Literal, TypeVar

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationInfo, field_validator

from app.schemas import refusal
from app.schemas.fields import at_most, moment, text
from app.services import idempotency
from app.services.input_rules import CONTROL_CHARACTERS, as_id, has_control_characters, parse_wall_clock
from app.services.rendering import RESERVED_DATA_KEYS
from app.services.send_times import schedule_problem
from app.services.template_fields import fields_for, label_for, missing_value_message
from app.vocabulary import Channel, NotificationType, Priority

ALL_MY_PATIENTS = "all_my_patients"  # a practitioner's own active patients
ALL_PATIENTS = "all_patients"  # every active patient (admins only)
RECIPIENT_GROUPS = (ALL_MY_PATIENTS, ALL_PATIENTS)

TITLE_MAX = 200
DATA_MAX_BYTES = 4096
DATA_VALUE_MAX = 500  # characters in one template value (a time, a medicine, a note)
_DATA_KEY = re.compile(r"^[a-z_][a-z0-9_]{0,63}$")

E = TypeVar("E", bound=Enum)
# What a template's data may hold: plain values, named like variables.
TemplateValues = dict[str, str | int | float | bool | None]


def _one_of(enum_cls: type[E], noun: str) -> Callable[[Any], E | None]:
    """A choice named by its value; an empty one is no choice."""
    choices = ", ".join(str(member.value) for member in enum_cls)

    def parse(raw: Any) -> E | None:
        if raw is None or raw == "":
            return None
        try:
            return enum_cls(raw)
        except (ValueError, TypeError):
            raise ValueError(f"Unknown {noun} {str(raw)[:40]!r}; choose one of: {choices}") from None

    return parse


def _patient_ids(raw: Any) -> list[int]:
    if raw is None:
        return []
    if isinstance(raw, str | bytes | Mapping) or not hasattr(raw, "__iter__"):
        raise ValueError("Give the patients as a list of ids")
    values = list(raw)
    ids = [as_id(value) for value in values]
    not_ids = [str(value)[:30] for value, id_ in zip(values, ids, strict=True) if id_ is None]
    if not_ids:
        raise ValueError(f"Unknown patient id(s): {', '.join(not_ids[:20])}")
    return list(dict.fromkeys(id_ for id_ in ids if id_ is not None))


def _group(raw: Any) -> str | None:
    if raw is None or raw == "":
        return None
    if raw not in RECIPIENT_GROUPS:
        raise ValueError(f"Unknown group {str(raw)[:40]!r}; choose one of: {', '.join(RECIPIENT_GROUPS)}")
    return str(raw)


def _some_channels(channels: list[Channel] | None) -> list[Channel] | None:
    if channels is not None and not channels:
        raise ValueError("Choose at least one channel, or the patient's preferences")
    return channels


def _template_values(raw: Any) -> dict[str, Any]:
    """Template values: named like variables, plain values, text short and printable.

    A value's problem is filed under `data.<name>`, so a form can show it at that value's field.
    """
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise ValueError("Data must be an object of names to values")
    for key in raw:
        if not isinstance(key, str) or not _DATA_KEY.match(key) or key in RESERVED_DATA_KEYS:
            raise ValueError(f"{str(key)[:40]!r} cannot be a data field name")
    problems: dict[tuple[str, ...], str] = {
        (str(key),): problem for key, value in raw.items() if (problem := _value_problem(key, value))
    }
    if problems:
        raise refusal(problems)
    values = dict(raw)
    if len(json.dumps(values, ensure_ascii=False).encode()) > DATA_MAX_BYTES:
        raise ValueError(f"Data is larger than {DATA_MAX_BYTES} bytes")
    return values


def _value_problem(key: str, value: Any) -> str | None:
    label = label_for(key)
    if value is not None and not isinstance(value, str | int | float | bool):
        return f"“{label}” must be text, a number or true/false"
    if isinstance(value, str) and len(value) > DATA_VALUE_MAX:
        return f"“{label}” is {len(value)} characters; the limit is {DATA_VALUE_MAX}"
    if isinstance(value, str) and has_control_characters(value):
        return f"“{label}”: {CONTROL_CHARACTERS.lower()}"
    return None


def _wall_clock(raw: Any) -> datetime | None:
    return None if raw is None or raw == "" else parse_wall_clock(raw)


def _key(raw: Any) -> str | None:
    if raw is not None and not idempotency.is_valid_key(raw):
        raise ValueError(idempotency.KEY_RULE)
    return raw


class SendRequest(BaseModel):
    """What a caller asks for. Reading it (`app.schemas.read`) checks every field at once;
    read with `context={"now": ...}`, the send time is checked against that moment too."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    type: Annotated[NotificationType, BeforeValidator(_one_of(NotificationType, "notification type"))]
    recipient_group: Annotated[Literal["all_my_patients", "all_patients"] | None, BeforeValidator(_group)] = None
    recipient_ids: Annotated[list[int], BeforeValidator(_patient_ids)] = Field(
        default_factory=list, validate_default=True
    )
    # None: each patient's own preferences for the type.
    channels: Annotated[
        list[Annotated[Channel, BeforeValidator(_one_of(Channel, "channel"))]] | None,
        AfterValidator(_some_channels),
    ] = None
    # The type's stored templates, filled with `data`...
    template_key: Annotated[NotificationType | None, BeforeValidator(_one_of(NotificationType, "template"))] = None
    # ...or this free text.
    title: Annotated[str, BeforeValidator(text(multiline=False)), AfterValidator(at_most(TITLE_MAX, "title"))] = ""
    body: Annotated[str, BeforeValidator(text(multiline=True))] = Field(default="", validate_default=True)
    data: Annotated[TemplateValues, BeforeValidator(_template_values)] = Field(
        default_factory=dict, validate_default=True
    )
    # Aware, or ISO 8601 with an offset; read as UTC. None: now.
    scheduled_at: Annotated[datetime | None, BeforeValidator(moment)] = None
    # Or a wall-clock time with no zone ("08:00"), read in each patient's own time zone.
    at_local_time: Annotated[datetime | None, BeforeValidator(_wall_clock)] = None
    priority: Annotated[Priority | None, BeforeValidator(_one_of(Priority, "priority"))] = None
    idempotency_key: Annotated[str | None, BeforeValidator(_key)] = None

    # Checks across fields are made as soon as the fields they read are valid, each at the field a
    # form shows it by, so one answer names every problem rather than one per submit.

    @field_validator("recipient_ids")
    @classmethod
    def _someone(cls, ids: list[int], info: ValidationInfo) -> list[int]:
        if "recipient_group" not in info.data:  # the group itself was refused
            return ids
        group = info.data["recipient_group"]
        if not ids and group is None:
            raise ValueError("Choose at least one patient")
        if ids and group is not None:
            raise ValueError("Send to patients by id or to a group, not both")
        return ids

    @field_validator("body")
    @classmethod
    def _something_to_say(cls, body: str, info: ValidationInfo) -> str:
        if "template_key" in info.data and info.data["template_key"] is None and not body:
            raise ValueError("Write a message, or choose a template")
        return body

    @field_validator("data")
    @classmethod
    def _what_the_template_needs(cls, data: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
        template_key = info.data.get("template_key")
        if template_key is not None:
            missing: dict[tuple[str, ...], str] = {
                (field.name,): missing_value_message(field.name)
                for field in fields_for(template_key.value)
                if field.required and not str(data.get(field.name) or "").strip()
            }
            if missing:
                raise refusal(missing)
        return data

    @field_validator("at_local_time")
    @classmethod
    def _one_way_to_say_when(cls, local: datetime | None, info: ValidationInfo) -> datetime | None:
        if local is not None and info.data.get("scheduled_at") is not None:
            raise ValueError("Give one time: an instant, or a local time for each patient")
        return local

    @field_validator("scheduled_at")
    @classmethod
    def _not_past_nor_far(cls, when: datetime | None, info: ValidationInfo) -> datetime | None:
        """Read with the moment of asking (a form submit, an API call), the time is checked
        against it at once; the outbox checks it again against the moment it writes."""
        now = (info.context or {}).get("now")
        if when is not None and now is not None and (problem := schedule_problem(when, now)):
            raise ValueError(problem)
        return when
