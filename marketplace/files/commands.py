"""`flask` commands for files."""

from __future__ import annotations

import click
from flask import Flask

from marketplace.files import services


def register_commands(app: Flask) -> None:
    """Add the file commands to the app's CLI."""

    @app.cli.command("purge-files")
    def purge_files_command() -> None:
        """Delete uploads attached to nothing within FILE_UNATTACHED_HOURS (24 by default)."""
        click.echo(f"purged {services.purge_unattached()} files")
