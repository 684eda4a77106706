"""The Stripe webhook's signature timestamp: a replayed or pre-dated signature is refused,
whichever way the clocks disagree by more than Stripe's tolerance (300 s)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from marketplace.extensions import db
from marketplace.payments.models import WebhookEvent
from tests.stripe_support import WEBHOOK_SECRET, event, signed

NOW = datetime(2030, 3, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("skew", "status"),
    [
        (600, 400),  # ten minutes ahead of our clock
        (301, 400),
        (240, 200),  # four minutes ahead: within tolerance
        (0, 200),
        (-240, 200),
        (-600, 400),  # ten minutes old
    ],
)
def test_a_signature_beyond_the_tolerance_either_way_is_refused(
    skew, status, client, app, monkeypatch, time_machine
):
    monkeypatch.setitem(app.config, "PAYMENTS", "stripe")
    monkeypatch.setitem(app.config, "STRIPE_WEBHOOK_SECRET", WEBHOOK_SECRET)
    time_machine.move_to(NOW, tick=False)
    payload = event("account.updated", {"id": "acct_clock", "payouts_enabled": True})
    body, headers = signed(payload, at=int(NOW.timestamp()) + skew)

    answer = client.post(
        "/api/v1/webhooks/stripe", data=body, headers=headers, content_type="application/json"
    )

    assert answer.status_code == status, answer.get_json()
    stored = db.session.scalar(sa.select(sa.func.count()).select_from(WebhookEvent))
    if status == 400:
        error = answer.get_json()["error"]
        assert error["code"] == "bad_request"
        assert "tolerance" in str(error["details"]["signature"])
        assert stored == 0
    else:
        assert answer.get_json() == {"received": True, "duplicate": False}
        assert stored == 1
