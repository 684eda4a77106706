"""Demo data for `make run`: filled in below."""

from __future__ import annotations

from flask import Flask


def register_commands(app: Flask) -> None:
    """Add `seed-demo`."""
