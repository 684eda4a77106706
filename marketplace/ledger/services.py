"""Posting to the ledger: the only way money moves (docs/design.md, "Money and the ledger").

A transaction is a list of signed entries that sum to zero per currency; credits
are positive, debits negative. Internal accounts (escrow, payables, revenue) may
never go negative, which `post` checks before the caller commits.

Accounts are named by what they are for (`escrow(contract_id, "usd")`), not loaded: `post`
finds every account of a transaction in one query, with the balances it must check, and
opens the ones used for the first time, so a posting costs the same few statements however
many accounts it touches.
"""

from __future__ import annotations

import logging
import uuid
from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from marketplace.database import is_postgresql, new_id, utcnow
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


@dataclass(frozen=True)
class Account:
    """An account by its code and currency, with the owner it is opened with on first use."""

    code: str
    currency: str
    kind: AccountKind
    contract_id: uuid.UUID | None = None
    provider_profile_id: uuid.UUID | None = None
    client_profile_id: uuid.UUID | None = None

    @property
    def internal(self) -> bool:
        """Ours (must never be negative), as opposed to the outside world's side."""
        return self.kind != AccountKind.EXTERNAL


def fee_split(amount: int, fee_bps: int) -> tuple[int, int]:
    """`(provider's share, platform fee)` of a released amount.

    The fee is rounded down to the minor unit (the provider never pays more than the
    rate) and the provider gets the rest, so the two always add up to `amount`.
    """
    fee = amount * fee_bps // BPS
    return amount - fee, fee


def external(gateway: str, currency: str) -> Account:
    """The outside world as seen through a gateway (`external:stripe`)."""
    return Account(f"external:{gateway}", currency, AccountKind.EXTERNAL)


def escrow(contract_id: uuid.UUID, currency: str) -> Account:
    """A contract's escrow: its funded milestones' money."""
    return Account(
        f"escrow:contract:{contract_id}", currency, AccountKind.ESCROW, contract_id=contract_id
    )


def provider_payable(profile_id: uuid.UUID, currency: str) -> Account:
    """Released to a provider, waiting for the transfer."""
    return Account(
        f"payable:provider:{profile_id}",
        currency,
        AccountKind.PROVIDER_PAYABLE,
        provider_profile_id=profile_id,
    )


def client_payable(profile_id: uuid.UUID, currency: str) -> Account:
    """Owed back to a client, waiting for the refund."""
    return Account(
        f"payable:client:{profile_id}",
        currency,
        AccountKind.CLIENT_PAYABLE,
        client_profile_id=profile_id,
    )


def revenue(currency: str) -> Account:
    """The platform's fees."""
    return Account("revenue:platform", currency, AccountKind.REVENUE)


def _balance_of_account() -> sa.ScalarSelect[int]:
    """The balance of the `ledger_accounts` row of the enclosing query."""
    return (
        sa.select(sa.func.coalesce(sa.func.sum(LedgerEntry.amount), 0))
        .where(LedgerEntry.account_id == LedgerAccount.id)
        .scalar_subquery()
    )


def balance(account: Account) -> int:
    """The account's balance: the sum of its entries (0 for an account never used)."""
    total = db.session.scalar(
        sa.select(_balance_of_account()).where(
            LedgerAccount.code == account.code, LedgerAccount.currency == account.currency
        )
    )
    return int(total or 0)


def _find(
    accounts: Collection[Account], *, with_balance: Collection[Account]
) -> dict[Account, tuple[uuid.UUID, int]]:
    """The ids of those of `accounts` that exist, with the balances of `with_balance` (0
    for the others: summing every entry of a busy account only to ignore it would cost)."""
    by_key = {(a.code, a.currency): a for a in accounts}
    key = sa.tuple_(LedgerAccount.code, LedgerAccount.currency)
    checked = [(a.code, a.currency) for a in with_balance]
    total = (
        sa.case((key.in_(checked), _balance_of_account()), else_=0) if checked else sa.literal(0)
    )
    rows = db.session.execute(
        sa.select(LedgerAccount.id, LedgerAccount.code, LedgerAccount.currency, total).where(
            key.in_(list(by_key))
        )
    )
    return {by_key[code, currency]: (id_, int(amount)) for id_, code, currency, amount in rows}


