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


def test_the_matching_migration_backfills_existing_profiles(tmp_path):
    import json
    import uuid
    from datetime import UTC, datetime

    from marketplace.matching import index
    from marketplace.profiles.models import ProviderProfile

    config = type(
        "Fresh", (TestingConfig,), {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'old.db'}"}
    )
    app = create_app(config)
    with app.app_context():
        upgrade(revision="9ad916935ae5")  # the schema before matching
        now, user_id, profile_id = datetime.now(UTC), uuid.uuid4(), uuid.uuid4()
        hours = {"mon": [["09:00", "17:00"]]}
        with db.engine.begin() as conn:
            users = sa.table(*_columns("users", "email", "password_hash", "name", "role"))
            conn.execute(users.insert().values(
                id=user_id, email="va@example.com", password_hash="x", name="V", role="provider",
                status="active", timezone="Asia/Manila", created_at=now, updated_at=now,
            ))  # fmt: skip
            profiles = sa.table(*_columns(
                "provider_profiles", "user_id", "service_model", "headline", "bio", "languages",
                "working_hours", "capacity_hours_per_week", "verification_status",
                "payouts_enabled",
            ))  # fmt: skip
            conn.execute(profiles.insert().values(
                id=profile_id, user_id=user_id, service_model="va", headline="", bio="",
                languages='["en"]', timezone="Asia/Manila", working_hours=json.dumps(hours),
                capacity_hours_per_week=40, verification_status="unverified", payouts_enabled=False,
                created_at=now, updated_at=now,
            ))  # fmt: skip
            skill_id = conn.scalar(sa.text("SELECT id FROM skills WHERE slug = 'data-entry'"))
            conn.execute(
                sa.text(
                    "INSERT INTO provider_skills (id, profile_id, skill_id, level, years) "
                    "VALUES (:id, :profile, :skill, 4, 3)"
                ),
                {"id": uuid.uuid4().hex, "profile": profile_id.hex, "skill": skill_id},
            )
        upgrade()
        profile = db.session.get(ProviderProfile, profile_id)
        number = db.session.scalar(sa.text("SELECT number FROM skills WHERE slug = 'data-entry'"))
        assert profile.match_keys == index.profile_keys({number: 4}, ["en"])
        assert profile.skill_experience == [index.experience_value(number, 4, 3)]
        bits, offset = index.availability_bits("Asia/Manila", hours, now.date())
        assert (profile.availability, profile.availability_offset) == (bits, offset)
        assert profile.matchable and profile.capacity_left == 40
        db.session.remove()
        db.engine.dispose()


def test_existing_tasks_get_zone_fit_figures_that_stand_for_no_day_until_refreshed(tmp_path):
    import json
    import uuid
    from datetime import UTC, date, datetime, timedelta

    from marketplace.matching import task_fit
    from marketplace.tasks.models import Task

    config = type(
        "Fresh", (TestingConfig,), {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'old.db'}"}
    )
    app = create_app(config)
    with app.app_context():
        upgrade(revision="ea1c7211141b")  # the schema before the figures
        now, user_id, client_id, task_id = datetime.now(UTC), *(uuid.uuid4() for _ in range(3))
        hours = json.dumps({"mon": [["09:00", "17:00"]]})
        with db.engine.begin() as conn:
            users = sa.table(*_columns("users", "email", "password_hash", "name", "role"))
            conn.execute(users.insert().values(
                id=user_id, email="c@example.com", password_hash="x", name="C", role="client",
                status="active", timezone="Europe/Paris", created_at=now, updated_at=now,
            ))  # fmt: skip
            clients = sa.table(*_columns(
                "client_profiles", "user_id", "company_name", "country", "working_hours"
            ))  # fmt: skip
            conn.execute(clients.insert().values(
                id=client_id, user_id=user_id.hex, company_name="", country="FR",
                timezone="Europe/Paris", working_hours=hours, created_at=now, updated_at=now,
            ))  # fmt: skip
            tasks = sa.table(*_columns(
                "tasks", "client_profile_id", "created_by_id", "title", "summary",
                "confidential_details", "attachments", "confidentiality", "terms_version",
                "terms_hash", "tier", "budget_type", "budget_min", "budget_max", "currency",
                "deadline", "shoring", "positions", "trial", "review_reasons",
            ))  # fmt: skip
            conn.execute(tasks.insert().values(
                id=task_id, client_profile_id=client_id.hex, created_by_id=user_id.hex, title="T",
                summary="S", confidential_details="", attachments="[]", confidentiality="public",
                terms_version=1, terms_hash="x", tier=3, budget_type="fixed", budget_min=1,
                budget_max=2, currency="eur", deadline=now.date() + timedelta(days=40),
                shoring="any", positions=1, trial=False, review_reasons="[]", status="open",
                created_at=now, updated_at=now,
            ))  # fmt: skip
        upgrade()
        task = db.session.get(Task, task_id)
        assert task.fit_country == "FR"  # always current
        assert (task.fit_from, task.fit_until) == (date.min, date.min)
        assert task.fit_masks == "0" * 7 * 672
        assert task_fit.refresh_open_tasks() == 1
        db.session.expire_all()
        assert task.fit_from == now.date()
        assert "1" in task.fit_masks[:672]
        db.session.remove()
        db.engine.dispose()


def _columns(table: str, *names: str) -> list:
    """A table clause with the common columns (typed, so ids and times bind right)."""
    common = [
        sa.column("id", sa.Uuid()),
        sa.column("created_at", sa.DateTime(timezone=True)),
        sa.column("updated_at", sa.DateTime(timezone=True)),
        sa.column("status", sa.String()),
        sa.column("timezone", sa.String()),
    ]
    if table == "provider_profiles":
        common = [c for c in common if c.name != "status"]
        common.append(sa.column("user_id", sa.Uuid()))
        names = tuple(n for n in names if n != "user_id")
    return [table, *common, *(sa.column(n) for n in names)]
