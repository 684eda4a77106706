"""The moderation console: server-rendered pages for the marketplace's admins, under /admin.

It shares nothing with the API but the services: every action calls the service the API
calls. Each page is one module with a child blueprint (`site.page`) and templates that
extend `console/base.html`; add it to `PAGES` here (and to `site.NAVIGATION` for the menu).
"""

from __future__ import annotations

from flask import Flask

from marketplace.console import (
    dashboard,
    disputes,
    lists,
    operations,
    reports,
    session,
    tasks,
    users,
)
from marketplace.console.site import console

#: The console's pages, each a module with a `bp` blueprint.
PAGES = (session, dashboard, tasks, reports, users, disputes, operations)

for _page in PAGES:
    console.register_blueprint(_page.bp)


def init_app(app: Flask) -> None:
    """Mount the console under /admin."""
    app.register_blueprint(console)
    lists.init_app(app)
