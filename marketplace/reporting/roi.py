"""The realised return of a client's workflows (`GET /clients/me/roi`): per workflow, the
estimate next to what happened, and across workflows the saving month by month.

Who: a client, for the client it acts for (its individual, or any member of its company);
an account of another kind, admins included, is refused (403). The workflows are that
client's, newest first, at most `MAX_WORKFLOWS`.

Per workflow, in the currency of its in-house rate:

- `in_house_monthly`: hours_per_week x in_house_rate x 52 / 12;
- `contracts`: those of its pilot task (`pilot_task_id`), oldest first: the pilot, then its
  extension (`pilot: false`); none without a pilot task or before its first contract;
- a contract's `spend`, from the ledger only: what the client paid into the contract's
  escrow (the FUNDING transactions' credit to the escrow account) minus what the
  contract's transactions gave back (their credit to the client's `client_payable`: refunds
  and the client's share of dispute resolutions), each in the UTC month of its
  transaction; a payment that funded nothing (`unmatched_payment`) is neither. Money in a
  currency other than the workflow's is not converted and not counted;
- a contract's `kpis`: its KPIs as the measured record serves them (`record.kpis`), their
  current figures without the per-period series (`GET /contracts/{id}/kpis` has those);
  null for a contract never accepted, which has no record;
- `spend`: the sum of its contracts' spend;
- `realised_monthly_saving`: saved_hours x in_house_rate x 52 / 12 minus the average
  monthly spend over the months its work was handed off: from its first month with spend
  (the month of its first funding) to the current month while one of its contracts runs,
  else to the month the last of them ended; saved_hours is the hours a week the client
  reports saving, else the workflow's hours_per_week; null without spend;
- `estimate`: what the audit expects it to save (`workflows.services.assess`): the
  monthly saving once steady and the twelve months' range; null while answers are
  missing, for work kept in house or automated, or without a market rate to price it.

Across workflows, per currency (`series`): every month from the earliest first month with
spend to the current month, with `baseline`, the sum of saved_hours x rate x 52 / 12 of
the workflows handed off that month (as above); `spend`, that month's
spend of all their contracts; and `saving` = baseline - spend. Sorted by currency, month.

Amounts are money (`{"amount", "currency"}`, in minor units), each rounded once, at the
end, half up (an exact half away from zero) as the estimate's are (`workflows.roi`).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from marketplace.accounts.models import User
from marketplace.contracts.models import Contract
from marketplace.contracts.states import RUNNING
from marketplace.database import utcnow
from marketplace.extensions import db
from marketplace.ledger import postings
from marketplace.ledger.models import LedgerAccount, LedgerEntry, LedgerTransaction
from marketplace.record import kpis
from marketplace.reporting.statements import month_column
from marketplace.workflows import services as workflows
from marketplace.workflows.models import Workflow
from marketplace.workflows.roi import half_up, in_house_monthly, monthly

#: At most this many workflows (the newest) are shown.
MAX_WORKFLOWS = 100

#: The ledger movements a client's spend counts: (transaction kind, account kind) -> sign.
SPEND_SIGNS = {
    pair: sign * (1 if figure == "funded" else -1)
    for pair, (figure, sign) in postings.CLIENT_FIGURES.items()
    if figure in ("funded", "refunded")
}

Month = str  # "YYYY-MM"
#: A contract's spend: (currency, month) -> amount.
Spend = dict[tuple[str, Month], int]


def month_of(moment: datetime) -> Month:
    """`YYYY-MM` of a UTC moment."""
    return f"{moment.year:04d}-{moment.month:02d}"


def months(first: Month, last: Month) -> list[Month]:
    """Every month from `first` to `last` inclusive (none if `last` is earlier)."""
    year, month = int(first[:4]), int(first[5:])
    found = []
    while (key := f"{year:04d}-{month:02d}") <= last:
        found.append(key)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return found


def contract_spend(contract_ids: list[uuid.UUID]) -> dict[uuid.UUID, Spend]:
    """What the client spent on each contract, by currency and UTC month, from the ledger
    (one query for them all; a contract without counted movements is absent)."""
    if not contract_ids:
        return {}
    counted = [
        (sa.and_(LedgerTransaction.kind == txn, LedgerAccount.kind == account), sign)
        for (txn, account), sign in SPEND_SIGNS.items()
    ]
    month = month_column(LedgerTransaction.created_at)
    rows = db.session.execute(
        sa.select(
            LedgerTransaction.contract_id,
            LedgerEntry.currency,
            month,
            sa.func.sum(
                sa.case(*((test, LedgerEntry.amount * sign) for test, sign in counted), else_=0)
            ),
        )
        .join(LedgerEntry, LedgerEntry.transaction_id == LedgerTransaction.id)
        .join(LedgerAccount, LedgerAccount.id == LedgerEntry.account_id)
        .where(
            LedgerTransaction.contract_id.in_(contract_ids),
            sa.or_(*(test for test, _ in counted)),
        )
        .group_by(LedgerTransaction.contract_id, LedgerEntry.currency, month)
    )
    found: dict[uuid.UUID, Spend] = defaultdict(dict)
    for contract_id, currency, month_text, amount in rows:
        found[contract_id][(currency, month_text)] = int(amount)
    return found


def _estimate(workflow: Workflow) -> dict[str, Any] | None:
    """What the audit expects the workflow to save (`workflows.services.assess`): the
    monthly saving once steady and the first twelve months' (low, expected, high); None
    while answers are missing, for work kept in house or automated, or without a market
    rate to price it."""
    found = workflows.assess(workflow)
    if found is None or found.roi is None:
        return None
    estimate = found.roi
    return {
        "monthly_saving": estimate.monthly_saving,
        "twelve_month": estimate.saving_range,
        "currency": estimate.currency,
    }


def _kpis(contract: Contract, now: datetime) -> dict[str, Any] | None:
    if contract.accepted_at is None:
        return None
    return kpis.contract_kpis(contract, now=now)


@dataclass
class _Realised:
    """A workflow's figures, with what the series needs of it: its spend by month (in its
    currency) and what its saved hours are worth a month, rounded."""

    line: dict[str, Any]
    by_month: dict[Month, int]
    saved_monthly: int
    handed_off: set[Month]  # the months its work was with a provider


def _last_month(contracts: list[Contract], now: datetime) -> Month:
    """The last month the workflow's work was with a provider: this month while one of its
    contracts runs, else the month the last of them ended."""
    if any(c.status in RUNNING for c in contracts):
        return month_of(now)
    ended = [c.ended_at for c in contracts if c.ended_at is not None]
    return month_of(max(ended)) if ended else month_of(now)


def _realised(
    workflow: Workflow,
    contracts: list[Contract],
    spend: dict[uuid.UUID, Spend],
    *,
    now: datetime,
) -> _Realised:
    currency = workflow.in_house_rate_currency
    by_month: dict[Month, int] = defaultdict(int)
    lines = []
    for contract in contracts:
        own = {m: amount for (c, m), amount in spend.get(contract.id, {}).items() if c == currency}
        for month, amount in own.items():
            by_month[month] += amount
        lines.append(
            {
                "id": contract.id,
                "status": contract.status,
                "pilot": contract.pilot_of_id is None,
                "spend": sum(own.values()),
                "currency": currency,
                "kpis": _kpis(contract, now),
            }
        )
    saved = workflow.hours_saved_per_week
    rate = workflow.in_house_rate_amount
    saved_monthly = monthly(workflow.hours_per_week if saved is None else saved, rate)
    total = sum(by_month.values())
    realised, handed_off = None, set[Month]()
    if by_month:
        first = min(by_month)
        handed_off = set(months(first, max(first, _last_month(contracts, now))))
        realised = half_up(saved_monthly - Fraction(total, len(handed_off)))
    line = {
        "workflow_id": workflow.id,
        "name": workflow.name,
        "currency": currency,
        "in_house_monthly": in_house_monthly(workflow.hours_per_week, rate),
        "hours_saved_per_week": saved,
        "estimate": _estimate(workflow),
        "contracts": lines,
        "spend": total,
        "realised_monthly_saving": realised,
    }
    return _Realised(line, by_month, half_up(saved_monthly), handed_off)


def _series(found: list[_Realised], now: Month) -> list[dict[str, Any]]:
    """The month-by-month baseline, spend and saving of every currency."""
    series = []
    started = [one for one in found if one.by_month]
    for currency in sorted({one.line["currency"] for one in started}):
        mine = [one for one in started if one.line["currency"] == currency]
        for month in months(min(min(one.by_month) for one in mine), now):
            baseline = sum(one.saved_monthly for one in mine if month in one.handed_off)
            spend = sum(one.by_month.get(month, 0) for one in mine)
            series.append(
                {
                    "month": month,
                    "currency": currency,
                    "baseline": baseline,
                    "spend": spend,
                    "saving": baseline - spend,
                }
            )
    return series


def client_roi(*, user: User) -> dict[str, Any]:
    """The realised return of the workflows of the client the user acts for (see the
    module's docstring): per workflow, and month by month per currency."""
    found = db.session.scalars(
        workflows.workflows_query(user=user)
        .options(selectinload(Workflow.pilot_contracts).options(*kpis.load_options()))  # type: ignore[arg-type]
        .limit(MAX_WORKFLOWS)
    ).all()
    spend = contract_spend([c.id for workflow in found for c in workflow.pilot_contracts])
    now = utcnow()
    realised = [_realised(workflow, workflow.pilot_contracts, spend, now=now) for workflow in found]
    db.session.commit()  # the KPI snapshots the read brought up to date
    return {
        "workflows": [one.line for one in realised],
        "series": _series(realised, month_of(now)),
    }
