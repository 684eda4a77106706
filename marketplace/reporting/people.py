"""What the console shows of the marketplace's people: a search by e-mail, name or
organization, and one user's case (profile, tasks, bids, contracts, money, reports, audit).

Read-only: every change to a user goes through the accounts, contracts and flows services.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import joinedload, selectinload

from marketplace import audit
from marketplace.accounts import services as accounts
from marketplace.accounts.models import Role, User
from marketplace.bids.models import Bid
from marketplace.contracts import services as contracts
from marketplace.contracts.models import Contract
from marketplace.contracts.states import CONTRACT_LIVE
from marketplace.errors import DomainError
from marketplace.extensions import db
from marketplace.ledger.models import LedgerEntry, LedgerTransaction
from marketplace.messaging.models import Message
from marketplace.moderation.models import Report
from marketplace.organizations.models import Membership, Organization
from marketplace.payments.models import Dispute, DisputeStatus
from marketplace.permissions import acting_client_profile_id, acting_provider_profile_id
from marketplace.profiles.models import ClientProfile, ProviderProfile
from marketplace.reporting import statements
from marketplace.tasks.models import Task

#: How many rows of each list a user's page shows (the newest).
SHOWN = 50
#: How many ledger lines of a user's contracts their page shows (the newest).
LEDGER_LINES = 20


def search_query(text: str = "") -> sa.Select[User]:
    """Users whose e-mail, name, organization or company name contains `text` (any case),
    newest first; everyone when it is blank. Each comes with their organization."""
    stmt = (
        sa.select(User)
        .options(selectinload(User.membership).joinedload(Membership.organization))
        .order_by(User.created_at.desc(), User.id.desc())
    )
    text = text.strip()
    if not text:
        return stmt
    pattern = f"%{text.lower()}%"
    in_organization = (
        sa.select(Membership.user_id)
        .join(Organization, Organization.id == Membership.organization_id)
        .where(sa.func.lower(Organization.name).like(pattern))
    )
    in_company = sa.select(ClientProfile.user_id).where(
        ClientProfile.user_id.is_not(None), sa.func.lower(ClientProfile.company_name).like(pattern)
    )
    return stmt.where(
        sa.or_(
            sa.func.lower(User.email).like(pattern),
            sa.func.lower(User.name).like(pattern),
            User.id.in_(in_organization),
            User.id.in_(in_company),
        )
    )


@dataclass
class UserCase:
    """One user as a moderator reads them."""

    user: User
    organization: Organization | None
    member_role: str | None
    client_profile: ClientProfile | None = None
    provider_profile: ProviderProfile | None = None
    tasks: list[Task] = field(default_factory=list)
    bids: list[Bid] = field(default_factory=list)
    contracts: list[Contract] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    statement: dict[str, Any] | None = None
    ledger_lines: list[LedgerTransaction] = field(default_factory=list)
    reports_by: list[Report] = field(default_factory=list)
    reports_about: list[Report] = field(default_factory=list)
    audit_entries: list[audit.AuditEntry] = field(default_factory=list)
    actors: dict[uuid.UUID, User] = field(default_factory=dict)
    #: The open dispute of each contract that has one (contract id -> dispute id).
    open_disputes: dict[uuid.UUID, uuid.UUID] = field(default_factory=dict)

    @property
    def live_contracts(self) -> list[Contract]:
        """Contracts still in play (offered, active, paused): what a suspension leaves to
        settle."""
        return [c for c in self.contracts if c.status in CONTRACT_LIVE]


def _newest(stmt: sa.Select[Any], limit: int = SHOWN) -> tuple[list[Any], int]:
    """The first `limit` rows of `stmt` and how many there are in all."""
    total = db.session.scalar(
        sa.select(sa.func.count()).select_from(stmt.order_by(None).subquery())
    )
    return list(db.session.scalars(stmt.limit(limit)).unique()), int(total or 0)


def _profiles(user: User) -> tuple[ClientProfile | None, ProviderProfile | None]:
    """The client or provider profile the user acts for (their organization's, or their own)."""
    if user.role == Role.CLIENT:
        profile_id = db.session.scalar(sa.select(acting_client_profile_id(user.id)))
        return (db.session.get(ClientProfile, profile_id) if profile_id else None), None
    if user.role == Role.PROVIDER:
        profile_id = db.session.scalar(sa.select(acting_provider_profile_id(user.id)))
        return None, (db.session.get(ProviderProfile, profile_id) if profile_id else None)
    return None, None


def _contracts_of(case: UserCase) -> sa.Select[Contract]:
    if case.client_profile is not None:
        where = Contract.client_profile_id == case.client_profile.id
    elif case.provider_profile is not None:
        where = Contract.provider_profile_id == case.provider_profile.id
    else:
        where = sa.false()
    return (
        sa.select(Contract)
        .where(where)
        .options(*contracts.summary_options())
        .order_by(Contract.created_at.desc(), Contract.id.desc())
    )


def _reports_about(user: User, case: UserCase) -> sa.Select[Report]:
    """Reports on the user, their organization, the messages they sent, and the tasks or
    bids of the profile they act for."""
    targets = [sa.and_(Report.target_type == "user", Report.target_id == user.id)]
    if case.organization is not None:
        targets.append(
            sa.and_(Report.target_type == "organization", Report.target_id == case.organization.id)
        )
    targets.append(
        sa.and_(
            Report.target_type == "message",
            Report.target_id.in_(sa.select(Message.id).where(Message.sender_id == user.id)),
        )
    )
    if case.client_profile is not None:
        tasks = sa.select(Task.id).where(Task.client_profile_id == case.client_profile.id)
        targets.append(sa.and_(Report.target_type == "task", Report.target_id.in_(tasks)))
    if case.provider_profile is not None:
        bids = sa.select(Bid.id).where(Bid.provider_profile_id == case.provider_profile.id)
        targets.append(sa.and_(Report.target_type == "bid", Report.target_id.in_(bids)))
    return (
        sa.select(Report)
        .where(sa.or_(*targets))
        .options(joinedload(Report.reporter))
        .order_by(Report.created_at.desc(), Report.id.desc())
    )


def _statement(user: User) -> dict[str, Any] | None:
    """The user's statement as GET /statements/me shows it to them (None for admins, and
    for a party without a profile yet)."""
    if user.is_admin:
        return None
    try:
        return statements.statement(user=user)
    except DomainError:
        return None


def _ledger_lines(contract_ids: sa.Select[Any]) -> list[LedgerTransaction]:
    """The newest ledger transactions of these contracts, each with its entries."""
    return list(
        db.session.scalars(
            sa.select(LedgerTransaction)
            .where(LedgerTransaction.contract_id.in_(contract_ids))
            .options(selectinload(LedgerTransaction.entries).joinedload(LedgerEntry.account))
            .order_by(LedgerTransaction.created_at.desc(), LedgerTransaction.id.desc())
            .limit(LEDGER_LINES)
        )
    )


def user_case(user_id: uuid.UUID) -> UserCase:
    """Everything a moderator reads about one user (NotFound for an unknown id)."""
    user = accounts.get_user(user_id)
    membership = user.membership
    case = UserCase(
        user=user,
        organization=membership.organization if membership else None,
        member_role=membership.role.value if membership else None,
    )
    case.client_profile, case.provider_profile = _profiles(user)
    if case.client_profile is not None:
        case.tasks, case.counts["tasks"] = _newest(
            sa.select(Task)
            .where(Task.client_profile_id == case.client_profile.id)
            .order_by(Task.created_at.desc(), Task.id.desc())
        )
    if case.provider_profile is not None:
        case.bids, case.counts["bids"] = _newest(
            sa.select(Bid)
            .where(Bid.provider_profile_id == case.provider_profile.id)
            .options(joinedload(Bid.task))
            .order_by(Bid.created_at.desc(), Bid.id.desc())
        )
    own = _contracts_of(case)
    # Every live contract is listed (a suspension settles them all), then the newest others.
    live = list(db.session.scalars(own.where(Contract.status.in_(CONTRACT_LIVE))).unique())
    newest, case.counts["contracts"] = _newest(own)
    case.contracts = live + [c for c in newest if c.status not in CONTRACT_LIVE]
    if case.contracts:
        rows = db.session.execute(
            sa.select(Dispute.contract_id, Dispute.id).where(
                Dispute.contract_id.in_([c.id for c in case.contracts]),
                Dispute.status == DisputeStatus.OPEN,
            )
        )
        case.open_disputes = {contract_id: dispute_id for contract_id, dispute_id in rows}
    case.statement = _statement(user)
    case.ledger_lines = _ledger_lines(own.with_only_columns(Contract.id).order_by(None))
    case.reports_by, case.counts["reports_by"] = _newest(
        sa.select(Report)
        .where(Report.reporter_id == user.id)
        .order_by(Report.created_at.desc(), Report.id.desc())
    )
    case.reports_about, case.counts["reports_about"] = _newest(_reports_about(user, case))
    case.audit_entries, case.counts["audit"] = _newest(
        sa.select(audit.AuditEntry)
        .where(
            sa.or_(
                audit.AuditEntry.actor_id == user.id,
                sa.and_(
                    audit.AuditEntry.target_type == "user", audit.AuditEntry.target_id == user.id
                ),
            )
        )
        .order_by(audit.AuditEntry.at.desc(), audit.AuditEntry.id.desc())
    )
    actor_ids = {e.actor_id for e in case.audit_entries if e.actor_id}
    if actor_ids:
        case.actors = {
            u.id: u for u in db.session.scalars(sa.select(User).where(User.id.in_(actor_ids)))
        }
    return case
