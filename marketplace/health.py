"""`GET /healthz`: can this process reach its database (and Redis, when configured)?"""

from __future__ import annotations

import logging
from typing import Any

import redis
import sqlalchemy as sa
from flask import Blueprint, current_app

from marketplace.extensions import db

log = logging.getLogger(__name__)
bp = Blueprint("health", __name__)


def _check_database() -> str:
    try:
        db.session.execute(sa.text("SELECT 1"))
    except Exception as exc:  # any failure means "not healthy", never a 500
        log.warning("Health check: database unreachable: %s", exc)
        db.session.rollback()
        return "unavailable"
    return "ok"


def _check_redis(url: str) -> str:
    try:
        redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2).ping()
    except Exception as exc:  # any failure means "not healthy"
        log.warning("Health check: Redis unreachable: %s", exc)
        return "unavailable"
    return "ok"


@bp.get("/healthz")
def healthz() -> tuple[dict[str, Any], int]:
    """200 when every configured dependency answers, else 503."""
    checks = {"database": _check_database()}
    if current_app.config.get("REDIS_URL"):
        checks["redis"] = _check_redis(current_app.config["REDIS_URL"])
    healthy = all(value == "ok" for value in checks.values())
    return {"status": "ok" if healthy else "unavailable", "checks": checks}, 200 if healthy else 503
