"""`flask hourly ...`: the billing job by hand."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from marketplace.hourly import invoices


def register_commands(app: Flask) -> None:
    """Add the hourly commands to the app's CLI."""
    group = AppGroup("hourly", help="Hourly contracts: weekly invoices.")

    @group.command("bill")
    def bill_command() -> None:
        """Issue the invoices of closed weeks, charge those past review, settle answered
        charges and release money past its security period (safe to run any time)."""
        moved = invoices.bill()
        click.echo(", ".join(f"{name} {count}" for name, count in moved.items()))

    app.cli.add_command(group)
