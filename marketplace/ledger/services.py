"""Posting to the ledger: the only way money moves (design.md "Money rules").

A transaction is a list of signed entries that sum to zero per currency; credits
are positive, debits negative. Internal accounts (escrow, payables, revenue) may
never go negative, which `post` checks before the caller commits.
"""

from __future__ import annotations

import logging
import uuid
from collections import defaultdict
from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from marketplace.database import is_postgresql, new_id
from marketplace.errors import Conflict
from marketplace.extensions import db
from marketplace.ledger.models import (
    AccountKind,
    LedgerAccount,
    LedgerEntry,
    LedgerTransaction,
    TransactionKind,
)

log = logging.getLogger(__name__)

BPS = 10_000


class LedgerError(Conflict):
    """A posting that would break the books; nothing of it is stored."""

    code = "ledger_error"


def fee_split(amount: int, fee_bps: int) -> tuple[int, int]:
    """`(provider's share, platform fee)` of a released amount.

    The fee is rounded down to the minor unit (the provider never pays more than the
    rate) and the provider gets the rest, so the two always add up to `amount`.
    """
    fee = amount * fee_bps // BPS
    return amount - fee, fee


def _account(code: str, currency: str, kind: AccountKind, **owner: uuid.UUID) -> LedgerAccount:
    """Get or create an account; racing creators end up with the same row."""
    stmt = sa.select(LedgerAccount).where(
        LedgerAccount.code == code, LedgerAccount.currency == currency
    )
    found = db.session.scalar(stmt)
    if found is not None:
        return found
    insert = pg_insert if is_postgresql() else sqlite_insert
    db.session.execute(
        insert(LedgerAccount)
        .values(id=new_id(), code=code, currency=currency, kind=kind, **owner)
        .on_conflict_do_nothing(index_elements=["code", "currency"])
    )
    return db.session.scalars(stmt).one()


def external(gateway: str, currency: str) -> LedgerAccount:
    """The outside world as seen through a gateway (`external:stripe`)."""
    return _account(f"external:{gateway}", currency, AccountKind.EXTERNAL)


def escrow(contract_id: uuid.UUID, currency: str) -> LedgerAccount:
    """A contract's escrow: its funded milestones' money."""
    return _account(
        f"escrow:contract:{contract_id}", currency, AccountKind.ESCROW, contract_id=contract_id
    )


def provider_payable(profile_id: uuid.UUID, currency: str) -> LedgerAccount:
    """Released to a provider, waiting for the transfer."""
    return _account(
        f"payable:provider:{profile_id}",
        currency,
        AccountKind.PROVIDER_PAYABLE,
        provider_profile_id=profile_id,
    )


def client_payable(profile_id: uuid.UUID, currency: str) -> LedgerAccount:
    """Owed back to a client, waiting for the refund."""
    return _account(
        f"payable:client:{profile_id}",
        currency,
        AccountKind.CLIENT_PAYABLE,
        client_profile_id=profile_id,
    )


def revenue(currency: str) -> LedgerAccount:
    """The platform's fees."""
    return _account("revenue:platform", currency, AccountKind.REVENUE)


def balance(account: LedgerAccount) -> int:
    """The account's balance: the sum of its entries (flushed ones included)."""
    total = db.session.scalar(
        sa.select(sa.func.sum(LedgerEntry.amount)).where(LedgerEntry.account_id == account.id)
    )
    return int(total or 0)


def post(
    *,
    key: str,
    kind: TransactionKind,
    entries: Iterable[tuple[LedgerAccount, int]],
    contract_id: uuid.UUID | None = None,
    milestone_id: uuid.UUID | None = None,
    memo: str = "",
) -> LedgerTransaction:
    """Add a balanced transaction to the caller's unit of work.

    Zero amounts are dropped. Raises LedgerError when the entries do not sum to zero
    per currency, when `key` was already posted, or when an internal account would go
    negative; the caller's transaction must then roll back.
    """
    lines = [(account, amount) for account, amount in entries if amount != 0]
    totals: dict[str, int] = defaultdict(int)
    for account, amount in lines:
        totals[account.currency] += amount
    if not lines or any(totals.values()):
        raise LedgerError(f"Unbalanced ledger transaction {key}: {dict(totals)}.")
    if db.session.scalar(sa.select(LedgerTransaction.id).where(LedgerTransaction.key == key)):
        raise LedgerError(f"Ledger transaction {key} was already posted.")
    transaction = LedgerTransaction(
        key=key, kind=kind, contract_id=contract_id, milestone_id=milestone_id, memo=memo
    )
    transaction.entries = [
        LedgerEntry(account=account, amount=amount, currency=account.currency)
        for account, amount in lines
    ]
    db.session.add(transaction)
    db.session.flush()
    for account in {a.id: a for a, amount in lines if amount < 0 and a.internal}.values():
        if balance(account) < 0:
            log.error("Ledger transaction %s would overdraw %s", key, account.code)
            raise LedgerError(f"Ledger transaction {key} would overdraw {account.code}.")
    return transaction
