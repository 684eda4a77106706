"""Terms versions: writing the snapshot of what was agreed (and its hash), and serving the
confidential material the snapshot carries.

A snapshot's scope holds the task's confidential details and attachments as of the award.
They are served only through `disclosed_content` (each read logged in the task's access
log, as reads through the task's own endpoint are) or withheld (`withheld_content`); the
contracted provider also reads its contract's version through the task's endpoint until
it accepts a newer one (`read_task_material`).
"""

from __future__ import annotations

import copy
import hashlib
import json
import uuid
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app

from marketplace import permissions
from marketplace.accounts.models import Role, User
from marketplace.contracts.inputs import SlaTargets
from marketplace.contracts.models import Contract, ContractTerms, Milestone, MilestoneStatus
from marketplace.contracts.states import HOLDING
from marketplace.errors import NotFound
from marketplace.extensions import db
from marketplace.profiles.models import ProviderProfile
from marketplace.tasks import confidentiality
from marketplace.tasks import terms as task_terms
from marketplace.tasks.confidentiality import Material, Reader
from marketplace.tasks.models import Task

#: The parts of a snapshot's scope that are the task's confidential material.
CONFIDENTIAL_SCOPE = ("confidential_details", "attachments")


def content_hash(content: dict[str, Any]) -> str:
    """SHA-256 of the canonical JSON of a terms version."""
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def milestone_view(milestone: Milestone) -> dict[str, Any]:
    """A milestone as a terms version records it."""
    return {
        "id": str(milestone.id),
        "title": milestone.title,
        "description": milestone.description,
        "amount": {"amount": milestone.amount, "currency": milestone.currency},
        "due_date": milestone.due_date.isoformat() if milestone.due_date else None,
        "status": milestone.status.value,
    }


def service_hours(task: Task, provider: ProviderProfile) -> dict[str, Any]:
    """The hours the contract's SLA clocks run in: the window a coverage task wants covered,
    in the client's zone; otherwise the provider's working hours, in its own zone."""
    need = task.timezone_need
    if need and need.get("mode") == "coverage":
        zone, hours, source = task.client_profile.timezone, need["window"], "coverage_window"
    else:
        zone, hours, source = provider.timezone, provider.working_hours, "provider_working_hours"
    return {"zone": zone or "UTC", "hours": hours or {}, "source": source}


def first_content(
    task: Task,
    *,
    provider: ProviderProfile,
    deliverables: Sequence[str],
    sla: SlaTargets,
    price_type: str,
) -> dict[str, Any]:
    """The parts of version 1 taken from the task, the provider and configuration
    (milestones come later)."""
    defaults = current_app.config["SLA_DEFAULTS"][(task.service_model or "va")]
    return {
        "scope": {
            "title": task.title,
            "summary": task.summary,
            "confidential_details": task.confidential_details,
            "attachments": task.attachments,
        },
        "deliverables": list(deliverables),
        "price_type": price_type,
        "confidentiality": {
            "text": task_terms.terms_text(),
            "version": task.terms_version,
            "hash": task_terms.terms_hash(),
        },
        "sla": {**defaults, **sla.as_json()},
        "service_hours": service_hours(task, provider),
        "platform_fee_bps": current_app.config["PLATFORM_FEE_BPS"],
        "auto_release_days": current_app.config["AUTO_RELEASE_DAYS"],
    }


#: How hourly contracts bill, as every hourly contract's terms state it.
HOURLY_BILLING = {
    "week": "Monday 00:00 to Sunday 24:00 UTC",
    "adjustment_window": "the provider edits or deletes a week's entries until Monday 12:00 "
    "UTC after it",
    "invoice": "issued Monday 12:00 UTC for the week's billable time, rate x minutes / 60 "
    "rounded half up to the minor unit",
    "review_window": "the client may dispute the invoice or its entries until Friday "
    "23:59:59 UTC; it is charged to the saved card after that",
    "over_limit": "time beyond the week's limit is recorded but never billed; pay it as a bonus",
    "weekly_limit_changes": "a raise counts for the current week, a cut from the next",
}


def hourly_terms(
    *, rate: dict[str, Any], weekly_limit_hours: int, from_week: date
) -> dict[str, Any]:
    """The hourly part of a terms version: the rate, the weekly limit's schedule (each
    entry counts from the week it names) and the billing rules."""
    return {
        "rate": dict(rate),
        "weekly_limits": [{"from_week": from_week.isoformat(), "hours": weekly_limit_hours}],
        "security_days": current_app.config["HOURLY_SECURITY_DAYS"],
        "billing": HOURLY_BILLING,
    }


