"""Migrations: one head, and an empty database upgraded to it matches the models."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade

from marketplace import create_app
from marketplace.config import TestingConfig
from marketplace.extensions import db


def _scripts(app) -> ScriptDirectory:
    return ScriptDirectory(app.extensions["migrate"].directory)


def test_single_head(app):
    assert len(_scripts(app).get_heads()) == 1


def test_upgraded_database_matches_the_models(app):
    with db.engine.connect() as conn:
        context = MigrationContext.configure(
            conn,
            opts={
                "compare_type": True,
                "include_object": lambda obj, name, type_, *_: (
                    name not in {"ix_tasks_fts", "ix_provider_profiles_match_keys"}
                ),
            },
        )
        diff = compare_metadata(context, db.metadata)
    assert diff == []


def test_upgrade_from_empty_and_downgrade_to_base(tmp_path):
    # The session database (SQLite or PostgreSQL) was itself built by `upgrade`; this
    # also checks the way down on a throwaway SQLite file.
    config = type(
        "Fresh", (TestingConfig,), {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'fresh.db'}"}
    )
    app = create_app(config)
    with app.app_context():
        upgrade()
        tables = set(sa.inspect(db.engine).get_table_names())
        assert {"users", "skills", "provider_profiles", "outbox_entries"} <= tables
        count = db.session.scalar(sa.text("SELECT count(*) FROM skills"))
        assert count >= 40
        db.session.commit()  # end this transaction before Alembic takes SQLite's write lock
        downgrade(revision="base")
        assert set(sa.inspect(db.engine).get_table_names()) <= {"alembic_version"}
        db.engine.dispose()
