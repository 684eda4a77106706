"""Domain errors and the one JSON error shape of the API.

Services raise `DomainError` subclasses; this module turns those, HTTP errors,
validation errors, database integrity errors and Flask-Login's unauthorized
callback into `{"error": {"code", "message", "details"}}`.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, current_app, jsonify
from marshmallow import ValidationError
from sqlalchemy.exc import DataError, IntegrityError
from werkzeug.exceptions import HTTPException, InternalServerError

log = logging.getLogger(__name__)


class DomainError(Exception):
    """A broken business rule; `status` and `code` say how the API reports it."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}


class BadRequest(DomainError):
    """The request cannot be understood as sent."""


class Unauthorized(DomainError):
    """No valid credentials."""

    status = 401
    code = "unauthorized"


class Forbidden(DomainError):
    """Signed in, but not allowed to do this."""

    status = 403
    code = "forbidden"


class NotFound(DomainError):
    """No such object, or one the caller may not see (never reveal which)."""

    status = 404
    code = "not_found"


class Conflict(DomainError):
    """The request conflicts with the current state (duplicates, races)."""

    status = 409
    code = "conflict"


class InvalidTransition(Conflict):
    """A state machine forbids this transition from the current state."""

    code = "invalid_transition"


class BusinessRuleViolation(DomainError):
    """Well-formed input that breaks a rule of the domain."""

    status = 422
    code = "validation_error"


class PayloadTooLarge(DomainError):
    """The upload is larger than its use allows."""

    status = 413
    code = "payload_too_large"


class PaymentFailed(DomainError):
    """The payment gateway refused the payment."""

    status = 402
    code = "payment_failed"


HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    402: "payment_failed",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
}


def error_response(
    status: int, code: str, message: str, details: dict[str, Any] | None = None
) -> Response:
    """Build a response in the one error shape."""
    response = jsonify({"error": {"code": code, "message": message, "details": details or {}}})
    response.status_code = status
    return response


def _flatten_locations(messages: Any) -> dict[str, Any]:
    """webargs nests messages by location (json, query); a single location is flattened."""
    if isinstance(messages, dict) and len(messages) == 1:
        ((location, inner),) = messages.items()
        if location in {"json", "query", "form", "files", "headers", "view_args"}:
            return inner if isinstance(inner, dict) else {"_schema": inner}
    return messages if isinstance(messages, dict) else {"_schema": messages}


def http_error_response(error: HTTPException) -> Response:
    """Answer any HTTPException (including webargs' 422) in the one error shape."""
    status = error.code or 500
    if status >= 500:
        log.exception(
            "Unhandled error",
            exc_info=error.original_exception if isinstance(error, InternalServerError) else error,
        )
        return error_response(500, "internal_error", "An unexpected error occurred.")
    data = getattr(error, "data", None) or {}
    if status == 422 and "messages" in data:
        response = error_response(
            422,
            "validation_error",
            "The request has invalid fields.",
            _flatten_locations(data["messages"]),
        )
    else:
        code = getattr(error, "error_code", None) or HTTP_CODES.get(status, "http_error")
        response = error_response(status, code, error.description or error.name)
    for name, value in error.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
    for name, value in (data.get("headers") or {}).items():
        response.headers[name] = value
    return response


def _rollback() -> None:
    # The session is reached through the app, not imported: every module imports this one.
    current_app.extensions["sqlalchemy"].session.rollback()


def handle_domain_error(error: DomainError) -> Response:
    """Answer a broken business rule."""
    _rollback()
    return error_response(error.status, error.code, error.message, error.details)


def handle_validation_error(error: ValidationError) -> Response:
    """Answer a marshmallow ValidationError raised outside request parsing."""
    _rollback()
    messages = error.messages if isinstance(error.messages, dict) else {"_schema": error.messages}
    return error_response(422, "validation_error", "The request has invalid fields.", messages)


def handle_integrity_error(error: IntegrityError) -> Response:
    """A unique or foreign-key constraint fired, usually a race between two requests."""
    _rollback()
    log.info("Integrity error: %s", error.orig)
    return error_response(409, "conflict", "The request conflicts with existing data.")


def handle_data_error(error: DataError) -> Response:
    """The database rejected a value the schemas let through."""
    _rollback()
    log.warning("Data error: %s", error.orig)
    return error_response(422, "validation_error", "A value is out of range or malformed.")


def register_error_handlers(app: Flask) -> None:
    """Route every kind of error to the one JSON shape."""
    app.register_error_handler(DomainError, handle_domain_error)
    app.register_error_handler(ValidationError, handle_validation_error)
    app.register_error_handler(IntegrityError, handle_integrity_error)
    app.register_error_handler(DataError, handle_data_error)
    app.register_error_handler(HTTPException, http_error_response)
