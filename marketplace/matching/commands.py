"""`flask` commands for matching (its periodic jobs are runnable by hand)."""

from __future__ import annotations

import click
from flask import Flask

from marketplace.matching import index, records, task_fit


def register_commands(app: Flask) -> None:
    """Add the matching commands to the app's CLI."""

    @app.cli.command("refresh-availability")
    def refresh_availability_command() -> None:
        """Move weekly UTC availability to the offsets zones have now (after clock changes)."""
        changed = index.refresh_availability()
        click.echo(f"refreshed the availability of {changed} provider profiles")

    @app.cli.command("refresh-task-fit")
    def refresh_task_fit_command() -> None:
        """Renew the zone-fit figures of open tasks about to lapse (and any not computed)."""
        changed = task_fit.refresh_open_tasks()
        click.echo(f"refreshed the zone-fit figures of {changed} open tasks")

    @app.cli.command("recompute-records")
    def recompute_records_command() -> None:
        """Recompute every provider's measured record and the record term of matching."""
        stored, changed = records.recompute_records()
        click.echo(f"recomputed {stored} provider records; {changed} match scores changed")
