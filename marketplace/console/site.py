"""The console's frame: its blueprint under /admin, the guard every page passes, its error
pages and what every template can use.

A page is a child blueprint made with `page()` (one module and its templates); it is
registered in `marketplace/console/__init__.py` and, if it belongs in the menu, listed in
`NAVIGATION`. Every view of the console is for signed-in admins unless marked `@public`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Response,
    current_app,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user
from flask_wtf.csrf import CSRFError, generate_csrf
from markupsafe import Markup
from werkzeug.exceptions import HTTPException, NotFound
from werkzeug.routing import BuildError

from marketplace.accounts import auth
from marketplace.accounts.models import User
from marketplace.console import charts
from marketplace.errors import DomainError, handle_domain_error, http_error_response
from marketplace.extensions import db, login_manager

log = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])

console = Blueprint(
    "console",
    __name__,
    url_prefix="/admin",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)

#: The menu of every page: (label, endpoint). An entry whose page is not built yet shows
#: as plain text, so a page appears in the menu once its blueprint is registered.
NAVIGATION: tuple[tuple[str, str], ...] = (
    ("Dashboard", "console.dashboard.index"),
    ("Tasks", "console.tasks.index"),
    ("Reports", "console.reports.index"),
    ("Users", "console.users.index"),
    ("Disputes", "console.disputes.index"),
    ("Operations", "console.operations.index"),
)
HOME = "console.dashboard.index"
LOGIN = "console.session.login_form"


def page(name: str, import_name: str, url_prefix: str = "") -> Blueprint:
    """A console page's blueprint (registered under the console, so its endpoints are
    `console.<name>.<view>` and the guard and error pages apply to it)."""
    return Blueprint(name, import_name, url_prefix=url_prefix)


#: The highest page number a list takes (a larger one shows that page, empty).
MAX_PAGE = 100_000


def page_number() -> int:
    """The `page` query argument: a whole number from 1 to `MAX_PAGE` (1 if it is not one)."""
    raw = request.args.get("page", "1")
    if not (raw.isascii() and raw.isdigit() and len(raw) <= len(str(MAX_PAGE))):
        return 1
    return max(1, min(int(raw), MAX_PAGE))


def public(view: F) -> F:
    """Mark a console view that anyone may open (the sign-in page)."""
    view.console_public = True  # type: ignore[attr-defined]
    return view


def is_signed_in() -> bool:
    """Whether a user is signed in; one the loader refuses (an admin without two-factor
    sign-in, who may only set it up through the API) counts as anonymous for the rest of
    the request, so that an error page can still be drawn."""
    try:
        return bool(current_user.is_authenticated)
    except DomainError:
        login_manager._update_request_context_with_user()  # anonymous from here on
        return False


def signed_in_admin() -> User | None:
    """The signed-in admin of this request, or None (anonymous, not an admin, or an admin
    whose account the loader refused, e.g. one without two-factor sign-in)."""
    authenticated = is_signed_in()
    if not authenticated or not current_user.is_admin:
        return None
    return current_user._get_current_object()


def is_public_view() -> bool:
    """Whether this request is for the console's static files or a `@public` view."""
    if request.endpoint == "console.static":
        return True
    view = current_app.view_functions.get(request.endpoint or "")
    return bool(getattr(view, "console_public", False))


def safe_next(target: str | None) -> str | None:
    """`target` if it is a console path on this site (where to go after signing in)."""
    if not target or "\\" in target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith(console.url_prefix or "/admin"):
        return None
    return target


@console.before_request
def guard() -> ResponseReturnValue | None:
    """Anonymous visitors go to the sign-in page; a signed-in user who is not an admin gets
    the API's 404, exactly what an unknown URL answers, so the console is never shown."""
    if is_public_view():
        return None
    if not current_user.is_authenticated:  # an admin without two-factor sign-in raises here
        target = request.full_path if request.query_string else request.path
        return redirect(url_for(LOGIN, next=target))
    if not current_user.is_admin:
        return http_error_response(NotFound())
    return None


def page_url(endpoint: str, **values: Any) -> str | None:
    """The URL of a console page, or None if that page is not built (yet)."""
    if endpoint not in current_app.view_functions:
        return None
    try:
        return url_for(endpoint, **values)
    except BuildError:
        return None


