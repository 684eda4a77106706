"""The smallest Flask app that answers JSON: the yardstick of bench/api.py.

Served by the same gunicorn command line as the project, it shows what the machine, the
server and Flask alone cost a request, so the project's figures read as a share of it.
"""

from __future__ import annotations

from flask import Flask

app = Flask(__name__)


@app.get("/")
def status() -> dict[str, str]:
    """A small JSON dict, as a cheap endpoint of an API would answer."""
    return {"status": "ok", "service": "minimal"}
