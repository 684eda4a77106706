"""`flask` commands for matching (its periodic job is runnable by hand)."""

from __future__ import annotations

import click
from flask import Flask

from marketplace.matching import index


def register_commands(app: Flask) -> None:
    """Add the matching commands to the app's CLI."""

    @app.cli.command("refresh-availability")
    def refresh_availability_command() -> None:
        """Move weekly UTC availability to the offsets zones have now (after clock changes)."""
        changed = index.refresh_availability()
        click.echo(f"refreshed the availability of {changed} provider profiles")
