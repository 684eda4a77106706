"""Extension instances, created once here and bound to the app in the factory."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from flask import current_app
from flask_cors import CORS
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager, current_user
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

from marketplace.api import Api

# Named constraints so that migrations can alter them on every database.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base of every model."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address)
cors = CORS()
api = Api()


def user_key() -> str:
    """The rate-limit key of a signed-in user (per-user limits go under `login_required`)."""
    return f"user:{current_user.id}" if current_user.is_authenticated else "anonymous"


def per_user_limit(setting: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Limit an endpoint per signed-in user by the configured `setting` (read on each
    request); endpoints sharing a setting share its counters. Goes right under
    `login_required`; a refusal is a 429 in the one error shape."""
    return limiter.shared_limit(
        lambda: str(current_app.config[setting]), scope=setting.lower(), key_func=user_key
    )


# `db.Model` is built at runtime; type checkers see the declarative base it extends.
if TYPE_CHECKING:
    Model = Base
else:
    Model = db.Model
