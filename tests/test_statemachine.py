"""Every status changes through `StateMachine.apply`, which refuses illegal moves and records
who made each move and when."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from marketplace.database import utcnow
from marketplace.errors import InvalidTransition
from marketplace.extensions import db
from marketplace.jobs import outbox
from marketplace.jobs.models import OutboxStatus
from marketplace.jobs.states import OUTBOX_STATES
from marketplace.payments import idempotency
from marketplace.payments.models import IdempotencyKey, Payment, PaymentStatus
from marketplace.payments.states import IDEMPOTENCY_STATES
from marketplace.statemachine import StatusChange
from tests.factories import AdminFactory, ProviderFactory
from tests.money import make_deal, money_post


def _changes(entity: str) -> list[tuple[str | None, str, object, str | None]]:
    rows = db.session.scalars(
        sa.select(StatusChange).where(StatusChange.entity == entity).order_by(StatusChange.at)
    )
    return [(r.from_status, r.to_status, r.actor_id, r.reason) for r in rows]


def test_a_suspension_and_a_reinstatement_are_recorded_with_the_admin(login):
    admin = AdminFactory()
    user = ProviderFactory()
    admin_api = login(admin)

    admin_api.post(f"admin/users/{user.id}/suspend", json={"reason": "Spam postings"})
    admin_api.post(f"admin/users/{user.id}/reinstate")

    assert _changes("users") == [
        ("active", "suspended", admin.id, "Spam postings"),
        ("suspended", "active", admin.id, None),
    ]
    row = db.session.scalars(sa.select(StatusChange)).first()
    assert row is not None and row.entity_id == user.id
    assert utcnow() - row.at < timedelta(minutes=1)


def test_a_payment_confirmed_by_the_gateway_is_recorded_as_the_systems_move(login):
    deal = make_deal((40_000,))
    response = money_post(login(deal.client), f"milestones/{deal.milestone_ids[0]}/fund", json={})
    assert response.status_code == 200

    payment = db.session.scalars(sa.select(Payment)).one()
    assert payment.status == PaymentStatus.SUCCEEDED
    assert ("pending", "succeeded", None, "confirmed by the gateway") in _changes("payments")


def test_an_illegal_move_is_refused_and_changes_nothing(sent_mail):
    entry = outbox.enqueue_email(to="a@example.com", subject="Hi", body="...")
    db.session.commit()
    outbox.deliver_due()
    assert entry.status == OutboxStatus.SENT
    assert _changes("outbox_entries") == [("pending", "sent", None, None)]

    with pytest.raises(InvalidTransition) as refused:
        OUTBOX_STATES.apply(entry, "retry", actor_id=None)

    assert refused.value.status == 409
    assert refused.value.message == "Only failed entries are retried."
    assert refused.value.details == {"status": "sent", "action": "retry"}
    assert entry.status == OutboxStatus.SENT
    db.session.commit()
    assert len(_changes("outbox_entries")) == 1


def test_purged_idempotency_keys_take_their_recorded_changes_with_them():
    user = ProviderFactory()
    key = IdempotencyKey(user_id=user.id, key="k", fingerprint="f", expires_at=utcnow())
    db.session.add(key)
    db.session.commit()
    IDEMPOTENCY_STATES.apply(key, "complete", actor_id=user.id)
    db.session.commit()
    assert _changes("idempotency_keys") == [("in_progress", "completed", user.id, None)]

    assert idempotency.purge_expired() == 1
    assert _changes("idempotency_keys") == []
