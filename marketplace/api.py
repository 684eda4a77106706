"""The flask-smorest Api, adapted to the project's single JSON error shape."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask_smorest import Api as BaseApi
from werkzeug.exceptions import HTTPException


class ErrorDetailSchema(ma.Schema):
    """The body of every error response."""

    code = ma.fields.String(required=True, metadata={"example": "validation_error"})
    message = ma.fields.String(required=True)
    details = ma.fields.Dict(metadata={"description": "Per-field messages or extra context"})


class ErrorSchema(ma.Schema):
    """`{"error": {"code", "message", "details"}}`: the one error shape of the API."""

    error = ma.fields.Nested(ErrorDetailSchema, required=True)


class Api(BaseApi):
    """flask-smorest's Api with the project's error shape.

    flask-smorest answers HTTP errors with its own payload and, on a 405, drops
    the `Allow` header; both are fixed here so one handler owns every error.
    """

    ERROR_SCHEMA = ErrorSchema

    def handle_http_exception(self, error: HTTPException) -> Any:
        """Answer an HTTP error in the project's JSON error shape."""
        from marketplace.errors import http_error_response

        return http_error_response(error)