def _open(accounts: Collection[Account]) -> dict[Account, uuid.UUID]:
    """Create accounts used for the first time; returns those this call made (an account a
    racing transaction made first is left to it and found by the caller)."""
    insert = pg_insert if is_postgresql() else sqlite_insert
    rows = [
        {
            "id": new_id(),
            "code": a.code,
            "currency": a.currency,
            "kind": a.kind,
            "contract_id": a.contract_id,
            "provider_profile_id": a.provider_profile_id,
            "client_profile_id": a.client_profile_id,
            "created_at": utcnow(),
        }
        for a in accounts
    ]
    made = db.session.execute(
        insert(LedgerAccount)
        .values(rows)
        .on_conflict_do_nothing(index_elements=["code", "currency"])
        .returning(LedgerAccount.code, LedgerAccount.currency, LedgerAccount.id)
    )
    by_key = {(a.code, a.currency): a for a in accounts}
    return {by_key[code, currency]: id_ for code, currency, id_ in made}


def _accounts(
    accounts: Collection[Account], *, with_balance: Collection[Account]
) -> dict[Account, tuple[uuid.UUID, int]]:
    """Every one of `accounts` (opened if new) with the balances of `with_balance`."""
    found = _find(accounts, with_balance=with_balance)
    missing = [a for a in accounts if a not in found]
    if missing:
        found |= {account: (id_, 0) for account, id_ in _open(missing).items()}
        raced = [a for a in missing if a not in found]
        if raced:
            found |= _find(raced, with_balance=[a for a in with_balance if a in raced])
    return found


def post(
    *,
    key: str,
    kind: TransactionKind,
    entries: Iterable[tuple[Account, int]],
    contract_id: uuid.UUID | None = None,
    milestone_id: uuid.UUID | None = None,
    memo: str = "",
) -> uuid.UUID:
    """Add a balanced transaction to the caller's unit of work; returns its id.

    Zero amounts are dropped. Raises LedgerError when the entries do not sum to zero
    per currency, when `key` was already posted, or when an internal account would go
    negative; the caller's transaction must then roll back.
    """
    lines = [(account, amount) for account, amount in entries if amount != 0]
    totals: dict[str, int] = defaultdict(int)
    change: dict[Account, int] = defaultdict(int)
    for account, amount in lines:
        totals[account.currency] += amount
        change[account] += amount
    if not lines or any(totals.values()):
        raise LedgerError(f"Unbalanced ledger transaction {key}: {dict(totals)}.")
    debited = [a for a, amount in lines if amount < 0 and a.internal]
    found = _accounts(list(change), with_balance=debited)
    for account in debited:
        if found[account][1] + change[account] < 0:
            log.error("Ledger transaction %s would overdraw %s", key, account.code)
            raise LedgerError(f"Ledger transaction {key} would overdraw {account.code}.")
    transaction_id = db.session.scalar(
        (pg_insert if is_postgresql() else sqlite_insert)(LedgerTransaction)
        .values(
            id=new_id(),
            key=key,
            kind=kind,
            contract_id=contract_id,
            milestone_id=milestone_id,
            memo=memo,
            created_at=utcnow(),
        )
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(LedgerTransaction.id)
    )
    if transaction_id is None:
        raise LedgerError(f"Ledger transaction {key} was already posted.")
    db.session.execute(
        sa.insert(LedgerEntry),
        [
            {
                "transaction_id": transaction_id,
                "account_id": found[account][0],
                "amount": amount,
                "currency": account.currency,
            }
            for account, amount in lines
        ],
    )
    return transaction_id
