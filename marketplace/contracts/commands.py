"""`flask` commands for contracts (each periodic contract job is runnable by hand)."""

from __future__ import annotations

import click
from flask import Flask

from marketplace.contracts import offers
from marketplace.flows import amendments


def register_commands(app: Flask) -> None:
    """Add the contract commands to the app's CLI."""

    @app.cli.command("expire-offers")
    def expire_offers_command() -> None:
        """Expire contract offers that were not accepted in time."""
        click.echo(f"expired {offers.expire_offers()} offers")

    @app.cli.command("lapse-amendments")
    def lapse_amendments_command() -> None:
        """Let unanswered amendments lapse."""
        click.echo(f"lapsed {amendments.lapse_due()} amendments")
