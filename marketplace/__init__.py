"""The task delegation marketplace: a Flask application factory."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from marketplace.config import Config, config_from_env


def create_app(config: type[Config] | Mapping[str, Any] | None = None) -> Flask:
    """Build the app from a config class, a mapping of overrides, or the environment."""
    app = Flask(__name__, instance_relative_config=True)
    config_class = config if isinstance(config, type) else config_from_env()
    app.config.from_object(config_class)
    if isinstance(config, Mapping):
        app.config.update(config)
    config_class.validate(app.config)
    os.makedirs(app.instance_path, exist_ok=True)
    if app.config["PROXY_FIX_COUNT"]:
        count = app.config["PROXY_FIX_COUNT"]
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=count, x_proto=count, x_host=count
        )

    register_extensions(app)
    register_jobs(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_commands(app)
    return app


def register_extensions(app: Flask) -> None:
    """Bind the extension instances of `extensions.py` to this app."""
    from marketplace.accounts import auth
    from marketplace.database import add_sqlite_functions, serialize_sqlite_transactions
    from marketplace.extensions import api, cors, db, limiter, migrate
    from marketplace.files import storage
    from marketplace.matching import index, task_fit
    from marketplace.payments import gateways

    db.init_app(app)
    index.install(db.session)
    task_fit.install(db.session)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            serialize_sqlite_transactions(db.engine)
            add_sqlite_functions(db.engine)
    migrate.init_app(
        app, db, directory=os.path.abspath(os.path.join(app.root_path, os.pardir, "migrations"))
    )
    limiter.init_app(app)  # before auth, so refused CSRF checks still count against limits
    auth.init_app(app)
    cors.init_app(
        app,
        resources={r"/api/*": {"origins": app.config["FRONTEND_ORIGINS"]}},
        supports_credentials=True,
        allow_headers=[
            "Content-Type",
            "Authorization",
            "X-CSRFToken",
            "X-CSRF-Token",
            "Idempotency-Key",
        ],
        expose_headers=["Retry-After", "X-RateLimit-Limit", "X-RateLimit-Remaining"],
    )
    api.init_app(app)
    gateways.init_app(app)
    storage.init_app(app)


def register_jobs(app: Flask) -> None:
    """Celery bound to this app, with every area's jobs (shared tasks register on import)."""
    from marketplace.contracts import jobs as contract_jobs  # noqa: F401
    from marketplace.files import jobs as file_jobs  # noqa: F401
    from marketplace.hourly import jobs as hourly_jobs  # noqa: F401
    from marketplace.jobs import celery
    from marketplace.jobs import tasks as outbox_jobs  # noqa: F401
    from marketplace.matching import jobs as matching_jobs  # noqa: F401
    from marketplace.payments import jobs as payment_jobs  # noqa: F401
    from marketplace.record import jobs as record_jobs  # noqa: F401
    from marketplace.tasks import jobs as task_jobs  # noqa: F401

    celery.init_app(app)
    register_outbox_handlers(app)


def register_outbox_handlers(app: Flask) -> None:
    """What carries out each kind of outbox entry: one registry for web and worker."""
    from marketplace.accounts import recovery
    from marketplace.jobs import outbox
    from marketplace.payments import settlement, webhooks

    outbox.register(app, "email", outbox.send_email)
    outbox.register(app, "payments.transfer", settlement.send_transfer)
    outbox.register(app, "payments.refund", settlement.send_refund)
    outbox.register(app, "stripe.event", webhooks.process)
    outbox.register(app, recovery.JOB, recovery.send_reset_link)


def register_blueprints(app: Flask) -> None:
    """Mount every area's routes; API blueprints also go into the OpenAPI spec."""
    from marketplace import console, health
    from marketplace.accounts import admin_routes as admin_users
    from marketplace.accounts import routes as accounts
    from marketplace.api import swagger_ui_assets
    from marketplace.bids import routes as bids
    from marketplace.catalog import routes as catalog
    from marketplace.contracts import routes as contracts
    from marketplace.extensions import api
    from marketplace.files import routes as files
    from marketplace.hourly import routes as hourly
    from marketplace.jobs import admin_routes as admin_outbox
    from marketplace.matching import routes as matching
    from marketplace.messaging import routes as messaging
    from marketplace.moderation import routes as moderation
    from marketplace.notifications import routes as notifications
    from marketplace.organizations import routes as organizations
    from marketplace.payments import admin_routes as admin_payments
    from marketplace.payments import routes as payments
    from marketplace.profiles import routes as profiles
    from marketplace.record import routes as record
    from marketplace.tasks import admin_routes as admin_tasks
    from marketplace.tasks import routes as tasks
    from marketplace.workflows import routes as workflows

    app.register_blueprint(health.bp)
    app.register_blueprint(swagger_ui_assets())
    for module in (
        accounts,
        catalog,
        profiles,
        organizations,
        tasks,
        bids,
        matching,
        contracts,
        payments,
        hourly,
        messaging,
        record,
        files,
        notifications,
        moderation,
        workflows,
        admin_users,
        admin_tasks,
        admin_payments,
        admin_outbox,
    ):
        api.register_blueprint(module.blp)
    api.register_blueprint(workflows.clients_blp)  # /clients/me/roi
    console.init_app(app)


def register_errorhandlers(app: Flask) -> None:
    """One JSON error shape for every failure."""
    from marketplace.errors import register_error_handlers

    register_error_handlers(app)


def register_commands(app: Flask) -> None:
    """The `flask` commands of every area."""
    from marketplace import demo
    from marketplace.accounts import commands as accounts
    from marketplace.contracts import commands as contracts
    from marketplace.files import commands as files
    from marketplace.hourly import commands as hourly
    from marketplace.jobs import commands as jobs
    from marketplace.matching import commands as matching
    from marketplace.payments import commands as payments
    from marketplace.record import commands as record
    from marketplace.tasks import commands as tasks

    for module in (
        accounts,
        jobs,
        tasks,
        contracts,
        matching,
        payments,
        hourly,
        files,
        record,
        demo,
    ):
        module.register_commands(app)
