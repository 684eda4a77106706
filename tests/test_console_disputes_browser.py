"""The Disputes page in a real headless Chromium against a live server: an admin reads a
dispute's case, tries a split that does not add up, then resolves it through the
confirmation step and sees the ledger lines; every page checked by axe-core and
screenshotted."""

from __future__ import annotations

import io
import re

import sqlalchemy as sa

from marketplace.contracts.models import Milestone, MilestoneStatus
from marketplace.extensions import db
from marketplace.files import services as files
from marketplace.files.models import FilePurpose
from marketplace.ledger import services as ledger
from marketplace.ledger.models import LedgerTransaction, TransactionKind
from marketplace.messaging import services as messaging
from marketplace.payments import delivery, disputes, evidence, funding
from marketplace.payments.models import Dispute, DisputeStatus
from tests.browser_support import check_page, needs_axe, needs_chromium
from tests.factories import AdminFactory
from tests.money import make_deal
from tests.test_console_browser import person, sign_in

pytestmark = [needs_chromium, needs_axe]

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"
MINUS = "\u2212"


def disputed_world() -> dict[str, object]:
    """A contract whose first milestone (400.00 USD) was delivered with a file and disputed
    by the client; evidence from both sides and a few messages."""
    deal = make_deal((40_000, 60_000))
    milestone_id = deal.milestone_ids[0]
    funding.fund(user=deal.client, milestone_id=milestone_id)
    report = files.upload(
        user=deal.provider,
        purpose=FilePurpose.SUBMISSION,
        stream=io.BytesIO(PDF),
        filename="tickets-week-1.pdf",
    )
    delivery.submit(
        user=deal.provider,
        milestone_id=milestone_id,
        note="300 tickets answered; the log is attached.",
        deliverables=[],
        files=[report.id],
    )
    thread = messaging.contract_conversation(user=deal.client, contract_id=deal.contract_id)
    messaging.post_message(thread, user=deal.client, body="Where are the refund tickets?")
    messaging.post_message(thread, user=deal.provider, body="They were out of scope.")
    dispute = disputes.open_dispute(
        user=deal.client, milestone_id=milestone_id, reason="The refund tickets were skipped."
    )
    evidence.add_evidence(user=deal.client, dispute_id=dispute.id, text="Scope says all tickets.")
    evidence.add_evidence(user=deal.provider, dispute_id=dispute.id, text="Refunds were excluded.")
    ids = {
        "dispute": dispute.id,
        "contract": deal.contract_id,
        "milestone": milestone_id,
        "provider_profile": deal.contract.provider_profile_id,
        "client_profile": deal.contract.client_profile_id,
    }
    db.session.commit()  # and nothing read after it: the live server needs the write lock
    return ids


def test_an_admin_resolves_a_dispute_with_a_split_and_sees_the_ledger(live_server, page):
    admin = person(AdminFactory)
    ids = disputed_world()
    sign_in(page, live_server, admin)
    page.wait_for_url(f"{live_server}/admin/")
    page.get_by_role("navigation", name="Console").get_by_role("link", name="Disputes").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Open disputes"
    assert page.locator("tbody tr").count() == 1
    check_page(page, "disputes-list")

    page.locator("tbody tr").get_by_role("link").click()
    assert page.get_by_role("heading", level=1).inner_text().startswith("Dispute over")
    assert "Scope says all tickets." in page.locator("#evidence ~ article").first.inner_text()
    assert (
        page.get_by_role("link", name="tickets-week-1.pdf")
        .get_attribute("href")
        .startswith("/api/v1/files/")
    )
    assert page.get_by_label("Release to the provider (USD)").input_value() == "200.00"
    assert page.get_by_label("Refund to the client (USD)").input_value() == "200.00"
    check_page(page, "dispute-page")

    # A split that does not add up is refused on the page, and nothing moves.
    page.get_by_label("Release to the provider (USD)").fill("250")
    page.get_by_label("Refund to the client (USD)").fill("100")
    page.get_by_label("Note to both parties").fill("Most of the tickets were answered.")
    page.get_by_role("button", name="Check the split").click()
    alert = page.locator("#split-errors")
    assert "must add up to 400.00 USD, the amount held" in alert.inner_text()
    check_page(page, "dispute-split-refused")

    page.get_by_label("Refund to the client (USD)").fill("150.00")
    page.get_by_role("button", name="Check the split").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Confirm the split"
    preview = page.locator("table.preview").inner_text()
    for figure in ("250.00 USD", "225.00 USD", "25.00 USD", "150.00 USD", "400.00 USD → 0.00 USD"):
        assert figure in preview, figure
    check_page(page, "dispute-confirm")

    page.get_by_role("button", name=re.compile("^Resolve: release 250.00 USD")).click()
    assert "The dispute is resolved" in page.get_by_role("status").inner_text()
    assert page.url.endswith("#ledger")
    marked = page.locator("table.ledger tr.txn-marked")
    assert marked.count() == 4
    assert [row.locator("td.num").inner_text() for row in marked.all()] == [
        f"{MINUS}400.00 USD",
        "+225.00 USD",
        "+25.00 USD",
        "+150.00 USD",
    ]
    check_page(page, "dispute-resolved")

    dispute = db.session.get(Dispute, ids["dispute"])
    assert dispute is not None and dispute.status == DisputeStatus.RESOLVED
    assert (dispute.release_amount, dispute.refund_amount) == (25_000, 15_000)
    milestone = db.session.get(Milestone, ids["milestone"])
    assert milestone is not None and milestone.status == MilestoneStatus.RESOLVED
    assert ledger.balance(ledger.escrow(ids["contract"], "usd")) == 0
    assert ledger.balance(ledger.revenue("usd")) == 2_500
    resolution = db.session.scalar(
        sa.select(LedgerTransaction).where(
            LedgerTransaction.contract_id == ids["contract"],
            LedgerTransaction.kind == TransactionKind.RESOLUTION,
        )
    )
    assert resolution is not None
    assert sorted((e.account.code.split(":")[0], e.amount) for e in resolution.entries) == [
        ("escrow", -40_000),
        ("payable", 15_000),
        ("payable", 22_500),
        ("revenue", 2_500),
    ]
    # Whatever the transfer and the refund have done meanwhile, each party's payable holds
    # no more than its share, and the money adds up.
    owed_provider = ledger.balance(ledger.provider_payable(ids["provider_profile"], "usd"))
    owed_client = ledger.balance(ledger.client_payable(ids["client_profile"], "usd"))
    assert owed_provider in (0, 22_500) and owed_client in (0, 15_000)
    db.session.commit()
