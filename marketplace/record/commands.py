"""`flask` commands of the measured record (each periodic job is runnable by hand)."""

from __future__ import annotations

import click
from flask import Flask

from marketplace.record import events, reports, reviews


def register_commands(app: Flask) -> None:
    """Add the record's commands to the app's CLI."""

    @app.cli.command("confirm-work-reports")
    def confirm_work_reports_command() -> None:
        """Mark confirmed the work reports left unanswered for 7 days."""
        click.echo(f"confirmed {reports.confirm_lapsed()} work reports")

    @app.cli.command("publish-reviews")
    def publish_reviews_command() -> None:
        """Publish the reviews whose window has closed and tell both sides (idempotent)."""
        click.echo(f"published the reviews of {reviews.publish_lapsed()} contracts")

    @app.cli.command("evaluate-slas")
    def evaluate_slas_command() -> None:
        """Record the SLA events (at risk, breached, recovered) of every active contract."""
        click.echo(f"recorded {events.evaluate_all()} SLA events")
