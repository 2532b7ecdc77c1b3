"""The API's OpenAPI 3.1 document, generated on request from the routes' declarations.

Request and answer schemas are pydantic's own JSON Schemas of the models the routes use
(`model_json_schema`), which OpenAPI 3.1 takes as they are, so the document is never written
by hand and cannot disagree with what the routes accept and answer.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel

from app.schemas.api import Problem
from app.services import idempotency
from app.services.api_idempotency import HEADER as IDEMPOTENCY_HEADER
from app.views.api_problems import API_PREFIX, PROBLEM_TYPE
from app.vocabulary import ApiScope

TITLE = "Sutra Notify API"
VERSION = "1.0.0"
_RULE_ARGUMENT = re.compile(r"<(?:(\w+):)?(\w+)>")
_REF = "#/components/schemas/{model}"


@dataclass(frozen=True)
class Operation:
    """One route of the API, as the document describes it."""

    endpoint: str
    method: str
    rule: str
    summary: str
    scope: ApiScope | None  # None: open to anyone (the document itself)
    answer: type[BaseModel] | None
    status: int = 200
    body: type[BaseModel] | None = None
    body_required: bool = False
    query: type[BaseModel] | None = None
    links: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    @property
    def operation_id(self) -> str:
        return self.endpoint.rpartition(".")[2]

    @property
    def path(self) -> str:
        return API_PREFIX + _RULE_ARGUMENT.sub(r"{\2}", self.rule)


def openapi_document(operations: Sequence[Operation]) -> dict[str, Any]:
    schemas: dict[str, Any] = {}
    paths: dict[str, dict[str, Any]] = {}
    for op in operations:
        paths.setdefault(op.path, {})[op.method.lower()] = _operation(op, schemas)
    _schema_of(Problem, "serialization", schemas)
    return {
        "openapi": "3.1.0",
        "info": {"title": TITLE, "version": VERSION,
                 "description": "Send and follow notifications from a clinic's own systems. Errors are "
                                "RFC 9457 problem details."},
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                           "description": "An API key made by an admin under Admin → API keys"}},
        },
    }


def _operation(op: Operation, schemas: dict[str, Any]) -> dict[str, Any]:
    described: dict[str, Any] = {"operationId": op.operation_id, "summary": op.summary}
    parameters = [_path_parameter(converter, name) for converter, name in _RULE_ARGUMENT.findall(op.rule)]
    if op.query is not None:
        parameters += _query_parameters(op.query, schemas)
    if op.method == "POST":
        parameters.append({
            "name": IDEMPOTENCY_HEADER, "in": "header", "required": False,
            "description": "Retrying with the same key and body answers as the first time",
            "schema": {"type": "string", "minLength": 1, "maxLength": idempotency.KEY_MAX},
        })
    if parameters:
        described["parameters"] = parameters
    if op.body is not None:
        described["requestBody"] = {
            "required": op.body_required,
            "content": {"application/json": {"schema": _schema_of(op.body, "validation", schemas)}},
        }
    success: dict[str, Any] = {"description": "OK"}
    if op.answer is not None:
        success["content"] = {"application/json": {"schema": _schema_of(op.answer, "serialization", schemas)}}
    else:
        success["content"] = {"application/json": {"schema": {"type": "object"}}}
    if op.links:
        success["links"] = dict(op.links)
    described["responses"] = {
        str(op.status): success,
        "default": {"description": "A problem (RFC 9457)",
                    "content": {PROBLEM_TYPE: {"schema": {"$ref": _REF.format(model=Problem.__name__)}}}},
    }
    described["security"] = [] if op.scope is None else [{"bearer": []}]
    if op.scope is not None:
        described["description"] = f"Needs a key with the `{op.scope.value}` scope."
    return described


def _schema_of(model: type[BaseModel], mode: Literal["validation", "serialization"],
               schemas: dict[str, Any]) -> dict[str, Any]:
    schema = model.model_json_schema(mode=mode, ref_template=_REF)
    schemas.update(schema.pop("$defs", {}))
    schemas[model.__name__] = schema
    return {"$ref": _REF.format(model=model.__name__)}


def _path_parameter(converter: str, name: str) -> dict[str, Any]:
    schema = {"type": "integer", "minimum": 1} if converter == "int" else {"type": "string"}
    return {"name": name, "in": "path", "required": True, "schema": schema}


def _query_parameters(model: type[BaseModel], schemas: dict[str, Any]) -> list[dict[str, Any]]:
    """A model's fields as query parameters. A query has no null: an optional field is one left out."""
    schema = model.model_json_schema(mode="validation", ref_template=_REF)
    schemas.update(schema.pop("$defs", {}))
    required = set(schema.get("required", []))
    parameters = []
    for name, prop in schema["properties"].items():
        prop = dict(prop)
        options = [option for option in prop.pop("anyOf", []) if option != {"type": "null"}]
        if len(options) == 1:
            prop.update(options[0])
        elif options:
            prop["anyOf"] = options
        if prop.get("default") is None:
            prop.pop("default", None)
        parameters.append({"name": name, "in": "query", "required": name in required, "schema": prop})
    return parameters