@console.app_template_global()
def console_navigation(section: str | None = None) -> list[dict[str, Any]]:
    """The menu entries, each with its URL (None if not built) and whether it is current:
    the one named `section`, or else the one of this request's page."""
    current = (request.endpoint or "").rsplit(".", 1)[0]
    return [
        {
            "label": label,
            "url": page_url(endpoint),
            "current": label == section if section else endpoint.rsplit(".", 1)[0] == current,
        }
        for label, endpoint in NAVIGATION
    ]


@console.app_template_global()
def csrf_field() -> Markup:
    """The hidden CSRF field every console form carries (`{{ csrf_field() }}`)."""
    return Markup('<input type="hidden" name="csrf_token" value="{}">').format(generate_csrf())


@console.app_template_global()
def url_with(**changes: Any) -> str:
    """This page's URL with some query arguments changed (None drops one): pagers, filters
    and CSV links keep the rest of the query (but for names `url_for` reserves, `_...`)."""
    query = {key: value for key, value in request.args.items() if not key.startswith("_")}
    values: dict[str, Any] = {**(request.view_args or {}), **query}
    values.update(changes)
    return url_for(
        request.endpoint or "", **{key: value for key, value in values.items() if value is not None}
    )


@console.app_template_global()
def chart_svg(chart: charts.Chart) -> Markup:
    """A chart as inline SVG (marketplace/console/charts.py)."""
    return charts.svg(chart)


@console.app_template_global()
def chart_colour(index: int) -> str:
    """The colour of a chart's series, for its legend."""
    return charts.colour(index)


@console.app_template_filter("when")
def format_when(value: datetime | None) -> str:
    """A moment as `2026-03-01 14:05 UTC` (empty for None)."""
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if value else ""


@console.context_processor
def console_context() -> dict[str, Any]:
    """What every console template can use."""
    return template_context()


def template_context() -> dict[str, Any]:
    """The values console templates expect (also given to Flask-Admin's pages)."""
    return {"console_admin": signed_in_admin(), "page_url": page_url, "console_section": None}


def render(template: str, *, status_code: int = 200, **context: Any) -> tuple[str, int]:
    """Render a console template (one that extends console/base.html) as the answer."""
    return render_template(template, **context), status_code


TITLES = {
    400: "Bad request",
    403: "Not allowed",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    422: "Cannot do that",
    429: "Too many attempts",
}


def error_page(status: int, message: str, title: str | None = None) -> Response:
    """The console's error page."""
    body = render_template(
        "console/error.html",
        status=status,
        title=title or TITLES.get(status, "Something went wrong"),
        message=message,
    )
    return Response(body, status=status, mimetype="text/html")


def _shown_to_non_admin() -> bool:
    """A signed-in user who is not an admin gets the API's JSON errors, never a console page."""
    return is_signed_in() and not current_user.is_admin


@console.errorhandler(CSRFError)
def csrf_refused(error: CSRFError) -> Response:
    """A console form posted without its CSRF token (or with a stale one)."""
    if _shown_to_non_admin():
        return auth.csrf_failed(error)
    return error_page(
        400,
        "The form was sent without its security token, or with an old one. Go back, "
        "reload the page and send it again.",
        "The form has expired",
    )


@console.errorhandler(DomainError)
def domain_error(error: DomainError) -> Response:
    """A broken rule that a view did not turn into a message (an admin without two-factor
    sign-in lands here, for instance)."""
    if _shown_to_non_admin():
        return handle_domain_error(error)
    db.session.rollback()
    return error_page(error.status, error.message)


@console.errorhandler(HTTPException)
def http_error(error: HTTPException) -> Response:
    """Any HTTP error under /admin, as a page."""
    status = error.code or 500
    if _shown_to_non_admin():
        return http_error_response(error)
    if status >= 500:
        cause = getattr(error, "original_exception", None) or error
        log.error("Unhandled error in the console", exc_info=cause)
        return error_page(500, "Something went wrong on our side; it has been logged.")
    return error_page(status, error.description or error.name)