def weekly_limit(content: dict[str, Any], week: date) -> int:
    """The limit, in hours, for the billing week starting `week` under a terms version."""
    limits = content["hourly"]["weekly_limits"]
    hours = limits[0]["hours"]
    for entry in limits:
        if date.fromisoformat(entry["from_week"]) <= week:
            hours = entry["hours"]
    return int(hours)


def with_weekly_limit(content: dict[str, Any], *, hours: int, this_week: date) -> dict[str, Any]:
    """A copy of `content` with its weekly limit set to `hours`: a raise counts for this
    week, a cut from the next; changes scheduled after that are replaced."""
    current = weekly_limit(content, this_week)
    starts = this_week if hours > current else this_week + timedelta(days=7)
    kept = [
        entry
        for entry in content["hourly"]["weekly_limits"]
        if date.fromisoformat(entry["from_week"]) < starts
    ]
    if hours != current or starts == this_week:
        kept.append({"from_week": starts.isoformat(), "hours": hours})
    return {**content, "hourly": {**content["hourly"], "weekly_limits": kept}}


def write_version(contract: Contract, content: dict[str, Any], *, author: User) -> ContractTerms:
    """Record the next terms version, with the live milestones, and make it current."""
    live = [m for m in contract.milestones if m.status != MilestoneStatus.CANCELLED]
    content = {
        **content,
        "milestones": [milestone_view(m) for m in live],
        "total": contract.amounts["total"],
    }
    version = (max((t.version for t in contract.terms), default=0)) + 1
    record = ContractTerms(
        version=version,
        content=content,
        content_hash=content_hash(content),
        created_by_id=author.id,
    )
    contract.terms.append(record)
    contract.terms_version = version
    return record


def snapshot_material(contract: Contract, terms: ContractTerms) -> Material:
    """The confidential material a terms version of the contract carries."""
    scope = terms.content.get("scope", {})
    clause = terms.content.get("confidentiality", {})
    return Material(
        task_id=contract.task_id,
        terms_version=clause.get("version", 1),
        terms_hash=clause.get("hash", ""),
        confidential_details=scope.get("confidential_details") or "",
        attachments=list(scope.get("attachments") or []),
    )


def _provider_reading(user: User, contract: Contract) -> uuid.UUID | None:
    """The provider profile on whose side `user` reads the contract (None: client, admin)."""
    if permissions.acts_for_provider(user, contract.provider_profile_id):
        return contract.provider_profile_id
    return None


def disclosed_content(terms: ContractTerms, *, reader: Reader) -> dict[str, Any]:
    """A terms version's whole content, for a party or an admin the caller let see the
    contract; the confidential material in it is logged as read by `reader`."""
    contract = db.session.get(Contract, terms.contract_id)
    if contract is None:  # pragma: no cover - terms never outlive their contract
        raise NotFound("Contract not found.")
    content = terms.content
    material = snapshot_material(contract, terms)
    if not material.empty:
        provider_id = _provider_reading(reader.user, contract)
        confidentiality.disclose(material, reader=reader, provider_profile_id=provider_id)
    return content


def withheld_content(terms: ContractTerms) -> dict[str, Any]:
    """A terms version's content with its confidential material withheld (null)."""
    content = copy.deepcopy(terms.content)
    if isinstance(content.get("scope"), dict):
        content["scope"].update(dict.fromkeys(CONFIDENTIAL_SCOPE))
    return content


def _held_contract(user: User, task_id: uuid.UUID) -> Contract | None:
    """The newest contract on the task that holds a position for the provider `user` acts for."""
    if user.role != Role.PROVIDER:
        return None
    return db.session.scalar(
        sa.select(Contract)
        .where(
            Contract.task_id == task_id,
            Contract.provider_profile_id == permissions.acting_provider_profile(user).id,
            Contract.status.in_(HOLDING),
        )
        .order_by(Contract.created_at.desc(), Contract.id.desc())
        .limit(1)
    )


def read_task_material(*, reader: Reader, task_id: uuid.UUID) -> Material:
    """The task's confidential material for `reader`: the current version to those entitled
    to it; else, to a contracted provider, the version its contract holds (a client's edit
    does not cut it off); NotFound for anyone else. Every read is logged."""
    try:
        return confidentiality.read_confidential(reader=reader, task_id=task_id)
    except NotFound:
        contract = _held_contract(reader.user, task_id)
        if contract is None:
            raise
    return confidentiality.disclose(
        snapshot_material(contract, contract.current_terms),
        reader=reader,
        provider_profile_id=contract.provider_profile_id,
    )
