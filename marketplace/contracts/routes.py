"""Contract endpoints: award, offers, lifecycle, terms history, amendments, pilots."""

from __future__ import annotations

import uuid
from datetime import date

from flask_login import current_user, login_required

from marketplace.accounts.auth import admin_required
from marketplace.api import Blueprint
from marketplace.contracts import offers, pilots, services
from marketplace.contracts.inputs import AmendmentChanges, AwardTerms, PilotTerms
from marketplace.contracts.models import Amendment, Contract, ContractStatus, MilestoneStatus
from marketplace.contracts.schemas import (
    AmendmentInputSchema,
    AmendmentPageSchema,
    AmendmentSchema,
    AwardSchema,
    ContractPageSchema,
    ContractQuerySchema,
    ContractSchema,
    EndSchema,
    ExtendSchema,
    MilestoneListPageSchema,
    MilestoneQuerySchema,
    PilotStatsSchema,
    TermsPageSchema,
)
from marketplace.flows import amendments
from marketplace.flows import contracts as contract_flows
from marketplace.pagination import Page, PageArgsSchema, paginate
from marketplace.tasks.schemas import OptionalReasonSchema, ReasonSchema

blp = Blueprint("contracts", __name__, url_prefix="/api/v1", description="Contracts")


@blp.post("/bids/<uuid:bid_id>/accept")
@login_required
@blp.arguments(AwardSchema)
@blp.response(201, ContractSchema)
@blp.link(
    201,
    "accept",
    "contracts.accept_offer",
    "Accept the offer (provider).",
    contract_id="$response.body#/id",
)
@blp.errors(400, 401, 403, 404, 409, 422)
def award(terms: AwardTerms, bid_id: uuid.UUID) -> Contract:
    """Accept a bid on your task: the provider gets a contract offer with its terms."""
    return contract_flows.award(user=current_user, bid_id=bid_id, terms=terms)


@blp.get("/contracts")
@login_required
@blp.arguments(ContractQuerySchema, location="query", as_kwargs=True)
@blp.response(200, ContractPageSchema)
@blp.errors(401, 422)
def list_contracts(page: int, page_size: int | None, status: ContractStatus | None = None) -> Page:
    """The contracts of the client or provider you act for."""
    return paginate(
        services.contracts_query(user=current_user, status=status), page=page, page_size=page_size
    )


@blp.get("/milestones")
@login_required
@blp.arguments(MilestoneQuerySchema, location="query", as_kwargs=True)
@blp.response(200, MilestoneListPageSchema)
@blp.errors(401, 422)
def list_my_milestones(
    page: int,
    page_size: int | None,
    status: list[MilestoneStatus] | None = None,
    due_after: date | None = None,
    due_before: date | None = None,
    contract_id: uuid.UUID | None = None,
) -> Page:
    """The milestones of your contracts, by due date, then creation.

    Either side's, and an organization's members see its contracts'. Each item carries its
    `contract_id`, `task_id` and `task_title`; milestones without a due date come last.
    Filter by `status` (repeat it for any of several), `due_after` and `due_before`
    (inclusive dates: this week's Monday and Sunday give what is due this week; milestones
    without a due date drop out) and `contract_id`. Admins, no party, get an empty list.
    """
    return paginate(
        services.my_milestones_query(
            user=current_user,
            statuses=status or (),
            due_after=due_after,
            due_before=due_before,
            contract_id=contract_id,
        ),
        page=page,
        page_size=page_size,
    )


@blp.get("/contracts/<uuid:contract_id>")
@login_required
@blp.response(200, ContractSchema)
@blp.errors(401, 404)
def get_contract(contract_id: uuid.UUID) -> Contract:
    """A contract, with its terms in force and milestones."""
    return services.get_contract(user=current_user, contract_id=contract_id)


@blp.get("/contracts/<uuid:contract_id>/terms")
@login_required
@blp.arguments(PageArgsSchema, location="query", as_kwargs=True)
@blp.response(200, TermsPageSchema)
@blp.errors(401, 404, 422)
def terms_history(contract_id: uuid.UUID, page: int, page_size: int | None) -> Page:
    """Every terms version of the contract, oldest first."""
    return paginate(
        services.terms_query(user=current_user, contract_id=contract_id),
        page=page,
        page_size=page_size,
    )


@blp.post("/contracts/<uuid:contract_id>/accept")
@login_required
@blp.response(200, ContractSchema)
@blp.link(
    200,
    "fund",
    "payments.fund",
    "Fund the first milestone (client).",
    milestone_id="$response.body#/milestones/0/id",
)
@blp.errors(400, 401, 403, 404, 409)
def accept_offer(contract_id: uuid.UUID) -> Contract:
    """Accept the offer (provider): the contract is active."""
    return contract_flows.accept_offer(user=current_user, contract_id=contract_id)


