"""Error pages: every error answers in the shape the caller asked for, never a stack trace.

Pages say in the product's own words what happened and what to do next. A sentence our own
code gave the error (a service's refusal, `abort(400, description=...)`, a rate limit's
message) says what happened in its place; Werkzeug's stock descriptions are never shown.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from flask import Flask, jsonify, render_template, request
from flask_limiter.errors import RateLimitExceeded
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException
from werkzeug.http import HTTP_STATUS_CODES

from app.extensions import db
from app.services.errors import ServiceError, ValidationError
from app.views.api_problems import is_api_request, problem

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ErrorWords:
    title: str
    happened: str
    next_step: str


HOME = "Go to your home page and find it from there."
ERROR_WORDS = {
    400: ErrorWords("Something in that request was wrong",
                    "The page could not use what was sent to it.",
                    "Go back, check what you entered, and try again."),
    403: ErrorWords("You cannot open this page",
                    "Your account does not give you access to it.",
                    "If you need it for your work, ask your clinic's administrator. " + HOME),
    404: ErrorWords("Page not found",
                    "There is nothing at this address, or it is not yours to see.",
                    "If you typed the address, check it. " + HOME),
    405: ErrorWords("That cannot be done here",
                    "This address does not accept that kind of request.",
                    HOME),
    413: ErrorWords("That was too large",
                    "What was sent is larger than this service accepts.",
                    "Send less at once, then try again."),
    422: ErrorWords("Something in that request was wrong",
                    "What was sent could not be accepted.",
                    "Go back, check what you entered, and try again."),
    429: ErrorWords("Too many attempts",
                    "There were too many requests from here in a short time.",
                    "Wait a minute, then try again."),
    500: ErrorWords("Something went wrong",
                    "Sorry: something went wrong on our side. Nothing you sent was lost.",
                    "Try again in a few minutes. If it keeps happening, tell your clinic's administrator "
                    "what you were doing and when."),
    503: ErrorWords("The service is busy",
                    "Sutra Notify cannot answer right now. Nothing you sent was lost.",
                    "Try again in a few minutes."),
}
CSRF_WORDS = ErrorWords("Please try again",
                        "Your form expired, or it came from another site.",
                        "Reload the page, then send the form again.")


def _words(code: int) -> ErrorWords:
    return ERROR_WORDS.get(code) or ErrorWords(HTTP_STATUS_CODES.get(code, "Error"),
                                               "This request could not be completed.", HOME)


def _own_detail(error: HTTPException) -> str | None:
    """The sentence our own code gave `error`, if any (not Werkzeug's stock description)."""
    if isinstance(error, RateLimitExceeded):
        return error.description if error.limit.error_message else None
    description = error.description
    return description if description and description != type(error).description else None


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def _answer(code: int, words: ErrorWords, detail: str | None, name: str, *,
            errors: dict[str, str] | None = None, headers: dict[str, str] | None = None):
    if is_api_request():
        return problem(code, detail or words.happened, errors=errors, headers=headers)
    if _wants_json():
        return jsonify(error=name, message=detail or f"{words.happened} {words.next_step}"), code
    return render_template("errors/error.html", code=code, words=words, detail=detail), code


def _error_name(code: int) -> str:
    return HTTP_STATUS_CODES.get(code, "error").lower().replace(" ", "_")


def register(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError):
        return _answer(400, CSRF_WORDS, None, "csrf")

    @app.errorhandler(ServiceError)
    def service_error(error: ServiceError):
        """A service's refusal no view answered itself (an unknown or hidden id is a 404)."""
        code = error.status_code
        errors = error.errors if isinstance(error, ValidationError) else None
        return _answer(code, _words(code), error.message, _error_name(code), errors=errors)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        code = error.code or 500
        headers = {name: value for name, value in error.get_headers() if name.lower() != "content-type"}
        return _answer(code, _words(code), _own_detail(error), _error_name(code), headers=headers)

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception):
        log.exception("unhandled error on %s %s", request.method, request.path)
        # A failed statement leaves the transaction unusable; the page itself may need the
        # database (the signed-in user, the unread badge), so start clean before rendering it.
        db.session.rollback()
        return _answer(500, _words(500), None, "internal_error")
