"""Sign-up, login, sessions and personal API tokens."""

from __future__ import annotations

import uuid
from typing import Any

from flask import current_app
from flask_login import current_user, login_required
from flask_wtf.csrf import generate_csrf

from marketplace.accounts import auth, recovery, services, twofactor, verification
from marketplace.accounts.inputs import AccountChanges
from marketplace.accounts.models import User
from marketplace.accounts.schemas import (
    AccountChangesSchema,
    CsrfSchema,
    LinkTokenSchema,
    LoginSchema,
    MeSchema,
    NewTokenSchema,
    NoticeSchema,
    PasswordChangeSchema,
    PasswordResetRequestSchema,
    PasswordResetSchema,
    SignupAcceptedSchema,
    SignupSchema,
    TokenCreateSchema,
    TokenPageSchema,
    TwoFactorCodeSchema,
    TwoFactorDisableSchema,
    TwoFactorEnabledSchema,
    TwoFactorSetupRequestSchema,
    TwoFactorSetupSchema,
    UserSchema,
)
from marketplace.api import Blueprint
from marketplace.extensions import limiter, per_user_limit
from marketplace.flows import parties
from marketplace.pagination import Page, PageArgsSchema, paginate

SIGNUP_MESSAGE = "Check your e-mail: we have sent this address a message about your sign-up."
RESET_MESSAGE = (
    "If an account has this address, we have e-mailed it a link to choose a new password. "
    "The link works once, for an hour."
)

blp = Blueprint(
    "auth", __name__, url_prefix="/api/v1/auth", description="Accounts, sessions and API tokens"
)


def auth_rate_limit() -> str:
    """The configured limit for sign-up and login attempts per client address."""
    return str(current_app.config["AUTH_RATE_LIMIT"])


@blp.post("/signup")
@blp.public
@limiter.limit(auth_rate_limit)
@blp.arguments(SignupSchema)
@blp.response(202, SignupAcceptedSchema)
@blp.errors(400, 422, 429)
def signup(data: dict[str, Any]) -> dict[str, str]:
    """Ask for a client or provider account; the address gets an e-mail either way.

    The answer is the same whether or not the address already has an account (its owner
    is warned by e-mail instead), so it sets no session: a new user logs in next."""
    parties.request_sign_up(**data)
    return {"message": SIGNUP_MESSAGE}


@blp.post("/login")
@blp.public
@auth.sign_in_limit
@blp.arguments(LoginSchema)
@blp.response(200, UserSchema)
@blp.errors(400, 401, 403, 422, 429)
def login(data: dict[str, Any]) -> User:
    """Sign in with e-mail and password; sets the session cookie.

    An account with two-factor sign-in also sends `code` (or `recovery_code`); without it
    the answer is a 401 `two_factor_required`, with a wrong one `invalid_two_factor_code`.
    Codes tried count against the account's own limit (429)."""
    user = services.authenticate(
        email=data["email"],
        password=data["password"],
        code=data["code"],
        recovery_code=data["recovery_code"],
    )
    auth.sign_in(user, remember=data["remember"])
    return user


@blp.post("/logout")
@blp.public
@blp.response(204)
@blp.errors(400)
def logout() -> None:
    """End this session; a copy of its cookie no longer works."""
    auth.sign_out()


@blp.post("/2fa/setup")
@login_required
@blp.arguments(TwoFactorSetupRequestSchema)
@blp.response(200, TwoFactorSetupSchema)
@blp.errors(400, 401, 409, 422, 429)
def setup_2fa(data: dict[str, Any]) -> dict[str, str]:
    """Start two-factor sign-in: a new secret for an authenticator app, given the password
    (wrong: a 422 `invalid_password`).

    Asking again gives a new one. Nothing changes at sign-in until POST /auth/2fa/enable
    confirms a code from it; once on, the secret is never shown again, and this is a 409
    until it is turned off."""
    secret, uri = twofactor.begin_setup(user=current_user, password=data["password"])
    return {"secret": secret, "otpauth_uri": uri}


@blp.post("/2fa/enable")
@login_required
@blp.arguments(TwoFactorCodeSchema)
@blp.response(200, TwoFactorEnabledSchema)
@blp.errors(400, 401, 409, 422, 429)
def enable_2fa(data: dict[str, Any]) -> dict[str, Any]:
    """Turn two-factor sign-in on with a current code from the app.

    The answer holds the ten one-time recovery codes, shown this once; the account is
    e-mailed. A wrong code is a 422 and changes nothing."""
    codes = twofactor.enable(user=current_user, code=data["code"])
    return {"enabled_at": current_user.two_factor_enabled_at, "recovery_codes": codes}


@blp.post("/2fa/disable")
@login_required
@blp.arguments(TwoFactorDisableSchema)
@blp.response(200, MeSchema)
@blp.errors(400, 401, 409, 422, 429)
def disable_2fa(data: dict[str, Any]) -> User:
    """Turn two-factor sign-in off, with the password and a code (or a recovery code).

    The account is e-mailed. An admin without two-factor sign-in can use no admin endpoint
    until they set it up again."""
    return twofactor.disable(user=current_user, **data)


