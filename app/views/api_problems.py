"""Errors of the JSON API as RFC 9457 problem details (`application/problem+json`).

Every answer under /api/v1 that is not a success is one of these, whatever raised it: the API's
own checks, a service's refusal, Werkzeug's routing (404, 405), the rate limiter (429) or an
unexpected error (500). A field error names the field as the request spelt it.
"""

from __future__ import annotations

from collections.abc import Mapping

from flask import Response, json, request
from werkzeug.http import HTTP_STATUS_CODES

from app.schemas.api import FieldError, Problem

API_PREFIX = "/api/v1"
PROBLEM_TYPE = "application/problem+json"


def is_api_request() -> bool:
    return request.path == API_PREFIX or request.path.startswith(API_PREFIX + "/")


def problem(status: int, detail: str, *, errors: Mapping[str, str] | None = None,
            headers: Mapping[str, str] | None = None) -> Response:
    body = Problem(
        title=HTTP_STATUS_CODES.get(status, "Error"), status=status, detail=detail,
        errors=[FieldError(field=field, message=message) for field, message in (errors or {}).items()],
    )
    response = Response(json.dumps(body.as_json()), status=status, mimetype=PROBLEM_TYPE)
    response.headers.update(headers or {})
    return response
