"""An engagement for the work-report and change tests: a client company (owner, manager,
agent) in New York and a provider firm (owner, agent) in Berlin, working 09:00-17:00
Monday to Friday, with an active contract on a task of the service model asked for, all
made through the services at the current (travelled) time."""

from __future__ import annotations

from dataclasses import dataclass

from marketplace.accounts.models import User
from marketplace.bids import services as bids
from marketplace.bids.inputs import BidProposal, MilestoneProposal
from marketplace.contracts.inputs import AwardTerms, SlaTargets
from marketplace.contracts.models import Contract
from marketplace.flows import contracts as contract_flows
from marketplace.inputs import Money
from marketplace.profiles.models import ServiceModel
from marketplace.tasks import confidentiality, lifecycle
from marketplace.tasks import services as tasks
from marketplace.tasks import terms as task_terms
from marketplace.tasks.inputs import Budget
from marketplace.tasks.models import BudgetType
from tests.factories import make_company, make_firm, task_draft

NINE_TO_FIVE = {day: [["09:00", "17:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}


@dataclass
class Engagement:
    """The contract and the people on each side."""

    contract: Contract
    client_owner: User
    client_manager: User
    client_agent: User
    firm_owner: User
    firm_agent: User


def engagement(
    model: ServiceModel = ServiceModel.BPO, *, sla: SlaTargets | None = None
) -> Engagement:
    """An active contract between a New York company and a Berlin firm (09:00-17:00)."""
    company = make_company(owner=True, manager=True, agent=True, timezone="America/New_York")
    firm = make_firm(
        owner=True,
        agent=True,
        service_model=model,
        timezone="Europe/Berlin",
        country="DE",
        working_hours=NINE_TO_FIVE,
    )
    assert company.owner and company.manager and company.agent and firm.owner and firm.agent
    task = tasks.create_task(
        user=company.owner,
        draft=task_draft(
            service_model=model, budget=Budget(BudgetType.FIXED, 10_000, 100_000, "usd")
        ),
    )
    lifecycle.publish_task(user=company.owner, task_id=task.id, confirm_strategic=False)
    confidentiality.accept_terms(
        user=firm.owner,
        task_id=task.id,
        terms_hash=task_terms.terms_hash(),
        ip_address=None,
        user_agent=None,
    )
    bid = bids.place_bid(
        user=firm.owner,
        task_id=task.id,
        proposal=BidProposal(
            price=Money(40_000, "usd"),
            milestones=(MilestoneProposal(title="Month one", amount=40_000),),
            timeline_days=30,
            cover_letter="We run support queues like this one every day.",
        ),
    )
    contract = contract_flows.award(
        user=company.owner, bid_id=bid.id, terms=AwardTerms(sla=sla or SlaTargets())
    )
    contract_flows.accept_offer(user=firm.owner, contract_id=contract.id)
    return Engagement(
        contract=contract,
        client_owner=company.owner,
        client_manager=company.manager,
        client_agent=company.agent,
        firm_owner=firm.owner,
        firm_agent=firm.agent,
    )
