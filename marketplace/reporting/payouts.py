"""A provider's payouts: the payout account's state and its money, read from the ledger.

The three figures, per currency, for the provider profile the user acts for:

- `in_escrow`: what the escrow accounts of the provider's contracts hold: milestones the
  client funded that are not yet released, refunded or split by a dispute. It is the
  client's money until released, counted before the platform fee (the provider gets it
  less the contract's fee, rounded in the provider's favour per milestone).
- `pending_payout`: the balance of the provider's payable account: released to the
  provider (after the fee) and not yet transferred to its payout account, including
  transfers queued or retrying, and transfers the gateway reversed (owed again).
- `paid_out`: what was transferred to the provider's payout account, less what came back
  through reversals (the statement's `paid_out`, `ledger.postings.PROVIDER_FIGURES`).

`pending_payout` + `paid_out` is what the provider earned (released to it after fees).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from marketplace import permissions
from marketplace.accounts.models import User
from marketplace.contracts.models import Contract
from marketplace.extensions import db
from marketplace.ledger import postings
from marketplace.ledger.models import (
    AccountKind,
    LedgerAccount,
    LedgerEntry,
    LedgerTransaction,
    TransactionKind,
)
from marketplace.payments.payouts import PayoutAccountState, account_state


@dataclass(frozen=True)
class Payouts:
    """The payout account and the money figures of a provider (see the module docstring);
    each figure lists `{"amount", "currency"}` for the currencies where it is not zero."""

    account_state: PayoutAccountState
    payouts_enabled: bool
    in_escrow: list[dict[str, Any]]
    pending_payout: list[dict[str, Any]]
    paid_out: list[dict[str, Any]]


def provider_payouts(*, user: User) -> Payouts:
    """The payouts of the provider the user acts for (any member of a firm: the firm's);
    Forbidden for other accounts. Two statements: the profile and the ledger figures."""
    profile = permissions.acting_provider_profile(user)
    own_contracts = sa.select(Contract.id).where(Contract.provider_profile_id == profile.id)
    rows = db.session.execute(
        sa.select(
            LedgerAccount.kind,
            LedgerTransaction.kind,
            LedgerEntry.currency,
            sa.func.sum(LedgerEntry.amount),
        )
        .join(LedgerEntry, LedgerEntry.account_id == LedgerAccount.id)
        .join(LedgerTransaction, LedgerTransaction.id == LedgerEntry.transaction_id)
        .where(
            sa.or_(
                sa.and_(
                    LedgerAccount.kind == AccountKind.PROVIDER_PAYABLE,
                    LedgerAccount.provider_profile_id == profile.id,
                ),
                sa.and_(
                    LedgerAccount.kind == AccountKind.ESCROW,
                    LedgerAccount.contract_id.in_(own_contracts),
                ),
            )
        )
        .group_by(LedgerAccount.kind, LedgerTransaction.kind, LedgerEntry.currency)
    ).all()
    figures: dict[str, dict[str, int]] = {
        name: defaultdict(int) for name in ("in_escrow", "pending_payout", "paid_out")
    }
    for account, transaction, currency, amount in rows:
        account, amount = AccountKind(account), int(amount)
        if account == AccountKind.ESCROW:
            figures["in_escrow"][currency] += amount
            continue
        figures["pending_payout"][currency] += amount
        figure = postings.PROVIDER_FIGURES.get((TransactionKind(transaction), account))
        if figure is not None and figure[0] == "paid_out":
            figures["paid_out"][currency] += figure[1] * amount
    listed = {
        name: [
            {"amount": amount, "currency": currency}
            for currency, amount in sorted(by_currency.items())
            if amount
        ]
        for name, by_currency in figures.items()
    }
    return Payouts(
        account_state=account_state(profile),
        payouts_enabled=profile.payouts_enabled,
        **listed,
    )
