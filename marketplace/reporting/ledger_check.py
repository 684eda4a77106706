"""`ledger-check`: the books balance, nothing of ours is negative, and escrow matches
the milestones it holds; pending payables match pending transfers and refunds."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from marketplace.contracts.models import Milestone
from marketplace.contracts.states import IN_ESCROW
from marketplace.extensions import db
from marketplace.ledger.models import AccountKind, LedgerAccount, LedgerEntry, LedgerTransaction
from marketplace.payments.models import Refund, Transfer
from marketplace.payments.states import REFUND_UNSENT, TRANSFER_UNSENT


def _balances(kind: AccountKind, owner: Any) -> dict[tuple[Any, str], int]:
    rows = db.session.execute(
        sa.select(owner, LedgerAccount.currency, sa.func.sum(LedgerEntry.amount))
        .join(LedgerEntry, LedgerEntry.account_id == LedgerAccount.id)
        .where(LedgerAccount.kind == kind)
        .group_by(owner, LedgerAccount.currency)
    )
    return {(o, c): int(total) for o, c, total in rows if total}


def _expected(model: Any, owner: Any, condition: Any, amount: Any) -> dict[tuple[Any, str], int]:
    rows = db.session.execute(
        sa.select(owner, model.currency, sa.func.sum(amount))
        .where(condition)
        .group_by(owner, model.currency)
    )
    return {(o, c): int(total) for o, c, total in rows if total}


def _compare(
    name: str, held: dict[tuple[Any, str], int], owed: dict[tuple[Any, str], int]
) -> list[str]:
    return [
        f"{name} {owner} holds {held.get((owner, cur), 0)} {cur}, "
        f"expected {owed.get((owner, cur), 0)}"
        for owner, cur in sorted(set(held) | set(owed), key=str)
        if held.get((owner, cur), 0) != owed.get((owner, cur), 0)
    ]


def breaches() -> list[str]:
    """Every way the ledger is wrong, as sentences; empty when the books are right."""
    found: list[str] = []
    unbalanced = db.session.execute(
        sa.select(LedgerTransaction.key, LedgerEntry.currency, sa.func.sum(LedgerEntry.amount))
        .join(LedgerEntry, LedgerEntry.transaction_id == LedgerTransaction.id)
        .group_by(LedgerTransaction.key, LedgerEntry.currency)
        .having(sa.func.sum(LedgerEntry.amount) != 0)
    )
    found += [f"transaction {key} sums to {total} {cur}" for key, cur, total in unbalanced]
    empty = db.session.scalars(
        sa.select(LedgerTransaction.key).where(
            ~sa.exists().where(LedgerEntry.transaction_id == LedgerTransaction.id)
        )
    )
    found += [f"transaction {key} has no entries" for key in empty]
    mismatched = db.session.scalars(
        sa.select(LedgerAccount.code)
        .join(LedgerEntry, LedgerEntry.account_id == LedgerAccount.id)
        .where(LedgerEntry.currency != LedgerAccount.currency)
        .distinct()
    )
    found += [f"account {code} has entries in another currency" for code in mismatched]
    negative = db.session.execute(
        sa.select(LedgerAccount.code, LedgerAccount.currency, sa.func.sum(LedgerEntry.amount))
        .join(LedgerEntry, LedgerEntry.account_id == LedgerAccount.id)
        .where(LedgerAccount.kind != AccountKind.EXTERNAL)
        .group_by(LedgerAccount.code, LedgerAccount.currency)
        .having(sa.func.sum(LedgerEntry.amount) < 0)
    )
    found += [f"account {code} is negative: {total} {cur}" for code, cur, total in negative]
    found += _compare(
        "escrow of contract",
        _balances(AccountKind.ESCROW, LedgerAccount.contract_id),
        _expected(
            Milestone, Milestone.contract_id, Milestone.status.in_(IN_ESCROW), Milestone.amount
        ),
    )
    # A provider's payable holds the transfers not yet made, and any taken back.
    owed = sa.case(
        (Transfer.status.in_(TRANSFER_UNSENT), Transfer.amount),
        else_=Transfer.reversed_amount,
    )
    found += _compare(
        "payable of provider",
        _balances(AccountKind.PROVIDER_PAYABLE, LedgerAccount.provider_profile_id),
        _expected(Transfer, Transfer.provider_profile_id, sa.true(), owed),
    )
    found += _compare(
        "payable of client",
        _balances(AccountKind.CLIENT_PAYABLE, LedgerAccount.client_profile_id),
        _expected(
            Refund,
            Refund.client_profile_id,
            Refund.status.in_(REFUND_UNSENT),
            Refund.amount,
        ),
    )
    return found


def _count(model: Any) -> int:
    return int(db.session.scalar(sa.select(sa.func.count()).select_from(model)) or 0)


def summary() -> dict[str, int]:
    """How much the check looked at."""
    return {
        "transactions": _count(LedgerTransaction),
        "entries": _count(LedgerEntry),
        "accounts": _count(LedgerAccount),
    }
