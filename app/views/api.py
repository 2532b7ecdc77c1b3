"""The JSON API for clinic systems, under /api/v1, authenticated by API keys (Bearer).

Each route is declared once with `operation`: its method and path, the scope its key needs, the
models it reads and answers with. That one declaration registers the Flask route and feeds the
OpenAPI document (`app.views.api_document`), so the document lists exactly what is served.

Only the `Authorization: Bearer` header authenticates here: a browser's session cookie does not
(another site could otherwise make a signed-in admin's browser call the API), which is also why
the web forms' CSRF check does not apply to these routes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import wraps
from typing import Any

from flask import Blueprint, Response, current_app, json, request
from pydantic import BaseModel
from werkzeug.datastructures import WWWAuthenticate
from werkzeug.exceptions import BadRequest, Forbidden, Unauthorized, UnsupportedMediaType

from app.clock import utcnow
from app.extensions import limiter
from app.models.api_key import ApiKey
from app.schemas import read
from app.schemas.api import (
    ChangeAnswer,
    NotificationOut,
    NotificationPage,
    NotificationQuery,
    RescheduleRequest,
    SendAnswer,
    StatsAnswer,
    StatsQuery,
)
from app.schemas.send import SendRequest
from app.services import api_idempotency, api_keys, idempotency, integration_api
from app.services.api_idempotency import HEADER as IDEMPOTENCY_HEADER
from app.services.api_keys import token_digest
from app.services.errors import ValidationError
from app.views.api_document import Operation, openapi_document
from app.vocabulary import ApiScope

bp = Blueprint("api", __name__, url_prefix="/api/v1")


OPERATIONS: list[Operation] = []


def operation(method: str, rule: str, *, scope: ApiScope | None, answer: type[BaseModel] | None, status: int = 200,
              body: type[BaseModel] | None = None, body_required: bool = False, query: type[BaseModel] | None = None,
              links: Mapping[str, Mapping[str, Any]] | None = None) -> Callable:
    """Register a view as a route of the API and describe it for the document.

    The view is called with the authenticated key (unless `scope` is None) and the URL's values.
    """

    def decorate(view: Callable) -> Callable:
        OPERATIONS.append(Operation(
            endpoint=f"{bp.name}.{view.__name__}", method=method, rule=rule,
            summary=(view.__doc__ or "").strip().splitlines()[0], scope=scope, answer=answer, status=status,
            body=body, body_required=body_required, query=query, links=links or {},
        ))

        @wraps(view)
        def guarded(**values: Any) -> Any:
            if scope is None:
                return view(**values)
            return view(_key_with(scope), **values)

        bp.add_url_rule(rule, view.__name__, guarded, methods=[method])
        return guarded

    return decorate


def _rate_limit_key() -> str:
    """Per key (by its digest, so an unknown key is counted too), else per client address."""
    token = _bearer_token()
    return f"api-key:{token_digest(token)[:32]}" if token else f"api-address:{request.remote_addr}"


limiter.limit(lambda: current_app.config["API_RATE_LIMIT"], key_func=_rate_limit_key)(bp)


def _bearer_token() -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def _key_with(scope: ApiScope) -> ApiKey:
    token = _bearer_token()
    if token is None:
        raise _unauthorized("Send an API key as `Authorization: Bearer <key>`")
    key = api_keys.authenticate(token)
    if key is None:
        raise _unauthorized("This API key is unknown or was revoked")
    if not api_keys.has_scope(key, scope):
        raise Forbidden(description=f"This API key does not have the `{scope.value}` scope")
    return key


def _unauthorized(detail: str) -> Unauthorized:
    return Unauthorized(description=detail, www_authenticate=WWWAuthenticate("Bearer", {"realm": "api"}))


def _json_body(*, required: bool) -> dict[str, Any]:
    """The request's JSON object; {} for no body where one is optional.

    Raises:
        UnsupportedMediaType: a body that is not JSON.
        BadRequest: JSON that does not parse.
        ValidationError: JSON that is not an object.
    """
    has_body = bool(request.content_length) or request.headers.get("Transfer-Encoding") == "chunked"
    if not has_body and not required:
        return {}
    if not request.is_json:
        raise UnsupportedMediaType(description="Send the body as JSON, with `Content-Type: application/json`")
    try:
        raw = request.get_json()
    except BadRequest:
        raise BadRequest(description="The body is not valid JSON") from None
    if not isinstance(raw, dict):
        raise ValidationError({"request": "Give a JSON object"})
    return raw


def _answer(status: int, body: Mapping[str, Any]) -> Response:
    return Response(json.dumps(body), status=status, mimetype="application/json")


def _model(model: BaseModel, status: int = 200) -> Response:
    return _answer(status, model.model_dump(mode="json"))


def _idempotent(key: ApiKey, body: Mapping[str, Any] | None, work: Callable[[], api_idempotency.Answer],
                *, idempotency_key: str | None = None) -> Response:
    fingerprint = api_idempotency.fingerprint(request.method, request.path, body)
    answer = api_idempotency.answer_once(
        key.id, idempotency_key or request.headers.get(IDEMPOTENCY_HEADER), fingerprint, work
    )
    return _answer(answer.status, answer.body)


# --- routes --------------------------------------------------------------------------------

_NOTIFICATION_ID = "$response.body#/recipients/0/channels/0/notification_id"


@operation("POST", "/notifications", scope=ApiScope.SEND, answer=SendAnswer, status=201, body=SendRequest,
           body_required=True, links={
               "GetNotification": {"operationId": "get_notification", "parameters": {"public_id": _NOTIFICATION_ID}},
               "CancelNotification": {"operationId": "cancel_notification",
                                      "parameters": {"public_id": _NOTIFICATION_ID}},
               "RescheduleNotification": {"operationId": "reschedule_notification",
                                          "parameters": {"public_id": _NOTIFICATION_ID}},
           })
def send_notifications(key: ApiKey):
    """Send to one or many patients, by patient id, as the compose form does.

    The same request as compose (`SendRequest`); the answer gives each patient's notifications,
    one per channel, suppressed ones with their reason. An `idempotency_key` in the body counts
    as the `Idempotency-Key` header (both given, they must agree).
    """
    raw = _json_body(required=True)
    header_key, body_key = request.headers.get(IDEMPOTENCY_HEADER), raw.get("idempotency_key")
    if body_key is not None and not idempotency.is_valid_key(body_key):
        raise ValidationError({"idempotency_key": idempotency.KEY_RULE})
    if header_key is not None and body_key is not None and header_key != body_key:
        raise ValidationError({"idempotency_key": f"Differs from the {IDEMPOTENCY_HEADER} header; give one key"})
    asked = {name: value for name, value in raw.items() if name != "idempotency_key"}

    def send() -> api_idempotency.Answer:
        # Read inside the idempotent work: a retry is answered as the first time even once,
        # say, its scheduled time has passed.
        return integration_api.send(key, read(SendRequest, asked, context={"now": utcnow()}))

    return _idempotent(key, asked, send, idempotency_key=header_key or body_key)


@operation("GET", "/notifications", scope=ApiScope.READ, answer=NotificationPage, query=NotificationQuery)
def list_notifications(key: ApiKey):
    """Notifications, newest first, filtered, a page at a time (pass `next_cursor` as `cursor`)."""
    query = read(NotificationQuery, request.args.to_dict())
    return _model(integration_api.notification_page(key, query))


@operation("GET", "/notifications/<public_id>", scope=ApiScope.READ, answer=NotificationOut)
def get_notification(key: ApiKey, public_id: str):
    """One notification: a message to one patient on one channel, and where it stands."""
    return _model(integration_api.notification(key, public_id))


@operation("POST", "/notifications/<public_id>/cancel", scope=ApiScope.SEND, answer=ChangeAnswer)
def cancel_notification(key: ApiKey, public_id: str):
    """Cancel the message this notification belongs to: every channel no worker has claimed."""
    body = _json_body(required=False)
    if body:
        raise ValidationError({"request": "A cancel takes no fields"})
    return _idempotent(key, None, lambda: integration_api.cancel(key, public_id))


@operation("POST", "/notifications/<public_id>/reschedule", scope=ApiScope.SEND, answer=ChangeAnswer,
           body=RescheduleRequest)
def reschedule_notification(key: ApiKey, public_id: str):
    """Move the message this notification belongs to (every unclaimed channel) to a new time."""
    asked = read(RescheduleRequest, _json_body(required=False))
    return _idempotent(key, asked.model_dump(mode="json"),
                       lambda: integration_api.reschedule(key, public_id, asked.scheduled_at))


@operation("GET", "/stats", scope=ApiScope.READ, answer=StatsAnswer, query=StatsQuery)
def stats(key: ApiKey):
    """Sent, delivered and failed per channel over a range of UTC days, and the queues now."""
    query = read(StatsQuery, request.args.to_dict())
    return _model(integration_api.stats_answer(query))


@operation("GET", "/openapi.json", scope=None, answer=None)
def openapi():
    """This API's OpenAPI 3.1 document, generated from its routes and models."""
    return _answer(200, openapi_document(OPERATIONS))
