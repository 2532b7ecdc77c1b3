"""Errors services raise for callers to show: each carries a message fit for the user."""

from __future__ import annotations


class ServiceError(Exception):
    """Base of every error a view or the API turns into a clear 4xx answer."""

    status_code = 400

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class ValidationError(ServiceError):
    """Bad input, field by field; nothing was written."""

    status_code = 422

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{field}: {msg}" for field, msg in errors.items()))
        self.errors = errors


class NotFound(ServiceError):
    status_code = 404


class Forbidden(ServiceError):
    status_code = 403


class Conflict(ServiceError):
    """The request clashes with the current state (an idempotency key reused, a sent item)."""

    status_code = 409
