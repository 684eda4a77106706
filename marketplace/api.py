"""The flask-smorest Api, adapted to the project's single JSON error shape."""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus
from typing import Any, TypeVar

import flask
import marshmallow as ma
from flask_smorest import Api as BaseApi
from flask_smorest import Blueprint as BaseBlueprint
from swagger_ui_bundle import swagger_ui_path
from webargs.flaskparser import FlaskParser, abort
from werkzeug.exceptions import HTTPException

from marketplace.errors import http_error_response

F = TypeVar("F", bound=Callable[..., Any])


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
        return http_error_response(error)


class ArgumentsParser(FlaskParser):
    """webargs' parser; JSON nested too deeply to decode is a 400, not a 500."""

    def _raw_load_json(self, req: flask.Request) -> Any:
        try:
            return super()._raw_load_json(req)
        except RecursionError:
            abort(400, messages={"json": ["The JSON body is nested too deeply."]})
        except ValueError:  # e.g. an integer of thousands of digits
            abort(400, messages={"json": ["The JSON body has a value too large to read."]})


class Blueprint(BaseBlueprint):
    """flask-smorest's Blueprint with a shorthand for documenting error responses."""

    ARGUMENTS_PARSER = ArgumentsParser()

    def errors(self, *codes: int) -> Callable[[F], F]:
        """Document that the endpoint may answer these error statuses (in the one error shape)."""

        def decorator(func: F) -> F:
            for code in codes:
                func = self.alt_response(code, response=HTTPStatus(code).name)(func)
            return func

        return decorator


def swagger_ui_assets() -> flask.Blueprint:
    """Swagger UI's files from the swagger-ui-bundle package, so /api/docs needs no CDN."""
    return flask.Blueprint(
        "swagger_ui_assets",
        __name__,
        static_folder=swagger_ui_path,
        static_url_path="/api/docs/assets",
    )
