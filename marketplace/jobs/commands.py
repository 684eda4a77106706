"""`flask` commands for the jobs area (every periodic job is runnable by hand)."""

from __future__ import annotations

import time

import click
from flask import Flask

from marketplace.jobs import outbox
from marketplace.jobs.celery import PERIODIC, run_task


def register_commands(app: Flask) -> None:
    """Add the jobs commands to the app's CLI."""

    @app.cli.command("deliver-outbox")
    def deliver_outbox_command() -> None:
        """Deliver the outbox entries that are due (e-mails, gateway calls)."""
        click.echo(f"delivered {outbox.deliver_due(limit=10_000)} outbox entries")

    @app.cli.command("run-periodic")
    @click.option("--once", is_flag=True, help="Run every job once and stop.")
    def run_periodic_command(once: bool) -> None:
        """Run the periodic jobs on their schedule in this process.

        For the embedded set-up (no Redis, so no Celery beat): `make run` starts it
        beside the web server. With Redis, `celery ... worker -B` runs the same schedule.
        """
        due = dict.fromkeys(PERIODIC, 0.0)
        while True:
            for name, (task, seconds) in PERIODIC.items():
                if time.monotonic() >= due[name]:
                    result = run_task(task)
                    click.echo(f"{name}: {result.result}")
                    due[name] = time.monotonic() + seconds
            if once:
                return
            time.sleep(max(1.0, min(due.values()) - time.monotonic()))
