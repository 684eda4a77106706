"""The console's Users page: search, a user's case, suspension and reinstatement, and the
settling of a suspended party's live contracts, through the accounts and contracts
services; each action audited, each refusal shown on the page."""

from __future__ import annotations

import csv
import io
import re

import pytest
import sqlalchemy as sa

from marketplace.accounts.models import User, UserStatus
from marketplace.audit import AuditEntry
from marketplace.contracts.inputs import AwardTerms
from marketplace.contracts.models import Contract, ContractStatus, MilestoneStatus
from marketplace.extensions import db
from marketplace.flows import contracts as contract_flows
from marketplace.moderation import services as moderation
from marketplace.notifications.models import Notification
from marketplace.payments import funding
from tests.console_support import signed_in
from tests.factories import (
    AdminFactory,
    ClientFactory,
    ProviderFactory,
    make_company,
    make_firm,
)
from tests.money import make_bid, make_deal


def audit_of(target_id) -> list[tuple[str, dict]]:
    entries = db.session.scalars(
        sa.select(AuditEntry).where(AuditEntry.target_id == target_id).order_by(AuditEntry.at)
    )
    return [(e.action, e.details) for e in entries]


def notified(user: User, kind: str) -> list[Notification]:
    return list(
        db.session.scalars(
            sa.select(Notification).where(
                Notification.user_id == user.id, Notification.kind == kind
            )
        )
    )


#: How the console writes a debit (U+2212, not a hyphen).
MINUS = "\u2212"


def text_of(response) -> str:
    """The page's text without its tags (whitespace collapsed), to read as a person does."""
    html = response.get_data(as_text=True)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).replace("&#39;", "'")


@pytest.fixture
def console(client):
    return signed_in(client, AdminFactory())


def test_users_are_found_by_email_name_or_organization(console):
    ClientFactory(email="dana@shop.example", name="Dana Okoye")
    ProviderFactory(email="vic@va.example", name="Victor Lim")
    firm = make_firm(name="Harbour Support", manager=True)
    company = make_company(name="Brightside Dental", owner=True)

    def found(query: str) -> list[str]:
        response = console.get(f"/admin/users/?q={query}")
        assert response.status_code == 200
        return re.findall(
            r'<td><a href="/admin/users/[0-9a-f-]+">([^<]+)</a></td>',
            response.get_data(as_text=True),
        )

    assert found("SHOP.example") == ["Dana Okoye"]
    assert found("victor") == ["Victor Lim"]
    assert found("harbour") == [firm.manager.name]
    assert found("brightside") == [company.owner.name]
    assert found("nobody-like-this") == []
    everyone = console.get("/admin/users/")
    assert "5 users" in text_of(everyone)  # two parties, two members, and the admin


def test_the_user_list_pages_and_exports_as_csv(console, app):
    for n in range(3):
        ClientFactory(email=f"page{n}@example.org")
    app.config["PAGE_SIZE_DEFAULT"] = 2
    try:
        first = text_of(console.get("/admin/users/?q=example.org"))
        assert "Page 1 of 2 (3 in all)" in first
        second = console.get("/admin/users/?q=example.org&page=2")
        assert "Page 2 of 2" in text_of(second)
    finally:
        app.config["PAGE_SIZE_DEFAULT"] = 20
    export = console.get("/admin/users/?q=example.org&format=csv")
    assert export.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(export.get_data(as_text=True))))
    assert rows[0][:5] == ["id", "email", "name", "role", "status"]
    assert sorted(row[1] for row in rows[1:]) == [f"page{n}@example.org" for n in range(3)]


def test_a_users_page_shows_profile_work_money_reports_and_audit(console):
    deal = make_deal((40_000, 60_000))
    funding.fund(user=deal.client, milestone_id=deal.milestone_ids[0])
    moderation.report(
        reporter=deal.provider, target_type="user", target_id=deal.client.id, reason="Rude to me."
    )
    moderation.report(
        reporter=deal.client, target_type="user", target_id=deal.provider.id, reason="Ghosting."
    )
    response = console.get(f"/admin/users/{deal.client.id}")
    assert response.status_code == 200
    page = text_of(response)
    for fact in (
        f"E-mail {deal.client.email}",
        "Role client",
        "Status active",
        "Time zone America/New_York",
        "Country US",
        "E-mail verified Yes",
        "Two-factor sign-in Off",
        "Organization none: acts on their own",
    ):
        assert fact in page, fact
    task_title = deal.contract.task.title
    assert task_title in page  # its task and its contract
    assert "1,000.00 USD" in page  # the contract's value
    # The statement's balances: 400 paid into escrow and still held.
    balances = page[page.index("Balances, per currency") :]
    assert "USD 400.00 USD 0.00 USD 0.00 USD 400.00 USD 400.00 USD" in balances
    assert "+400.00 USD" in page and MINUS + "400.00 USD" in page  # the funding's ledger lines
    assert "Rude to me." in page and "Ghosting." in page
    assert 'href="/admin/users/' in response.get_data(as_text=True)

    provider_page = text_of(console.get(f"/admin/users/{deal.provider.id}"))
    assert "Bids of" in provider_page and "1,000.00 USD" in provider_page
    assert "Two-factor sign-in Off" in provider_page