@blp.post("/contracts/<uuid:contract_id>/decline")
@login_required
@blp.arguments(OptionalReasonSchema, as_kwargs=True)
@blp.response(200, ContractSchema)
@blp.errors(400, 401, 403, 404, 409, 422)
def decline_offer(contract_id: uuid.UUID, reason: str | None) -> Contract:
    """Decline the offer (provider)."""
    return offers.decline_offer(user=current_user, contract_id=contract_id, reason=reason)


@blp.post("/contracts/<uuid:contract_id>/pause")
@login_required
@blp.arguments(OptionalReasonSchema, as_kwargs=True)
@blp.response(200, ContractSchema)
@blp.errors(400, 401, 403, 404, 409, 422)
def pause(contract_id: uuid.UUID, reason: str | None) -> Contract:
    """Pause an active contract (client)."""
    return services.pause(user=current_user, contract_id=contract_id, reason=reason)


@blp.post("/contracts/<uuid:contract_id>/resume")
@login_required
@blp.response(200, ContractSchema)
@blp.errors(400, 401, 403, 404, 409)
def resume(contract_id: uuid.UUID) -> Contract:
    """Resume a paused contract (client)."""
    return services.resume(user=current_user, contract_id=contract_id)


@blp.post("/contracts/<uuid:contract_id>/terminate")
@login_required
@blp.arguments(EndSchema, as_kwargs=True)
@blp.response(200, ContractSchema)
@blp.errors(400, 401, 403, 404, 409, 422)
def terminate(contract_id: uuid.UUID, reason: str) -> Contract:
    """End the contract (either party), with a reason; unfunded milestones are cancelled."""
    return contract_flows.terminate(user=current_user, contract_id=contract_id, reason=reason)


@blp.post("/contracts/<uuid:contract_id>/extend")
@login_required
@blp.arguments(ExtendSchema)
@blp.response(201, ContractSchema)
@blp.errors(400, 401, 403, 404, 409, 422)
def extend(terms: PilotTerms, contract_id: uuid.UUID) -> Contract:
    """After a completed pilot, offer the same provider a full contract (client)."""
    return pilots.extend_pilot(user=current_user, contract_id=contract_id, terms=terms)


@blp.post("/contracts/<uuid:contract_id>/amendments")
@login_required
@blp.arguments(AmendmentInputSchema, as_kwargs=True)
@blp.response(201, AmendmentSchema)
@blp.errors(400, 401, 403, 404, 409, 422)
def propose_amendment(contract_id: uuid.UUID, changes: AmendmentChanges, note: str) -> Amendment:
    """Propose new terms (either party); the other accepts them or they lapse."""
    return amendments.propose(
        user=current_user, contract_id=contract_id, changes=changes, note=note
    )


@blp.get("/contracts/<uuid:contract_id>/amendments")
@login_required
@blp.arguments(PageArgsSchema, location="query", as_kwargs=True)
@blp.response(200, AmendmentPageSchema)
@blp.errors(401, 404, 422)
def list_amendments(contract_id: uuid.UUID, page: int, page_size: int | None) -> Page:
    """The contract's amendments, newest first."""
    return paginate(
        amendments.amendments_query(user=current_user, contract_id=contract_id),
        page=page,
        page_size=page_size,
    )


@blp.post("/amendments/<uuid:amendment_id>/accept")
@login_required
@blp.response(200, AmendmentSchema)
@blp.errors(400, 401, 403, 404, 409, 422)
def accept_amendment(amendment_id: uuid.UUID) -> Amendment:
    """Accept the other party's amendment: a new terms version applies."""
    return amendments.accept(user=current_user, amendment_id=amendment_id)


@blp.post("/amendments/<uuid:amendment_id>/decline")
@login_required
@blp.arguments(ReasonSchema, as_kwargs=True)
@blp.response(200, AmendmentSchema)
@blp.errors(400, 401, 403, 404, 409, 422)
def decline_amendment(amendment_id: uuid.UUID, reason: str) -> Amendment:
    """Decline the other party's amendment, with a reason; the terms stay as they are."""
    return amendments.decline(user=current_user, amendment_id=amendment_id, reason=reason)


@blp.post("/amendments/<uuid:amendment_id>/withdraw")
@login_required
@blp.arguments(OptionalReasonSchema, as_kwargs=True)
@blp.response(200, AmendmentSchema)
@blp.errors(400, 401, 403, 404, 409, 422)
def withdraw_amendment(amendment_id: uuid.UUID, reason: str | None) -> Amendment:
    """Withdraw your side's amendment before the other party answers it."""
    return amendments.withdraw(user=current_user, amendment_id=amendment_id, reason=reason)


@blp.get("/admin/stats/pilots")
@admin_required
@blp.response(200, PilotStatsSchema)
@blp.errors(401, 403)
def pilot_stats() -> dict[str, int]:
    """Completed pilots, and how many led to an accepted full contract (admins)."""
    return pilots.pilot_conversion()
