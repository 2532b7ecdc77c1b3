"""Error pages: every error answers in the shape the caller asked for, never a stack trace."""

from __future__ import annotations

import logging

from flask import Flask, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError
from werkzeug.http import HTTP_STATUS_CODES

from app.services.errors import ServiceError

log = logging.getLogger(__name__)


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def register(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError):
        message = "Your form expired or came from another site. Reload the page and try again."
        if _wants_json():
            return jsonify(error="csrf", message=message), 400
        return render_template("errors/error.html", code=400, title="Please try again", message=message), 400

    @app.errorhandler(ServiceError)
    def service_error(error: ServiceError):
        """A service's refusal no view answered itself (an unknown or hidden id is a 404)."""
        name = HTTP_STATUS_CODES.get(error.status_code, "Error")
        if _wants_json():
            return jsonify(error=name.lower().replace(" ", "_"), message=error.message), error.status_code
        return (
            render_template("errors/error.html", code=error.status_code, title=name, message=error.message),
            error.status_code,
        )

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if _wants_json():
            return jsonify(error=error.name.lower().replace(" ", "_"), message=error.description), error.code
        return (
            render_template("errors/error.html", code=error.code, title=error.name, message=error.description),
            error.code,
        )

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception):
        log.exception("unhandled error on %s %s", request.method, request.path)
        wrapped = InternalServerError()
        if _wants_json():
            return jsonify(error="internal_error", message="Something went wrong on our side."), 500
        return (
            render_template("errors/error.html", code=500, title=wrapped.name,
                            message="Something went wrong on our side. Nothing you sent was lost."),
            500,
        )