@blp.get("/me")
@login_required
@blp.response(200, MeSchema)
@blp.errors(401)
def me() -> User:
    """The signed-in user, with the organization they act for and their e-mail preferences."""
    return current_user


@blp.patch("/me")
@login_required
@blp.arguments(AccountChangesSchema)
@blp.response(200, MeSchema)
@blp.errors(400, 401, 422)
def update_me(changes: AccountChanges) -> User:
    """Change your name, time zone or which notifications are e-mailed to you.

    In-app notifications are kept whatever you choose; e-mails about money, security and
    invitations to answer are always sent (`can_turn_off: false` in `email_kinds`)."""
    return services.update_account(user=current_user, changes=changes)


@blp.get("/csrf")
@blp.public
@blp.response(200, CsrfSchema)
def csrf_token() -> dict[str, str]:
    """A CSRF token for this session, to send as `X-CSRFToken` on unsafe requests."""
    return {"csrf_token": generate_csrf()}


@blp.post("/tokens")
@login_required
@per_user_limit("TOKEN_RATE_LIMIT")
@blp.arguments(TokenCreateSchema)
@blp.response(201, NewTokenSchema)
@blp.errors(400, 401, 422, 429)
def create_token(data: dict[str, Any]) -> dict[str, Any]:
    """Create a personal API token; its value is in this response only."""
    token, raw = services.create_token(user=current_user, **data)
    fields = ("id", "name", "prefix", "created_at", "expires_at", "last_used_at")
    return {"token": raw, **{name: getattr(token, name) for name in fields}}


@blp.get("/tokens")
@login_required
@blp.arguments(PageArgsSchema, location="query", as_kwargs=True)
@blp.response(200, TokenPageSchema)
@blp.errors(401, 422)
def list_tokens(page: int, page_size: int | None) -> Page:
    """Your API tokens that are not revoked."""
    return paginate(services.tokens_query(user=current_user), page=page, page_size=page_size)


@blp.delete("/tokens/<uuid:token_id>")
@login_required
@blp.response(204)
@blp.errors(400, 401, 404)
def revoke_token(token_id: uuid.UUID) -> None:
    """Revoke one of your API tokens."""
    services.revoke_token(user=current_user, token_id=token_id)


@blp.post("/verify-email")
@blp.public
@limiter.limit(auth_rate_limit)
@blp.arguments(LinkTokenSchema)
@blp.response(200, NoticeSchema)
@blp.errors(400, 422, 429)
def verify_email(data: dict[str, Any]) -> dict[str, str]:
    """Confirm your e-mail address with the token of the link we e-mailed you.

    The link works once and for 48 hours: a used or altered token is a 400 `invalid_token`,
    an old one a 400 `token_expired` (sign in and ask for a new link). No sign-in needed."""
    verification.verify(token=data["token"])
    return {"message": "Your e-mail address is confirmed."}


@blp.post("/verify-email/resend")
@login_required
@per_user_limit("VERIFY_EMAIL_RATE_LIMIT")
@blp.response(202, NoticeSchema)
@blp.errors(400, 401, 409, 429)
def resend_verification() -> dict[str, str]:
    """E-mail yourself a new verification link (a few times an hour at most); an address
    already confirmed is a 409."""
    verification.resend(user=current_user)
    return {"message": f"We have sent a new link to {current_user.email}."}


@blp.post("/password-reset")
@blp.public
@limiter.limit(auth_rate_limit)
@blp.arguments(PasswordResetRequestSchema)
@blp.response(202, NoticeSchema)
@blp.errors(400, 422, 429)
def request_password_reset(data: dict[str, Any]) -> dict[str, str]:
    """Ask for a link to choose a new password, valid one hour and once.

    The answer is the same, and as quick, whether or not the address has an account: the
    e-mail is looked up and sent after the answer."""
    recovery.request_reset(email=data["email"])
    return {"message": RESET_MESSAGE}


@blp.post("/password-reset/confirm")
@blp.public
@limiter.limit(auth_rate_limit)
@blp.arguments(PasswordResetSchema)
@blp.response(200, NoticeSchema)
@blp.errors(400, 422, 429)
def confirm_password_reset(data: dict[str, Any]) -> dict[str, str]:
    """Set a new password with the token of the reset link; sign in with it next.

    Every session and API token of the account is revoked. A used or altered token is a
    400 `invalid_token`, one older than an hour a 400 `token_expired`, a weak password a 422
    (the sign-up rules)."""
    recovery.reset_password(token=data["token"], password=data["password"])
    return {"message": "Your password is changed: sign in with it."}


@blp.post("/password")
@login_required
@per_user_limit("PASSWORD_CHANGE_RATE_LIMIT")
@blp.arguments(PasswordChangeSchema)
@blp.response(200, MeSchema)
@blp.errors(400, 401, 422, 429)
def change_password(data: dict[str, Any]) -> User:
    """Change your password, giving the current one (wrong: a 422 on `current_password`).

    This session stays signed in; your other sessions are signed out. API tokens are kept
    (revoke them under /auth/tokens)."""
    return recovery.change_password(
        user=current_user,
        current_password=data["current_password"],
        new_password=data["new_password"],
        keep_session_id=auth.current_session_id(),
    )
