"""`flask` commands of the measured record (each periodic job is runnable by hand)."""

from __future__ import annotations

import click
from flask import Flask

from marketplace.record import events


def register_commands(app: Flask) -> None:
    """Add the record's commands to the app's CLI."""

    @app.cli.command("evaluate-slas")
    def evaluate_slas_command() -> None:
        """Record the SLA events (at risk, breached, recovered) of every active contract."""
        click.echo(f"recorded {events.evaluate_all()} SLA events")