def test_a_firm_member_shows_the_firm_and_their_role(console):
    firm = make_firm(name="Harbour Support", agent=True)
    page = text_of(console.get(f"/admin/users/{firm.agent.id}"))
    assert "Organization Harbour Support (provider), as agent" in page


def test_an_admin_suspends_a_user_with_a_reason_and_their_token_stops_working(
    console, bearer, sent_mail
):
    user = ClientFactory()
    api = bearer(user)
    assert api.get("auth/me").status_code == 200
    response = console.post(f"/admin/users/{user.id}/suspend", {"reason": "Spam campaigns."})
    assert response.status_code == 302
    assert response.headers["Location"] == f"/admin/users/{user.id}"
    db.session.refresh(user)
    assert user.status == UserStatus.SUSPENDED
    assert user.suspension_reason == "Spam campaigns."
    assert audit_of(user.id) == [("suspend_user", {"reason": "Spam campaigns."})]
    assert api.get("auth/me").status_code == 401
    assert any(mail.to == user.email for mail in sent_mail)
    page = console.get(f"/admin/users/{user.id}")
    assert "The user is suspended" in page.get_data(as_text=True)
    assert "Spam campaigns." in text_of(page)

    again = console.post(f"/admin/users/{user.id}/suspend", {"reason": "Twice."})
    assert again.status_code == 302
    assert "suspended" in text_of(console.get(again.headers["Location"])).lower()
    assert len(audit_of(user.id)) == 1  # the refused second one left nothing


@pytest.mark.parametrize("reason", ["", "   ", "x"])
def test_a_suspension_without_a_reason_is_refused_on_the_page(console, reason):
    user = ClientFactory()
    response = console.post(f"/admin/users/{user.id}/suspend", {"reason": reason})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Give a reason" in html
    assert 'aria-invalid="true"' in html
    db.session.refresh(user)
    assert user.status == UserStatus.ACTIVE
    assert audit_of(user.id) == []


def test_an_admin_reinstates_a_suspended_user(console):
    user = ClientFactory()
    console.post(f"/admin/users/{user.id}/suspend", {"reason": "Spam campaigns."})
    response = console.post(f"/admin/users/{user.id}/reinstate")
    assert response.status_code == 302
    db.session.refresh(user)
    assert user.status == UserStatus.ACTIVE and user.suspension_reason is None
    assert [action for action, _ in audit_of(user.id)] == ["suspend_user", "reinstate_user"]


