"""Concurrent requests on PostgreSQL: row locks and unique constraints keep one outcome."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import sqlalchemy as sa

from marketplace.extensions import db
from marketplace.moderation.models import Report
from marketplace.tasks.models import TaskTransition, TermsAcceptance
from tests.factories import ClientFactory, ProviderFactory, task_payload, terms_acceptance

pytestmark = pytest.mark.postgres
THREADS = 8


def _at_once(calls: list[Any]) -> list[Any]:
    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return [f.result() for f in [pool.submit(call) for call in calls]]


def test_concurrent_publishes_open_the_task_once(login):
    api = login(ClientFactory())
    task = api.post("tasks", json=task_payload()).get_json()
    statuses = _at_once(
        [
            lambda: api.post(f"tasks/{task['id']}/publish", json={}).status_code
            for _ in range(THREADS)
        ]
    )

    assert sorted(statuses) == [200] + [409] * (THREADS - 1)
    opened = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(TaskTransition)
        .where(TaskTransition.to_status == "open")
    )
    assert opened == 1


def test_concurrent_acceptances_record_one(login):
    client = login(ClientFactory())
    task = client.post("tasks", json=task_payload()).get_json()
    client.post(f"tasks/{task['id']}/publish", json={})
    provider = login(ProviderFactory())

    responses = _at_once(
        [
            lambda: provider.post(f"tasks/{task['id']}/confidentiality", json=terms_acceptance())
            for _ in range(THREADS)
        ]
    )

    assert {r.status_code for r in responses} == {201}
    assert len({r.get_json()["id"] for r in responses}) == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(TermsAcceptance)) == 1


def test_concurrent_reports_keep_one_open_report(login):
    reporter = login(ProviderFactory())
    target = ClientFactory()
    body = {"target_type": "user", "target_id": str(target.id), "reason": "Spam messages"}

    statuses = _at_once(
        [lambda: reporter.post("reports", json=body).status_code for _ in range(THREADS)]
    )

    assert sorted(statuses) == [201] + [409] * (THREADS - 1)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Report)) == 1
