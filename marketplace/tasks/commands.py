"""`flask` commands for tasks (each periodic task job is runnable by hand)."""

from __future__ import annotations

import click
from flask import Flask

from marketplace.flows import tasks as task_flows


def register_commands(app: Flask) -> None:
    """Add the task commands to the app's CLI."""

    @app.cli.command("expire-tasks")
    def expire_tasks_command() -> None:
        """Expire open tasks past their expiry date."""
        click.echo(f"expired {task_flows.expire_due_tasks()} tasks")
