"""Writing terms versions: the snapshot of what was agreed, and its hash."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any

from flask import current_app

from marketplace.accounts.models import User
from marketplace.contracts.inputs import SlaTargets
from marketplace.contracts.models import Contract, ContractTerms, Milestone, MilestoneStatus
from marketplace.tasks import terms as task_terms
from marketplace.tasks.models import Task


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
        "amount": milestone.amount,
        "currency": milestone.currency,
        "due_date": milestone.due_date.isoformat() if milestone.due_date else None,
        "status": milestone.status.value,
    }


def first_content(
    task: Task, *, deliverables: Sequence[str], sla: SlaTargets, price_type: str
) -> dict[str, Any]:
    """The parts of version 1 taken from the task and configuration (milestones come later)."""
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
        "platform_fee_bps": current_app.config["PLATFORM_FEE_BPS"],
        "auto_release_days": current_app.config["AUTO_RELEASE_DAYS"],
    }


def write_version(contract: Contract, content: dict[str, Any], *, author: User) -> ContractTerms:
    """Record the next terms version, with the live milestones, and make it current."""
    live = [m for m in contract.milestones if m.status != MilestoneStatus.CANCELLED]
    content = {
        **content,
        "milestones": [milestone_view(m) for m in live],
        "total": sum(m.amount for m in live),
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
