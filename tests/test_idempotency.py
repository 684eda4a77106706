"""Idempotency-Key on money requests: replay, reuse, in-flight duplicates, scope, expiry."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from marketplace.database import utcnow
from marketplace.extensions import db
from marketplace.payments import funding, idempotency
from marketplace.payments.models import IdempotencyKey, IdempotencyStatus, Payment
from tests.money import balances, make_deal, money_post, transaction_kinds, usd


def _payments() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Payment))


def test_money_requests_need_a_key(login):
    deal = make_deal((10_000,))
    client_api = login(deal.client)
    for headers in ({}, {"Idempotency-Key": ""}, {"Idempotency-Key": "x" * 256}):
        response = client_api.post(
            f"milestones/{deal.milestone_ids[0]}/fund", json={}, headers=headers
        )
        assert response.status_code == 400
        assert "Idempotency-Key" in response.get_json()["error"]["message"]
    assert _payments() == 0


def test_the_same_key_and_body_replays_the_first_answer(login):
    deal = make_deal((10_000,))
    client_api = login(deal.client)
    path = f"milestones/{deal.milestone_ids[0]}/fund"

    first = money_post(client_api, path, idempotency_key="fund-1", json={})
    again = money_post(client_api, path, idempotency_key="fund-1", json={})

    assert first.status_code == again.status_code == 200
    assert again.get_json() == first.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert _payments() == 1
    assert transaction_kinds(deal) == ["funding"]
    assert balances(deal)["escrow"] == 10_000


def test_an_error_answer_is_replayed_too(login):
    deal = make_deal((10_000,))
    client_api = login(deal.client)
    path = f"milestones/{deal.milestone_ids[0]}/approve"  # pending: nothing to approve

    first = money_post(client_api, path, idempotency_key="approve-1")
    funding.fund(user=deal.client, milestone_id=deal.milestone_ids[0])
    again = money_post(client_api, path, idempotency_key="approve-1")

    assert first.status_code == again.status_code == 409
    assert again.get_json() == first.get_json()


def test_the_same_key_with_another_body_is_a_conflict(login):
    deal = make_deal((10_000, 20_000))
    client_api = login(deal.client)
    first, second = deal.milestone_ids

    first_answer = money_post(client_api, f"milestones/{first}/fund", idempotency_key="k", json={})
    assert first_answer.status_code == 200
    reused = money_post(client_api, f"milestones/{second}/fund", idempotency_key="k", json={})
    other_body = money_post(
        client_api,
        f"milestones/{first}/fund",
        idempotency_key="k",
        json={"payment_method": "pm_card_visa"},
    )

    for response in (reused, other_body):
        assert response.status_code == 409
        assert response.get_json()["error"]["code"] == "idempotency_key_reused"
    assert _payments() == 1


def test_a_duplicate_while_the_first_runs_is_a_conflict(login):
    deal = make_deal((10_000,))
    client_api = login(deal.client)
    path = f"milestones/{deal.milestone_ids[0]}/fund"
    # The first request has claimed the key and is still running.
    first = money_post(client_api, path, idempotency_key="busy", json={})
    record = db.session.scalars(sa.select(IdempotencyKey)).one()
    record.status, record.response_status, record.response_body = (
        IdempotencyStatus.IN_PROGRESS,
        None,
        None,
    )
    db.session.commit()

    duplicate = money_post(client_api, path, idempotency_key="busy", json={})
    assert duplicate.status_code == 409
    assert duplicate.get_json()["error"]["code"] == "idempotency_key_in_progress"

    # Abandoned (its process died): after the stale window a retry takes the key over;
    # the milestone is already funded, so the retry changes nothing.
    record.created_at = utcnow() - timedelta(minutes=10)
    db.session.commit()
    retried = money_post(client_api, path, idempotency_key="busy", json={})
    assert retried.status_code == 409
    assert retried.get_json()["error"]["code"] == "invalid_transition"
    assert first.status_code == 200 and _payments() == 1


def test_keys_are_scoped_per_user(login):
    one, two = make_deal((10_000,)), make_deal((20_000,))
    for deal in (one, two):
        response = money_post(
            login(deal.client),
            f"milestones/{deal.milestone_ids[0]}/fund",
            idempotency_key="same",
            json={},
        )
        assert response.status_code == 200
        assert response.get_json()["milestone"]["amount"] == usd(deal.milestone(0).amount)
    assert _payments() == 2


def test_keys_are_kept_a_day_at_least_then_purged(login, app):
    deal = make_deal((10_000,))
    money_post(login(deal.client), f"milestones/{deal.milestone_ids[0]}/fund", json={})
    record = db.session.scalars(sa.select(IdempotencyKey)).one()
    assert record.expires_at - record.created_at >= timedelta(hours=24)

    assert idempotency.purge_expired() == 0
    record.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["purge-idempotency-keys"])
    assert "purged 1 idempotency keys" in result.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(IdempotencyKey)) == 0
