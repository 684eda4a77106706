"""Signing in to the console and out of it: the API's own sign-in services, as a form."""

from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from marketplace import audit
from marketplace.accounts import auth, services
from marketplace.accounts.models import User
from marketplace.accounts.twofactor import TwoFactorRequired
from marketplace.console.site import HOME, LOGIN, page, public, render, safe_next, signed_in_admin
from marketplace.errors import DomainError

bp = page("session", __name__)

NOT_AN_ADMIN = "This account cannot use the console: it is for the marketplace's admins."
SET_UP_TWO_FACTOR = (
    "Admins must use two-factor sign-in, and this account has not set it up yet: turn it on "
    "first (POST /api/v1/auth/2fa/setup, then /api/v1/auth/2fa/enable), then sign in here."
)


def _second_factor(raw: str) -> dict[str, str | None]:
    """The form's one code field: six digits are an authenticator code, anything else a
    recovery code."""
    value = "".join(raw.split())
    if not value:
        return {"code": None, "recovery_code": None}
    if value.isdigit() and len(value) == 6:
        return {"code": value, "recovery_code": None}
    return {"code": None, "recovery_code": raw.strip()}


def _refuse(
    message: str, status: int, *, email: str, ask_code: bool = False
) -> ResponseReturnValue:
    return render(
        "console/login.html",
        status_code=status,
        error=message,
        email=email,
        ask_code=ask_code,
        next=safe_next(request.values.get("next")),
    )


def _admit(user: User) -> str | None:
    """Why `user`, whose credentials were right, may not use the console (None: they may)."""
    if not user.is_admin:
        return NOT_AN_ADMIN
    if user.two_factor_setup_required:
        return SET_UP_TWO_FACTOR
    return None


@bp.get("/login")
@public
def login_form() -> ResponseReturnValue:
    """The sign-in form (a signed-in admin goes straight on)."""
    target = safe_next(request.args.get("next"))
    if signed_in_admin() is not None:
        return redirect(target or url_for(HOME))
    return render("console/login.html", email="", next=target, ask_code=False)


@bp.post("/login")
@public
@auth.sign_in_limit
def login() -> ResponseReturnValue:
    """Sign in with e-mail, password and, for an account with two-factor sign-in, a code."""
    email = request.form.get("email", "").strip()
    try:
        user = services.authenticate(
            email=email,
            password=request.form.get("password", ""),
            **_second_factor(request.form.get("code", "")),
        )
    except TwoFactorRequired:
        message = "Enter the 6-digit code from your authenticator app (or a recovery code)."
        return _refuse(message, 401, email=email, ask_code=True)
    except DomainError as error:
        return _refuse(error.message, error.status, email=email)
    refusal = _admit(user)
    if refusal is not None:
        return _refuse(refusal, 403, email=email)
    auth.sign_in(user, remember=False)
    audit.log(actor=user, action="console.sign_in", target_type="user", target_id=user.id)
    flash(f"Signed in as {user.email}.", "success")
    return redirect(safe_next(request.form.get("next")) or url_for(HOME))


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    """Sign out: this browser's session ends (a copy of its cookie no longer works)."""
    admin = current_user._get_current_object()
    audit.log(actor=admin, action="console.sign_out", target_type="user", target_id=admin.id)
    auth.sign_out()
    flash("You are signed out.", "success")
    return redirect(url_for(LOGIN))
