"""The transactions money flows post, one function per kind, and what each means to the
people whose statements show it.

Every posting of the marketplace is built here, so the accounts a kind touches, the sign of
each entry and its idempotency key are written once; `reporting.statements` reads the
ledger back through `CLIENT_FIGURES` and `PROVIDER_FIGURES` below, never a rule of its own.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from marketplace.ledger import services as ledger
from marketplace.ledger.models import AccountKind, TransactionKind


@dataclass(frozen=True)
class MilestoneMoney:
    """What the money is for: a milestone of a contract, in the contract's currency."""

    contract_id: uuid.UUID
    milestone_id: uuid.UUID
    currency: str


def funding(of: MilestoneMoney, *, gateway: str, amount: int, memo: str) -> uuid.UUID:
    """The gateway confirmed the milestone's payment: external -> the contract's escrow."""
    return ledger.post(
        key=f"funding:{of.milestone_id}",
        kind=TransactionKind.FUNDING,
        contract_id=of.contract_id,
        milestone_id=of.milestone_id,
        memo=memo,
        entries=[
            (ledger.external(gateway, of.currency), -amount),
            (ledger.escrow(of.contract_id, of.currency), amount),
        ],
    )


def unmatched_payment(
    of: MilestoneMoney,
    *,
    client_profile_id: uuid.UUID,
    payment_id: uuid.UUID,
    gateway: str,
    amount: int,
    memo: str,
) -> uuid.UUID:
    """A payment arrived for a milestone that no longer needs it: external -> owed back to
    the client (a refund follows)."""
    return ledger.post(
        key=unmatched_payment_key(payment_id),
        kind=TransactionKind.UNMATCHED_PAYMENT,
        contract_id=of.contract_id,
        milestone_id=of.milestone_id,
        memo=memo,
        entries=[
            (ledger.external(gateway, of.currency), -amount),
            (ledger.client_payable(client_profile_id, of.currency), amount),
        ],
    )


def unmatched_payment_key(payment_id: uuid.UUID) -> str:
    """The key of the posting that took in a payment nothing needed (it is refunded)."""
    return f"unmatched_payment:{payment_id}"


def out_of_escrow(
    of: MilestoneMoney,
    *,
    kind: TransactionKind,
    provider_profile_id: uuid.UUID,
    client_profile_id: uuid.UUID,
    provider_share: int,
    fee: int,
    refund: int,
    memo: str,
) -> uuid.UUID:
    """The milestone's money leaves escrow (a release, a refund or a dispute's split): to
    the provider's payable less the fee, the fee to revenue, the rest owed to the client."""
    assert kind in OUT_OF_ESCROW, kind
    # Accounts are opened on first use, so only the parts that carry money name theirs.
    entries = [(ledger.escrow(of.contract_id, of.currency), -(provider_share + fee + refund))]
    if provider_share:
        entries.append((ledger.provider_payable(provider_profile_id, of.currency), provider_share))
    if fee:
        entries.append((ledger.revenue(of.currency), fee))
    if refund:
        entries.append((ledger.client_payable(client_profile_id, of.currency), refund))
    return ledger.post(
        key=f"{kind.value}:{of.milestone_id}",
        kind=kind,
        contract_id=of.contract_id,
        milestone_id=of.milestone_id,
        memo=memo,
        entries=entries,
    )


def payout(
    of: MilestoneMoney,
    *,
    provider_profile_id: uuid.UUID,
    transfer_id: uuid.UUID,
    gateway: str,
    amount: int,
    memo: str,
) -> uuid.UUID:
    """The transfer to the provider was made: their payable -> external."""
    return ledger.post(
        key=f"payout:{transfer_id}",
        kind=TransactionKind.PAYOUT,
        contract_id=of.contract_id,
        milestone_id=of.milestone_id,
        memo=memo,
        entries=[
            (ledger.provider_payable(provider_profile_id, of.currency), -amount),
            (ledger.external(gateway, of.currency), amount),
        ],
    )


def refund_payout(
    of: MilestoneMoney,
    *,
    client_profile_id: uuid.UUID,
    refund_id: uuid.UUID,
    gateway: str,
    amount: int,
    memo: str,
) -> uuid.UUID:
    """The gateway refunded the client: their payable -> external."""
    return ledger.post(
        key=f"refund_payout:{refund_id}",
        kind=TransactionKind.REFUND_PAYOUT,
        contract_id=of.contract_id,
        milestone_id=of.milestone_id,
        memo=memo,
        entries=[
            (ledger.client_payable(client_profile_id, of.currency), -amount),
            (ledger.external(gateway, of.currency), amount),
        ],
    )


def reversal(
    of: MilestoneMoney,
    *,
    provider_profile_id: uuid.UUID,
    transfer_id: uuid.UUID,
    reversed_so_far: int,
    gateway: str,
    amount: int,
    memo: str,
) -> uuid.UUID:
    """Part of a transfer came back: external -> the provider's payable again. Keyed by the
    running total the gateway reports, so each new reversal posts once."""
    return ledger.post(
        key=f"reversal:{transfer_id}:{reversed_so_far}",
        kind=TransactionKind.REVERSAL,
        contract_id=of.contract_id,
        milestone_id=of.milestone_id,
        memo=memo,
        entries=[
            (ledger.external(gateway, of.currency), -amount),
            (ledger.provider_payable(provider_profile_id, of.currency), amount),
        ],
    )


#: The kinds that take a milestone's money out of escrow.
OUT_OF_ESCROW = frozenset(
    {TransactionKind.RELEASE, TransactionKind.REFUND, TransactionKind.RESOLUTION}
)
_PAID_OUT_OF_ESCROW = (TransactionKind.RELEASE, TransactionKind.RESOLUTION)

#: A client's statement: (kind, account the entry is on) -> the figure the amount adds to.
CLIENT_FIGURES: dict[tuple[TransactionKind, AccountKind], tuple[str, int]] = {
    (TransactionKind.FUNDING, AccountKind.ESCROW): ("funded", 1),
    (TransactionKind.REFUND, AccountKind.CLIENT_PAYABLE): ("refunded", 1),
    (TransactionKind.RESOLUTION, AccountKind.CLIENT_PAYABLE): ("refunded", 1),
    **{(kind, AccountKind.PROVIDER_PAYABLE): ("released", 1) for kind in _PAID_OUT_OF_ESCROW},
    **{(kind, AccountKind.REVENUE): ("released", 1) for kind in _PAID_OUT_OF_ESCROW},
}
#: A provider's statement, the same way; a payout's entry on the payable is negative.
PROVIDER_FIGURES: dict[tuple[TransactionKind, AccountKind], tuple[str, int]] = {
    **{(kind, AccountKind.PROVIDER_PAYABLE): ("earned", 1) for kind in _PAID_OUT_OF_ESCROW},
    **{(kind, AccountKind.REVENUE): ("fees", 1) for kind in _PAID_OUT_OF_ESCROW},
    (TransactionKind.PAYOUT, AccountKind.PROVIDER_PAYABLE): ("paid_out", -1),
    (TransactionKind.REVERSAL, AccountKind.PROVIDER_PAYABLE): ("paid_out", -1),
}
