"""The flask-smorest Api, adapted to the project's single JSON error shape.

Every endpoint takes only the body and query parameters it declares: the project's
Blueprint gives a route that declares none an empty schema, so anything sent there
is a 422 like any unknown field. Every operation is named after its endpoint
(`tasks.publish_task`) and says what a call must carry (the security schemes of
config.py), and links lead from an answer to the calls it makes possible, so the docs
page, generated clients and stateful tools can work from the spec alone.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Collection
from http import HTTPStatus
from typing import Any, NoReturn, TypeVar

import flask
import marshmallow as ma
from flask_smorest import Api as BaseApi
from flask_smorest import Blueprint as BaseBlueprint
from swagger_ui_bundle import swagger_ui_path
from webargs.flaskparser import FlaskParser, is_json_request
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException, UnsupportedMediaType

from marketplace.errors import BadRequest, http_error_response

F = TypeVar("F", bound=Callable[..., Any])

BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
BODY_LOCATIONS = frozenset({"json", "form", "files", "json_or_form"})
QUERY_LOCATIONS = frozenset({"query", "querystring"})


def security_requirements(methods: Collection[str], *, public: bool) -> list[dict[str, list[str]]]:
    """What a call must carry, as OpenAPI security requirements (any one of them).

    A signed-in caller sends a bearer token or the session cookie; with the cookie, an
    unsafe method also needs the CSRF token, and so does a public one (sign-up, login),
    whose token lives in the session the cookie carries. Public reads need nothing."""
    unsafe = bool(UNSAFE_METHODS & set(methods))
    session: dict[str, list[str]] = {"cookieAuth": []}
    if unsafe:
        session["csrfToken"] = []
    if public:
        return [session] if unsafe else []
    return [{"bearerAuth": []}, session]


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


class NoBodySchema(ma.Schema):
    """The body of an endpoint that takes none: nothing, or `{}`."""

    class Meta:
        unknown = ma.RAISE


class NoQuerySchema(ma.Schema):
    """The query string of an endpoint that takes no parameters."""

    class Meta:
        unknown = ma.RAISE


@functools.cache
def schema_instance(schema: type[ma.Schema]) -> ma.Schema:
    """The shared instance of a schema class."""
    return schema()


def malformed_json(reason: str) -> BadRequest:
    """The 400 for a body that does not parse, saying why."""
    return BadRequest(f"The body is not valid JSON: {reason}.")


class ArgumentsParser(FlaskParser):
    """webargs' parser: unknown query parameters are errors like unknown body fields, a
    body that is not JSON is refused, and JSON that does not parse is a 400 saying why."""

    # webargs ignores unknown query parameters by default; None defers to the schema,
    # and every schema of the project refuses them (marshmallow's RAISE).
    DEFAULT_UNKNOWN_BY_LOCATION: dict[str, str | None] = {
        **FlaskParser.DEFAULT_UNKNOWN_BY_LOCATION,
        "query": None,
        "querystring": None,
        "files": None,
    }

    def _get_schema(self, argmap: Any, req: flask.Request) -> ma.Schema:
        """One instance per schema class, built at its first use: webargs would build one
        (and deep-copy its fields) on every request. Loading keeps no state on the schema."""
        if isinstance(argmap, type) and issubclass(argmap, ma.Schema):
            return schema_instance(argmap)
        return super()._get_schema(argmap, req)

    def load_files(self, req: flask.Request, schema: ma.Schema) -> Any:
        """A multipart body's files and plain fields together, so a part the endpoint does
        not declare is refused like any unknown field; a body sent as JSON is read as
        JSON, for the same reason."""
        if req.mimetype != "multipart/form-data" and (
            req.content_length or req.get_data(cache=True)
        ):
            return self.load_json(req, schema)
        parts: MultiDict[str, Any] = MultiDict(req.files)
        for name, value in req.form.items(multi=True):
            parts.add(name, value)
        return self._makeproxy(parts, schema)

    def _raw_load_json(self, req: flask.Request) -> Any:
        # The length, not only the data: CSRF checks may already have read a form body.
        if not is_json_request(req) and (req.content_length or req.get_data(cache=True)):
            # webargs would read such a body as no body at all, silently.
            raise UnsupportedMediaType(
                "Send the body as JSON, with Content-Type: application/json."
            )
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
    """flask-smorest's Blueprint: every view refuses input it does not declare and
    documents its operation id and security; shorthands document error responses,
    public endpoints and links."""

    ARGUMENTS_PARSER = ArgumentsParser()

    def add_url_rule(
        self,
        rule: str,
        endpoint: str | None = None,
        view_func: Callable[..., Any] | None = None,
        provide_automatic_options: bool | None = None,
        **options: Any,
    ) -> None:
        """Register a view, documented with its operation id and who may call it; one
        that declares no query (or, for POST, PUT and PATCH, no body) schema gets an
        empty one, documented, so nothing it ignores gets through."""
        if view_func is not None and not isinstance(view_func, type):
            methods = options.get("methods") or ("GET",)
            view_func = self._document_operation(view_func, endpoint or view_func.__name__, methods)
            view_func = self._refuse_undeclared(view_func, methods)
        super().add_url_rule(rule, endpoint, view_func, provide_automatic_options, **options)

    def _document_operation(
        self, view: Callable[..., Any], endpoint: str, methods: Collection[str]
    ) -> Callable[..., Any]:
        """Name the operation after its endpoint and document who may call it, unless the
        view documents either itself."""
        documented = getattr(view, "_apidoc", {}).get("manual_doc", {})
        defaults = {
            "operationId": f"{self.name}.{endpoint}",
            "security": security_requirements(methods, public=getattr(view, "public", False)),
        }
        missing = {key: value for key, value in defaults.items() if key not in documented}
        return self.doc(**missing)(view)

    def _refuse_undeclared(
        self, view: Callable[..., Any], methods: Collection[str]
    ) -> Callable[..., Any]:
        declared = {
            parameter["in"]
            for parameter in getattr(view, "_apidoc", {}).get("arguments", {}).get("parameters", [])
        }
        if not declared & QUERY_LOCATIONS:
            view = self.arguments(NoQuerySchema, location="query", as_kwargs=True)(view)
        if declared & BODY_LOCATIONS or getattr(view, "reads_raw_body", False):
            return view
        if BODY_METHODS & set(methods):
            return self.arguments(NoBodySchema, required=False, as_kwargs=True)(view)
        # GET and DELETE carry no body in OpenAPI: refused without being documented.
        return self.ARGUMENTS_PARSER.use_args(NoBodySchema, location="json", as_kwargs=True)(view)

    @staticmethod
    def raw_body(view: F) -> F:
        """Mark an endpoint that reads its request body itself (a signed webhook)."""
        view.reads_raw_body = True  # type: ignore[attr-defined]
        return view

    @staticmethod
    def public(view: F) -> F:
        """Mark an endpoint that anyone may call, signed in or not, so the spec asks for no
        credentials (a write still needs the CSRF token). It only documents: the view
        itself decides who gets in, and tests/test_api_docs.py holds the two together."""
        view.public = True  # type: ignore[attr-defined]
        return view

    def link(
        self, status: int, name: str, operation_id: str, description: str, **parameters: str
    ) -> Callable[[F], F]:
        """Document an OpenAPI link: a call that this answer makes possible, with the
        values it takes from it (`task_id="$response.body#/id"`), so stateful tools and
        readers of the docs can follow the workflow."""
        target = {"operationId": operation_id, "description": description}
        return self.doc(responses={status: {"links": {name: {**target, "parameters": parameters}}}})

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
