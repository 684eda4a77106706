"""The ledger: fee rounding, posting rules, ledger-check and statements."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from marketplace.contracts.models import Milestone, MilestoneStatus
from marketplace.extensions import db
from marketplace.jobs import outbox
from marketplace.ledger import services as ledger
from marketplace.ledger.models import LedgerAccount, LedgerEntry, TransactionKind
from marketplace.payments import delivery, funding
from marketplace.reporting import ledger_check as checks
from tests.factories import AdminFactory
from tests.money import balances, make_deal, usd


def _paid(deal, index=0):
    milestone_id = deal.milestone_ids[index]
    funding.fund(user=deal.client, milestone_id=milestone_id)
    delivery.submit(user=deal.provider, milestone_id=milestone_id, note="Done.", deliverables=[])
    delivery.approve(user=deal.client, milestone_id=milestone_id)


@pytest.mark.parametrize(
    ("amount", "bps", "share", "fee"),
    [
        (1, 1000, 1, 0),
        (3, 1000, 3, 0),
        (99_999, 1000, 90_000, 9_999),
        (10, 1000, 9, 1),
        (99_999, 250, 97_500, 2_499),
        (7, 9999, 1, 6),
        (50_000, 0, 50_000, 0),
    ],
)
def test_fee_is_rounded_down_and_never_creates_or_loses_a_cent(amount, bps, share, fee):
    assert ledger.fee_split(amount, bps) == (share, fee)


@pytest.mark.parametrize(("amount", "fee"), [(1, 0), (3, 0), (99_999, 9_999)])
def test_awkward_amounts_through_a_whole_release(amount, fee, login):
    deal = make_deal((amount,))
    _paid(deal)
    outbox.deliver_due()
    assert balances(deal) == {
        "escrow": 0,
        "provider_payable": 0,
        "client_payable": 0,
        "revenue": fee,
        "external": -fee,
    }
    statement = login(deal.provider).get("statements/me").get_json()
    assert statement["totals"] == [
        {
            "earned": usd(amount - fee),
            "fees": usd(fee),
            "paid_out": usd(amount - fee),
            "pending_payout": usd(0),
        }
    ]


def test_the_fee_is_the_contracts_not_todays_setting(app, monkeypatch):
    deal = make_deal((10_000,))  # awarded at 10 %
    monkeypatch.setitem(app.config, "PLATFORM_FEE_BPS", 2500)
    _paid(deal)
    assert balances(deal)["revenue"] == 1_000


def test_posting_refuses_unbalanced_duplicate_and_overdrawing_transactions():
    deal = make_deal((10_000,))

    def accounts():
        return ledger.escrow(deal.contract_id, "usd"), ledger.external("sandbox", "usd")

    escrow_account, outside = accounts()
    with pytest.raises(ledger.LedgerError, match="Unbalanced"):
        ledger.post(key="t1", kind=TransactionKind.FUNDING, entries=[(escrow_account, 5)])
    db.session.rollback()
    escrow_account, outside = accounts()
    with pytest.raises(ledger.LedgerError, match="overdraw"):
        ledger.post(
            key="t2", kind=TransactionKind.REFUND, entries=[(escrow_account, -5), (outside, 5)]
        )
    db.session.rollback()
    escrow_account, outside = accounts()
    entries = [(outside, -5), (escrow_account, 5)]
    ledger.post(key="t3", kind=TransactionKind.FUNDING, entries=entries)
    with pytest.raises(ledger.LedgerError, match="already posted"):
        ledger.post(key="t3", kind=TransactionKind.FUNDING, entries=entries)
    db.session.rollback()


def test_ledger_check_passes_on_real_flows(app):
    deal = make_deal((10_000, 20_000, 30_000))
    _paid(deal, 0)
    funding.fund(user=deal.client, milestone_id=deal.milestone_ids[1])
    runner = app.test_cli_runner()
    # The transfer is still pending: the provider's payable holds exactly its amount.
    result = runner.invoke(args=["ledger-check"])
    assert result.exit_code == 0, result.output
    assert "ledger-check: OK (3 transactions" in result.output
    outbox.deliver_due()
    result = runner.invoke(args=["ledger-check"])
    assert result.exit_code == 0, result.output
    assert "ledger-check: OK (4 transactions" in result.output


@pytest.mark.corrupts_ledger
@pytest.mark.parametrize(
    ("corrupt", "message"),
    [
        ("unbalanced", "sums to"),
        ("negative", "is negative"),
        ("escrow", "escrow of contract"),
        ("payable", "payable of provider"),
    ],
)
def test_ledger_check_fails_on_a_corrupted_ledger(corrupt, message, app):
    deal = make_deal((10_000, 20_000))
    funding.fund(user=deal.client, milestone_id=deal.milestone_ids[0])
    if corrupt == "unbalanced":
        entry = db.session.scalars(sa.select(LedgerEntry).where(LedgerEntry.amount > 0)).first()
        entry.amount += 1
    elif corrupt == "negative":  # balanced, but takes money the platform never had
        revenue, outside = ledger.revenue("usd"), ledger.external("sandbox", "usd")
        ledger.post(
            key="steal", kind=TransactionKind.RELEASE, entries=[(revenue, 7), (outside, -7)]
        )
        for account, amount in ((revenue, -7), (outside, 7)):
            db.session.execute(
                sa.update(LedgerEntry)
                .where(
                    LedgerEntry.account_id.in_(
                        sa.select(LedgerAccount.id).where(LedgerAccount.code == account.code)
                    ),
                    LedgerEntry.amount == -amount,
                )
                .values(amount=amount)
            )
    elif corrupt == "escrow":
        db.session.execute(
            sa.update(Milestone)
            .where(Milestone.id == deal.milestone_ids[1])
            .values(status=MilestoneStatus.FUNDED)
        )
    else:
        ledger.post(
            key="phantom",
            kind=TransactionKind.RELEASE,
            entries=[
                (ledger.escrow(deal.contract_id, "usd"), -100),
                (ledger.provider_payable(deal.contract.provider_profile_id, "usd"), 100),
            ],
        )
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["ledger-check"])
    assert result.exit_code == 1
    assert message in result.output
    assert checks.breaches()


def test_statements_for_client_provider_and_admin(login):
    deal = make_deal((10_000, 20_000, 30_000))
    _paid(deal, 0)
    funding.fund(user=deal.client, milestone_id=deal.milestone_ids[1])
    outbox.deliver_due()

    client = login(deal.client).get("statements/me").get_json()
    assert client["role"] == "client"
    line = {"funded": usd(30_000), "refunded": usd(0), "released": usd(10_000)}
    assert client["totals"] == [{**line, "spend": usd(30_000), "in_escrow": usd(20_000)}]
    assert [m["month"] for m in client["months"]] == [deal.contract.created_at.strftime("%Y-%m")]
    assert client["contracts"][0]["contract_id"] == str(deal.contract_id)
    assert client["contracts"][0]["in_escrow"] == usd(20_000)

    provider = login(deal.provider).get("statements/me").get_json()
    assert provider["totals"] == [
        {
            "earned": usd(9_000),
            "fees": usd(1_000),
            "paid_out": usd(9_000),
            "pending_payout": usd(0),
        }
    ]

    other = make_deal((5_000,))
    assert login(other.client).get("statements/me").get_json()["totals"] == []

    admin = login(AdminFactory()).get("statements/me").get_json()
    assert admin["totals"] == [
        {
            "revenue": usd(1_000),
            "escrow_held": usd(20_000),
            "owed_to_providers": usd(0),
            "owed_to_clients": usd(0),
        }
    ]
    assert admin["months"][0]["revenue"] == usd(1_000)
