"""How requests are authenticated: session cookies (with CSRF) or bearer tokens."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Flask, Response, current_app, request, session
from flask_login import current_user, login_user, logout_user
from flask_wtf.csrf import CSRFError

from marketplace.accounts import services
from marketplace.accounts.models import User
from marketplace.accounts.twofactor import TwoFactorSetupRequired
from marketplace.errors import Forbidden, Unauthorized, error_response
from marketplace.extensions import csrf, limiter, login_manager

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
SESSION_KEY = "sid"
#: All an admin without two-factor sign-in may do: sign in and out, see who they are and set
#: it up. Every other endpoint (each admin one first) answers 403 two_factor_setup_required.
TWO_FACTOR_SETUP_ENDPOINTS = frozenset(
    {"auth.login", "auth.logout", "auth.me", "auth.csrf_token", "auth.setup_2fa", "auth.enable_2fa"}
)
SETUP_MESSAGE = (
    "Admins must use two-factor sign-in: set it up (POST /api/v1/auth/2fa/setup, then "
    "POST /api/v1/auth/2fa/enable) before anything else."
)


def sign_in_rate_limit() -> str:
    """The configured limit of sign-in attempts per client address."""
    return str(current_app.config["AUTH_RATE_LIMIT"])


#: Sign-in attempts per client address, counted together for every sign-in form (the API's
#: login and the console's), so a second form does not double what one address may try.
sign_in_limit = limiter.shared_limit(sign_in_rate_limit, scope="sign_in", methods=["POST"])


def bearer_token() -> str | None:
    """The token of an `Authorization: Bearer ...` header, if any."""
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    return value.strip() or None


@login_manager.user_loader
def load_session_user(user_id: str) -> User | None:
    """The user of a live session cookie; a bearer request is authenticated by its token alone."""
    if bearer_token() is not None:
        return None
    try:
        uid, sid = uuid.UUID(user_id), uuid.UUID(session.get(SESSION_KEY, ""))
    except ValueError:
        return None
    record = services.live_session(user_id=uid, session_id=sid)
    return admitted(record.user) if record is not None else None


def sign_in(user: User, *, remember: bool) -> None:
    """Start a recorded session for `user` in this browser, ending any it had before."""
    sign_out()
    record = services.start_session(
        user=user, ip_address=request.remote_addr, user_agent=request.headers.get("User-Agent")
    )
    session[SESSION_KEY] = str(record.id)
    session.permanent = remember  # kept for PERMANENT_SESSION_LIFETIME, else until closing
    login_user(user)


def sign_out() -> None:
    """Revoke this browser's session, so no copy of its cookie works any more."""
    raw = session.pop(SESSION_KEY, None)
    if raw:
        with contextlib.suppress(ValueError):  # a tampered value names no session
            services.end_session(session_id=uuid.UUID(raw))
    logout_user()


@login_manager.request_loader
def load_token_user(_: Any) -> User | None:
    """The user of a personal API token."""
    token = bearer_token()
    return admitted(services.user_for_token(token)) if token else None


def admitted(user: User | None) -> User | None:
    """The request's user, unless an admin without two-factor sign-in asks for anything but
    setting it up: checked where the user is loaded, so no endpoint (an admin one, or one
    where admins see more) can forget it, at no extra statement."""
    if (
        user is not None
        and user.two_factor_setup_required
        and request.endpoint not in TWO_FACTOR_SETUP_ENDPOINTS
    ):
        raise TwoFactorSetupRequired(SETUP_MESSAGE)
    return user


@login_manager.unauthorized_handler
def unauthorized() -> Any:
    """Answer JSON, never a redirect to a login page."""
    raise Unauthorized("Sign in, or send a valid API token.")


def csrf_exempt(view: Callable[..., Any]) -> Callable[..., Any]:
    """Mark an endpoint that authenticates its callers itself (a signed webhook), so it
    takes no cookie session and needs no CSRF token."""
    view.csrf_exempt = True  # type: ignore[attr-defined]
    return view


def protect_from_csrf() -> None:
    """Cookie sessions must send the CSRF token on unsafe methods; bearer requests and
    CSRF-exempt endpoints need not."""
    if request.method not in UNSAFE_METHODS or bearer_token() is not None:
        return
    view = current_app.view_functions.get(request.endpoint or "")
    if not getattr(view, "csrf_exempt", False):
        csrf.protect()


def csrf_failed(error: CSRFError) -> Response:
    """A cookie-session request without a valid CSRF token."""
    return error_response(
        400,
        "csrf_failed",
        f"{error.description} Fetch one from GET /api/v1/auth/csrf and send it as X-CSRFToken.",
    )


def admin_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """Let only signed-in admins who use two-factor sign-in through (others get 401 or 403)."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_authenticated:
            raise Unauthorized("Sign in, or send a valid API token.")
        if not current_user.is_admin:
            raise Forbidden("Admins only.")
        if current_user.two_factor_setup_required:
            raise TwoFactorSetupRequired(SETUP_MESSAGE)
        return view(*args, **kwargs)

    wrapper.admin_only = True  # type: ignore[attr-defined]  # for tests listing admin endpoints
    return wrapper


def init_app(app: Flask) -> None:
    """Bind the login manager and the CSRF check."""
    login_manager.init_app(app)
    login_manager.session_protection = "basic"
    csrf.init_app(app)
    app.before_request(protect_from_csrf)
    app.register_error_handler(CSRFError, csrf_failed)


def current_session_id() -> uuid.UUID | None:
    """The recorded session of this browser's cookie (None for a bearer request)."""
    if bearer_token() is not None:
        return None
    try:
        return uuid.UUID(session.get(SESSION_KEY, ""))
    except ValueError:
        return None
