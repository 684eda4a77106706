"""Reading the ledger: a contract's transactions, and statements by month and contract."""

from __future__ import annotations

import uuid
from collections import defaultdict
from typing import Any

import sqlalchemy as sa

from marketplace.accounts.models import Role, User
from marketplace.contracts import services as contracts
from marketplace.contracts.models import Contract
from marketplace.database import is_postgresql
from marketplace.extensions import db
from marketplace.ledger import postings
from marketplace.ledger.models import (
    AccountKind,
    LedgerAccount,
    LedgerEntry,
    LedgerTransaction,
    TransactionKind,
)
from marketplace.tasks.models import Task

CLIENT_FIELDS = ("funded", "refunded", "released")
PROVIDER_FIELDS = ("earned", "fees", "paid_out")


def contract_transactions(*, user: User, contract_id: uuid.UUID) -> sa.Select[LedgerTransaction]:
    """A contract's ledger transactions, oldest first, for its parties and admins."""
    contract = contracts.get_contract(user=user, contract_id=contract_id)
    return (
        sa.select(LedgerTransaction)
        .where(LedgerTransaction.contract_id == contract.id)
        .order_by(LedgerTransaction.created_at, LedgerTransaction.id)
    )


def escrow_held(contract_id: uuid.UUID) -> list[dict[str, Any]]:
    """What a contract's escrow holds now, per currency."""
    rows = db.session.execute(
        sa.select(LedgerAccount.currency, sa.func.coalesce(sa.func.sum(LedgerEntry.amount), 0))
        .join(LedgerEntry, LedgerEntry.account_id == LedgerAccount.id, isouter=True)
        .where(LedgerAccount.kind == AccountKind.ESCROW, LedgerAccount.contract_id == contract_id)
        .group_by(LedgerAccount.currency)
        .order_by(LedgerAccount.currency)
    )
    return [{"amount": int(total), "currency": currency} for currency, total in rows]


def month_column(column: Any) -> Any:
    """`YYYY-MM` of a UTC timestamp, on either database."""
    if is_postgresql():
        return sa.func.to_char(sa.func.timezone("UTC", column), "YYYY-MM")
    return sa.func.strftime("%Y-%m", column)


def _finish(line: dict[str, Any], role: Role, *, running: bool) -> dict[str, Any]:
    if role == Role.CLIENT:
        line["spend"] = line["funded"] - line["refunded"]
        if running:
            line["in_escrow"] = line["funded"] - line["refunded"] - line["released"]
    elif running:
        line["pending_payout"] = line["earned"] - line["paid_out"]
    return line


def _party_statement(user: User) -> dict[str, Any]:
    own = contracts.contracts_query(user=user).with_only_columns(Contract.id).order_by(None)
    month = month_column(LedgerTransaction.created_at)
    rows = db.session.execute(
        sa.select(
            month,
            LedgerTransaction.contract_id,
            LedgerTransaction.kind,
            LedgerAccount.kind,
            LedgerEntry.currency,
            sa.func.sum(LedgerEntry.amount),
        )
        .join(LedgerEntry, LedgerEntry.transaction_id == LedgerTransaction.id)
        .join(LedgerAccount, LedgerAccount.id == LedgerEntry.account_id)
        .where(LedgerTransaction.contract_id.in_(own.scalar_subquery()))
        .group_by(
            month,
            LedgerTransaction.contract_id,
            LedgerTransaction.kind,
            LedgerAccount.kind,
            LedgerEntry.currency,
        )
    ).all()
    figures = postings.CLIENT_FIGURES if user.role == Role.CLIENT else postings.PROVIDER_FIGURES
    fields = CLIENT_FIELDS if user.role == Role.CLIENT else PROVIDER_FIELDS
    groups: dict[str, dict[tuple[Any, str], dict[str, int]]] = {
        name: defaultdict(lambda: dict.fromkeys(fields, 0))
        for name in ("months", "contracts", "totals")
    }
    for month_text, contract_id, txn, account, currency, amount in rows:
        for name, key in (
            ("months", month_text),
            ("contracts", contract_id),
            ("totals", None),
        ):
            figure = figures.get((TransactionKind(txn), AccountKind(account)))
            if figure is not None:
                field, sign = figure
                groups[name][(key, currency)][field] += sign * int(amount)
    titles = dict(
        db.session.execute(
            sa.select(Contract.id, Task.title)
            .join(Task, Task.id == Contract.task_id)
            .where(Contract.id.in_({cid for cid, _ in groups["contracts"]}))
        ).all()
    )
    return {
        "role": user.role.value,
        "months": [
            _finish({"month": m, "currency": c, **line}, user.role, running=False)
            for (m, c), line in sorted(groups["months"].items())
        ],
        "contracts": [
            _finish(
                {"contract_id": cid, "task_title": titles.get(cid, ""), "currency": c, **line},
                user.role,
                running=True,
            )
            for (cid, c), line in sorted(groups["contracts"].items(), key=lambda i: str(i[0]))
        ],
        "totals": [
            _finish({"currency": c, **line}, user.role, running=True)
            for (_, c), line in sorted(groups["totals"].items())
        ],
    }


def _admin_statement() -> dict[str, Any]:
    month = month_column(LedgerTransaction.created_at)
    revenue = db.session.execute(
        sa.select(month, LedgerEntry.currency, sa.func.sum(LedgerEntry.amount))
        .join(LedgerEntry, LedgerEntry.transaction_id == LedgerTransaction.id)
        .join(LedgerAccount, LedgerAccount.id == LedgerEntry.account_id)
        .where(LedgerAccount.kind == AccountKind.REVENUE)
        .group_by(month, LedgerEntry.currency)
        .order_by(month, LedgerEntry.currency)
    ).all()
    held = db.session.execute(
        sa.select(LedgerAccount.kind, LedgerEntry.currency, sa.func.sum(LedgerEntry.amount))
        .join(LedgerAccount, LedgerAccount.id == LedgerEntry.account_id)
        .where(LedgerAccount.kind != AccountKind.EXTERNAL)
        .group_by(LedgerAccount.kind, LedgerEntry.currency)
    ).all()
    names = {
        AccountKind.REVENUE: "revenue",
        AccountKind.ESCROW: "escrow_held",
        AccountKind.PROVIDER_PAYABLE: "owed_to_providers",
        AccountKind.CLIENT_PAYABLE: "owed_to_clients",
    }
    totals: dict[str, dict[str, Any]] = {}
    for kind, currency, amount in held:
        line = totals.setdefault(
            currency, {"currency": currency, **dict.fromkeys(names.values(), 0)}
        )
        line[names[AccountKind(kind)]] = int(amount)
    return {
        "role": "admin",
        "months": [{"month": m, "currency": c, "revenue": int(t)} for m, c, t in revenue],
        "contracts": [],
        "totals": [totals[c] for c in sorted(totals)],
    }


def statement(*, user: User) -> dict[str, Any]:
    """A client's spend, a provider's earnings (by month and by contract), or for admins
    platform revenue by month and the money held (escrow, payables) now."""
    return _admin_statement() if user.is_admin else _party_statement(user)
