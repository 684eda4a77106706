"""`flask` commands for the jobs area (every periodic job is runnable by hand)."""

from __future__ import annotations

import click
from flask import Flask

from marketplace.jobs import outbox


def register_commands(app: Flask) -> None:
    """Add the jobs commands to the app's CLI."""

    @app.cli.command("deliver-outbox")
    def deliver_outbox_command() -> None:
        """Deliver the outbox entries that are due (e-mails, gateway calls)."""
        click.echo(f"delivered {outbox.deliver_due(limit=10_000)} outbox entries")
