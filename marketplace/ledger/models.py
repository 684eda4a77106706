"""Ledger accounts, transactions and their entries (docs/design.md, "Money and the ledger")."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.database import IdMixin, UTCDateTime, enum_type, utcnow
from marketplace.extensions import Model


class AccountKind(StrEnum):
    """What an account holds. Every kind but `external` is ours and never goes negative."""

    EXTERNAL = "external"  # the world outside: the gateway's side of every movement
    ESCROW = "escrow"  # a contract's funded, unreleased, unrefunded milestones
    PROVIDER_PAYABLE = "provider_payable"  # released to a provider, not yet transferred
    CLIENT_PAYABLE = "client_payable"  # owed back to a client, not yet refunded
    REVENUE = "revenue"  # the platform's fees


class TransactionKind(StrEnum):
    """Why money moved."""

    FUNDING = "funding"  # external -> escrow: the gateway confirmed a milestone's payment
    RELEASE = "release"  # escrow -> provider payable + platform revenue (the fee)
    PAYOUT = "payout"  # provider payable -> external: the transfer to the provider was made
    REFUND = "refund"  # escrow -> client payable: a funded milestone is cancelled
    REFUND_PAYOUT = "refund_payout"  # client payable -> external: the gateway refunded it
    RESOLUTION = "resolution"  # escrow -> both payables and revenue: a dispute's split
    UNMATCHED_PAYMENT = "unmatched_payment"  # external -> client payable: nothing to fund
    REVERSAL = "reversal"  # external -> provider payable: a transfer came back


class LedgerAccount(IdMixin, Model):
    """One account in one currency, e.g. `escrow:contract:<id>` in usd."""

    __tablename__ = "ledger_accounts"
    __table_args__ = (sa.UniqueConstraint("code", "currency"),)

    code: Mapped[str] = mapped_column(sa.String(120))
    currency: Mapped[str] = mapped_column(sa.String(3))
    kind: Mapped[AccountKind] = mapped_column(enum_type(AccountKind))
    contract_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("contracts.id"), index=True)
    provider_profile_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("provider_profiles.id"), index=True
    )
    client_profile_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("client_profiles.id"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def internal(self) -> bool:
        """Ours (must never be negative), as opposed to the outside world's side."""
        return self.kind != AccountKind.EXTERNAL


class LedgerTransaction(IdMixin, Model):
    """One movement of money; its entries sum to zero in each currency.

    `key` names the movement once (`release:<milestone id>`, `payout:<transfer id>`...),
    so the database itself refuses to post the same movement twice.
    """

    __tablename__ = "ledger_transactions"
    __table_args__ = (sa.Index("ix_ledger_transactions_contract", "contract_id", "created_at"),)

    key: Mapped[str] = mapped_column(sa.String(120), unique=True)
    kind: Mapped[TransactionKind] = mapped_column(enum_type(TransactionKind))
    contract_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("contracts.id"))
    milestone_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("milestones.id"), index=True
    )
    memo: Mapped[str] = mapped_column(sa.String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    entries: Mapped[list[LedgerEntry]] = relationship(
        back_populates="transaction", cascade="all, delete-orphan", order_by="LedgerEntry.id"
    )


class LedgerEntry(IdMixin, Model):
    """A signed amount on one account: credits are positive, debits negative."""

    __tablename__ = "ledger_entries"
    __table_args__ = (sa.CheckConstraint("amount <> 0", name="nonzero"),)

    transaction_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("ledger_transactions.id"), index=True
    )
    account_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("ledger_accounts.id"), index=True)
    amount: Mapped[int] = mapped_column(sa.BigInteger)
    currency: Mapped[str] = mapped_column(sa.String(3))

    transaction: Mapped[LedgerTransaction] = relationship(back_populates="entries")
    account: Mapped[LedgerAccount] = relationship(lazy="joined")
