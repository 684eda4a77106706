"""`flask` commands for accounts."""

from __future__ import annotations

import click
from flask import Flask

from marketplace.accounts import services, twofactor
from marketplace.errors import DomainError


def register_commands(app: Flask) -> None:
    """Add the account commands to the app's CLI."""

    @app.cli.command("create-admin")
    @click.option("--email", prompt=True, help="The admin's e-mail address.")
    @click.option(
        "--password",
        prompt=True,
        hide_input=True,
        confirmation_prompt=True,
        help="At least 10 characters and not easy to guess (the rule sign-up applies).",
    )
    @click.option("--name", default="Administrator", show_default=True)
    def create_admin(email: str, password: str, name: str) -> None:
        """Create an admin account (the only way admins are made)."""
        try:
            user = services.create_admin(email=email, password=password, name=name)
        except DomainError as exc:
            details = "; ".join(f"{k}: {' '.join(map(str, v))}" for k, v in exc.details.items())
            raise click.ClickException(f"{exc.message} {details}".strip()) from None
        click.echo(f"Created admin {user.email} ({user.id})")
        click.echo(
            "Admins must use two-factor sign-in: sign in, then POST /api/v1/auth/2fa/setup and "
            "/api/v1/auth/2fa/enable; until then every other endpoint answers 403."
        )

    @app.cli.command("reset-2fa")
    @click.option("--email", prompt=True, help="The address of the account.")
    def reset_two_factor(email: str) -> None:
        """Turn off someone's two-factor sign-in (they lost the app and the recovery codes);
        they are e-mailed, and an admin must set it up again before acting."""
        user = services.find_user_by_email(email)
        if user is None:
            raise click.ClickException(f"No account with the address {email}.")
        twofactor.reset(user=user)
        click.echo(f"Two-factor sign-in is off for {user.email}; they can set it up again.")