def test_a_suspended_partys_live_contracts_are_listed_and_settled(console):
    client = ClientFactory()
    running = make_deal((40_000,), client=client)
    funding.fund(user=client, milestone_id=running.milestone_ids[0])
    paused = make_deal((10_000,), client=client)
    offer_bid = make_bid((20_000,), client=client, provider=ProviderFactory())
    offer = contract_flows.award(user=client, bid_id=offer_bid.id, terms=AwardTerms())
    db.session.commit()

    assert "Live contracts to settle" not in text_of(console.get(f"/admin/users/{client.id}"))
    console.post(f"/admin/users/{client.id}/suspend", {"reason": "Fraudulent cards."})
    page = text_of(console.get(f"/admin/users/{client.id}"))
    live = page[page.index("Live contracts to settle") : page.index("Contracts of")]
    assert live.count("Reason for") == 3
    assert "Withdraw the offer" in live and "Pause" in live and "Terminate" in live

    base = f"/admin/users/{client.id}/contracts"
    # A blank reason is refused on the page, and nothing changes.
    refused = console.post(f"{base}/{paused.contract_id}/pause", {"reason": " "})
    assert refused.status_code == 422
    assert "Give a reason" in refused.get_data(as_text=True)
    assert db.session.get(Contract, paused.contract_id).status == ContractStatus.ACTIVE

    done = console.post(f"{base}/{paused.contract_id}/pause", {"reason": "Client suspended."})
    assert done.status_code == 302
    assert done.headers["Location"] == f"/admin/users/{client.id}#live-contracts"
    assert db.session.get(Contract, paused.contract_id).status == ContractStatus.PAUSED
    assert notified(paused.provider, "contract.paused")  # the other party is told

    console.post(f"{base}/{running.contract_id}/terminate", {"reason": "Client suspended."})
    contract = db.session.get(Contract, running.contract_id)
    assert contract.status == ContractStatus.TERMINATED
    assert contract.end_reason == "Client suspended."
    # The funded, undelivered milestone is asked back for the client, as a termination does.
    assert contract.milestones[0].status == MilestoneStatus.REFUND_REQUESTED
    assert notified(running.provider, "contract.terminated")

    console.post(f"{base}/{offer.id}/withdraw", {"reason": "Client suspended."})
    assert db.session.get(Contract, offer.id).status == ContractStatus.EXPIRED
    assert notified(offer_bid.submitted_by, "contract.expired")

    for contract_id, action in (
        (paused.contract_id, "contract.pause"),
        (running.contract_id, "contract.terminate"),
        (offer.id, "contract.withdraw_offer"),
    ):
        [(recorded, details)] = audit_of(contract_id)
        assert recorded == action and details["reason"] == "Client suspended."
    # The paused one is still live: it can be terminated later.
    page = text_of(console.get(f"/admin/users/{client.id}"))
    live = page[page.index("Live contracts to settle") : page.index("Contracts of")]
    assert live.count("Reason for") == 1 and "Terminate" in live


def test_a_contract_action_the_state_refuses_is_flashed(console):
    deal = make_deal((10_000,))
    console.post(f"/admin/users/{deal.client.id}/suspend", {"reason": "Fraud."})
    base = f"/admin/users/{deal.client.id}/contracts/{deal.contract_id}"
    console.post(f"{base}/terminate", {"reason": "Suspended."})
    again = console.post(f"{base}/pause", {"reason": "Suspended."})
    assert again.status_code == 302
    page = console.get(again.headers["Location"].split("#")[0]).get_data(as_text=True)
    assert 'role="alert"' in page
    assert len(audit_of(deal.contract_id)) == 1


def test_users_pages_are_404_for_parties_and_sign_in_for_anonymous(client, login):
    user = ClientFactory()
    party = login(ProviderFactory())
    for path in ("/admin/users/", f"/admin/users/{user.id}"):
        response = party.client.get(path)
        assert response.status_code == 404 and response.is_json
    refused = party.post(f"/admin/users/{user.id}/suspend", data={"reason": "Because."})
    assert refused.status_code == 404
    assert client.get("/admin/users/").status_code == 302
    db.session.refresh(user)
    assert user.status == UserStatus.ACTIVE


def test_a_suspension_without_its_csrf_token_is_refused(console):
    user = ClientFactory()
    response = console.post(f"/admin/users/{user.id}/suspend", {"reason": "Spam."}, csrf=False)
    assert response.status_code == 400
    assert "The form has expired" in response.get_data(as_text=True)
    db.session.refresh(user)
    assert user.status == UserStatus.ACTIVE
    assert audit_of(user.id) == []


def test_an_unknown_user_is_a_404_page(console):
    response = console.get("/admin/users/00000000-0000-4000-8000-000000000000")
    assert response.status_code == 404
    assert response.mimetype == "text/html"


def test_the_moderation_paths_of_contracts_are_for_admins_with_a_reason():
    """The services behind the page's buttons refuse a party, and a blank reason, before
    touching the contract."""
    from marketplace.contracts import offers
    from marketplace.contracts import services as contracts
    from marketplace.errors import BusinessRuleViolation, Forbidden

    deal = make_deal((10_000,))
    admin = AdminFactory()
    for service in (
        contracts.pause_for_moderation,
        contract_flows.terminate_for_moderation,
        offers.withdraw_for_moderation,
    ):
        with pytest.raises(Forbidden):
            service(admin=deal.client, contract_id=deal.contract_id, reason="Because I can.")
        with pytest.raises(BusinessRuleViolation):
            service(admin=admin, contract_id=deal.contract_id, reason="  ")
    assert db.session.get(Contract, deal.contract_id).status == ContractStatus.ACTIVE
    assert audit_of(deal.contract_id) == []
