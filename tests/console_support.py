"""A test client for the console: a browser's session cookie, forms with their CSRF token."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient

from marketplace.accounts.models import User
from tests.factories import PASSWORD, sign_in_code


class Console:
    """Signs in through /admin/login and sends forms as the console's pages do."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def csrf_token(self) -> str:
        """The session's CSRF token (the one the console's forms carry)."""
        return str(self.client.get("/api/v1/auth/csrf").get_json()["csrf_token"])

    def sign_in(self, user: User, *, password: str = PASSWORD, code: str | None = None) -> Any:
        """Post the sign-in form (with the user's current two-factor code unless given)."""
        code = code if code is not None else (sign_in_code(user) or "")
        return self.post("/admin/login", {"email": user.email, "password": password, "code": code})

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.client.get(path, **kwargs)

    def post(self, path: str, data: dict[str, Any] | None = None, *, csrf: bool = True) -> Any:
        """Post a form, with the CSRF token unless `csrf=False`."""
        form = dict(data or {})
        if csrf:
            form["csrf_token"] = self.csrf_token()
        return self.client.post(path, data=form)


def signed_in(client: FlaskClient, user: User) -> Console:
    """A console client signed in as `user` (an admin)."""
    console = Console(client)
    response = console.sign_in(user)
    assert response.status_code == 302, response.get_data(as_text=True)
    return console
