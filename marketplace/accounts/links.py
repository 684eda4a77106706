"""Signed links we e-mail: a token that names a user and a fingerprint of the state it may
change, signed with SECRET_KEY and stamped with its time (itsdangerous).

Nothing is stored: a token is spent because using it changes the state its fingerprint
was taken from (the address gets verified, the password hash changes), so the same token
no longer matches. The purpose is the signature's salt: a token made for one purpose is
refused for another.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import timedelta
from typing import Any

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from marketplace.accounts.models import User
from marketplace.errors import BadRequest
from marketplace.extensions import db


class InvalidLink(BadRequest):
    """The link's token is not ours, was altered, or was already used."""

    code = "invalid_token"


class ExpiredLink(BadRequest):
    """The link's token is ours but too old."""

    code = "token_expired"


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(str(current_app.config["SECRET_KEY"]), salt=purpose)


def fingerprint(value: str) -> str:
    """A short digest of a value (a password hash) to put in a token without revealing it."""
    return hashlib.sha256(value.encode()).hexdigest()[:20]


def make(purpose: str, payload: dict[str, Any]) -> str:
    """A URL-safe signed token for `purpose` carrying `payload` and the time now."""
    return str(_serializer(purpose).dumps(payload))


def read(purpose: str, token: str, *, max_age: timedelta, expired: str) -> dict[str, Any]:
    """The payload of a token made for `purpose` no longer ago than `max_age`; an altered or
    foreign token is an InvalidLink, an old one an ExpiredLink (with the message `expired`)."""
    try:
        payload = _serializer(purpose).loads(token, max_age=int(max_age.total_seconds()))
    except SignatureExpired:
        raise ExpiredLink(expired) from None
    except BadSignature:
        raise InvalidLink("This link is not valid: it may be incomplete or used already.") from None
    if not isinstance(payload, dict):
        raise InvalidLink("This link is not valid: it may be incomplete or used already.")
    return payload


def user_named(payload: dict[str, Any]) -> User | None:
    """The user a token's payload names (None for a malformed or unknown id)."""
    try:
        user_id = uuid.UUID(str(payload.get("user")))
    except ValueError:
        return None
    return db.session.get(User, user_id)
