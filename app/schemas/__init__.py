"""Request schemas: what a caller may ask, declared once with pydantic.

The compose form, the command line, the demo data and the JSON API fill the same models, so
they cannot disagree about what a valid request is, and an API document can be generated from
them. A schema holds the rules its fields can check on their own or together; rules that need
the clock, the settings or the database stay with the service that applies them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

import pydantic
from pydantic_core import InitErrorDetails, PydanticCustomError

from app.services.errors import ValidationError

Schema = TypeVar("Schema", bound=pydantic.BaseModel)

# Pydantic's own words for the few refusals our validators do not phrase themselves.
_PLAIN_WORDS = {
    "missing": "This is required",
    "extra_forbidden": "This is not a field of the request",
    "string_type": "Give this as text",
    "list_type": "Give a list",
}


def read(schema: type[Schema], raw: Mapping[str, Any], *, context: Mapping[str, Any] | None = None) -> Schema:
    """`raw` as a `schema`, or every problem at once, keyed by field. `context` is what some
    checks compare with, such as the moment of asking.

    Raises:
        ValidationError: bad input; a nested problem is keyed by its path, like `data.when`.
    """
    try:
        return schema.model_validate(raw, context=context)
    except pydantic.ValidationError as exc:
        raise ValidationError(field_errors(exc)) from None


def field_errors(exc: pydantic.ValidationError) -> dict[str, str]:
    """The first problem of each field, in words fit for whoever typed it."""
    errors: dict[str, str] = {}
    for error in exc.errors(include_url=False, include_input=False):
        errors.setdefault(_key(error["loc"]), _words(error))
    return errors


def refusal(problems: Mapping[tuple[str, ...], str]) -> pydantic.ValidationError:
    """Several problems found by one validator, each at its own place (a value of `data`).

    Raised inside a validator, pydantic files each under the field being validated.
    """
    return pydantic.ValidationError.from_exception_data(
        "refusal",
        [
            InitErrorDetails(type=PydanticCustomError("refused", "{words}", {"words": words}), loc=loc, input=None)
            for loc, words in problems.items()
        ],
    )


def _key(loc: tuple[int | str, ...]) -> str:
    """`channels.0` is about `channels`, and a mapping's key check (`[key]`) about the mapping."""
    return ".".join(str(part) for part in loc if isinstance(part, str) and part != "[key]") or "request"


def _words(error: Any) -> str:
    if error["type"] == "value_error":
        return str(error["ctx"]["error"])
    if error["type"] == "refused":
        return str(error["ctx"]["words"])
    return _PLAIN_WORDS.get(error["type"], error["msg"])
