"""Racing requests on awards and offers keep one outcome, on SQLite and on PostgreSQL."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import sqlalchemy as sa

from marketplace.contracts.models import Contract, ContractTransition
from marketplace.extensions import db
from tests.factories import ClientFactory, ProviderFactory, task_payload
from tests.money import usd

THREADS = 6


def _at_once(calls: list[Any]) -> list[Any]:
    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return [f.result() for f in [pool.submit(call) for call in calls]]


def _task_with_bids(login, bidders: int):
    client_api = login(ClientFactory())
    task = client_api.post(
        "tasks",
        json=task_payload(
            confidentiality="public",
            positions=1,
            budget={"type": "fixed", "min": 100, "max": 100_000, "currency": "usd"},
        ),
    ).get_json()
    client_api.post(f"tasks/{task['id']}/publish", json={})
    bids = []
    for _ in range(bidders):
        provider_api = login(ProviderFactory())
        bids.append(
            (
                provider_api,
                provider_api.post(
                    f"tasks/{task['id']}/bids",
                    json={
                        "price": {"amount": 5_000, "currency": "usd"},
                        "milestones": [{"title": "All of it", "amount": usd(5_000)}],
                        "timeline_days": 5,
                        "cover_letter": "Ready to start right away, thanks.",
                    },
                ).get_json(),
            )
        )
    return client_api, task, bids


def test_racing_awards_fill_the_last_position_once(login):
    client_api, _, bids = _task_with_bids(login, THREADS)

    statuses = _at_once(
        [
            lambda bid=bid: client_api.post(f"bids/{bid['id']}/accept", json={}).status_code
            for _, bid in bids
        ]
    )

    assert sorted(statuses) == [201] + [409] * (THREADS - 1)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Contract)) == 1


def test_racing_acceptances_of_one_offer_accept_it_once(login):
    client_api, _, bids = _task_with_bids(login, 1)
    provider_api, bid = bids[0]
    contract = client_api.post(f"bids/{bid['id']}/accept", json={}).get_json()

    statuses = _at_once(
        [
            lambda: provider_api.post(f"contracts/{contract['id']}/accept").status_code
            for _ in range(THREADS)
        ]
    )

    assert sorted(statuses) == [200] + [409] * (THREADS - 1)
    assert (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(ContractTransition)
            .where(ContractTransition.to_status == "active")
        )
        == 1
    )
