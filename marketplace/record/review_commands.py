"""`flask publish-reviews`: the reviews' periodic job, runnable by hand."""

from __future__ import annotations

import click
from flask import Flask

from marketplace.record import reviews


def register_commands(app: Flask) -> None:
    """Add the reviews' commands to the app's CLI."""

    @app.cli.command("publish-reviews")
    def publish_reviews_command() -> None:
        """Publish the reviews whose window has closed and tell both sides (idempotent)."""
        click.echo(f"published the reviews of {reviews.publish_lapsed()} contracts")
