"""The flask-smorest Api, adapted to the project's single JSON error shape."""

from __future__ import annotations

import json
from collections.abc import Callable
from http import HTTPStatus
from typing import Any, NoReturn, TypeVar

import flask
import marshmallow as ma
from flask_smorest import Api as BaseApi
from flask_smorest import Blueprint as BaseBlueprint
from swagger_ui_bundle import swagger_ui_path
from webargs.flaskparser import FlaskParser
from werkzeug.exceptions import HTTPException

from marketplace.errors import BadRequest, http_error_response

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


def malformed_json(reason: str) -> BadRequest:
    """The 400 for a body that does not parse, saying why."""
    return BadRequest(f"The body is not valid JSON: {reason}.")


class ArgumentsParser(FlaskParser):
    """webargs' parser: JSON that does not parse is a 400 saying why."""

    def _raw_load_json(self, req: flask.Request) -> Any:
        try:
            return super()._raw_load_json(req)
        except json.JSONDecodeError:
            raise  # webargs reads an empty body as none, and reports the rest below
        except RecursionError:
            raise malformed_json("it is nested too deeply") from None
        except ValueError:  # e.g. an integer of thousands of digits
            raise malformed_json("it has a number too large to read") from None

    def _handle_invalid_json_error(
        self,
        error: json.JSONDecodeError | UnicodeDecodeError,
        req: flask.Request,
        *args: Any,
        **kwargs: Any,
    ) -> NoReturn:
        if isinstance(error, UnicodeDecodeError):
            raise malformed_json(f"it is not UTF-8 text (byte {error.start})") from None
        if error.msg.startswith("Bytes decoding"):  # webargs' wrapper of a UnicodeDecodeError
            raise malformed_json(f"it is not UTF-8 text (byte {error.pos})") from None
        raise malformed_json(f"{error.msg} at line {error.lineno} column {error.colno}") from None


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
