"""The dashboard: what needs attention now, and the platform's figures."""

from __future__ import annotations

from flask.typing import ResponseReturnValue

from marketplace.console.site import page, render

bp = page("dashboard", __name__)


@bp.get("/")
def index() -> ResponseReturnValue:
    """What needs attention now."""
    return render("console/dashboard.html")
