"""The console's Disputes page: the open queue, a dispute's case on one page, and its
resolution by a split, checked, confirmed, then made by the service the API uses; a split
that does not add up, a blank note, a non-admin or a form without its token moves nothing."""

from __future__ import annotations

import csv
import io
import re
import urllib.request
from datetime import timedelta

import pytest
import sqlalchemy as sa
import time_machine

from marketplace.audit import AuditEntry
from marketplace.contracts.models import MilestoneStatus
from marketplace.database import utcnow
from marketplace.extensions import db
from marketplace.files import services as files
from marketplace.files.models import FilePurpose
from marketplace.inputs import Money
from marketplace.ledger import services as ledger
from marketplace.ledger.models import LedgerTransaction, TransactionKind
from marketplace.messaging import services as messaging
from marketplace.payments import delivery, disputes, evidence, funding
from marketplace.payments.models import Dispute, DisputeStatus
from tests.console_support import signed_in
from tests.factories import AdminFactory, ClientFactory, ProviderFactory
from tests.money import Deal, make_deal

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"


#: How the console writes a debit (U+2212, not a hyphen).
MINUS = "\u2212"


def text_of(response) -> str:
    html = response.get_data(as_text=True)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).replace("&#39;", "'")


def transactions(contract_id) -> list[str]:
    return list(
        db.session.scalars(
            sa.select(LedgerTransaction.kind)
            .where(LedgerTransaction.contract_id == contract_id)
            .order_by(LedgerTransaction.created_at, LedgerTransaction.id)
        )
    )


def disputed_deal(*, amounts=(40_000, 60_000), reason: str = "Half the work is missing.") -> Deal:
    """A deal whose first milestone is funded, delivered and disputed by the client."""
    deal = make_deal(amounts)
    funding.fund(user=deal.client, milestone_id=deal.milestone_ids[0])
    delivery.submit(
        user=deal.provider, milestone_id=deal.milestone_ids[0], note="Done.", deliverables=[]
    )
    disputes.open_dispute(user=deal.client, milestone_id=deal.milestone_ids[0], reason=reason)
    return deal


def dispute_of(deal: Deal) -> Dispute:
    found = db.session.scalar(sa.select(Dispute).where(Dispute.contract_id == deal.contract_id))
    assert found is not None
    return found


@pytest.fixture
def console(client):
    return signed_in(client, AdminFactory())


def test_the_queue_lists_open_disputes_oldest_first_and_exports_them(console):
    with time_machine.travel(utcnow() - timedelta(days=3), tick=False):
        older = disputed_deal(reason="The older one.")
    newer = disputed_deal(reason="The newer one.")
    done = disputed_deal(reason="Already settled.")
    disputes.resolve(
        admin=AdminFactory(),
        dispute_id=dispute_of(done).id,
        release_amount=Money(40_000, "usd"),
        refund_amount=Money(0, "usd"),
        note="All delivered.",
    )
    page = text_of(console.get("/admin/disputes/"))
    assert "2 open disputes" in page
    assert page.index("The older one.") < page.index("The newer one.")
    assert "Already settled." not in page
    assert "400.00 USD" in page

    export = console.get("/admin/disputes/?format=csv")
    assert export.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(export.get_data(as_text=True))))
    assert rows[0] == [
        "id", "opened_at", "side", "reason", "task", "milestone", "amount", "currency",
        "client", "provider",
    ]  # fmt: skip
    assert [(row[0], row[2], row[3], row[6], row[7]) for row in rows[1:]] == [
        (str(dispute_of(older).id), "client", "The older one.", "400.00", "USD"),
        (str(dispute_of(newer).id), "client", "The newer one.", "400.00", "USD"),
    ]


def test_a_disputes_page_shows_the_whole_case(console, app):
    deal = make_deal((40_000, 60_000))
    milestone_id = deal.milestone_ids[0]
    funding.fund(user=deal.client, milestone_id=milestone_id)
    upload = files.upload(
        user=deal.provider, purpose=FilePurpose.SUBMISSION, stream=io.BytesIO(PDF),
        filename="week-1-report.pdf",
    )  # fmt: skip
    delivery.submit(
        user=deal.provider,
        milestone_id=milestone_id,
        note="The first 300 tickets, answered.",
        deliverables=[
            {
                "name": "Ticket log",
                "size": 2048,
                "content_type": "text/csv",
                "sha256": "a" * 64,
                "url": "https://files.example.com/log.csv",
            },
        ],
        files=[upload.id],
    )
    conversation = messaging.contract_conversation(user=deal.client, contract_id=deal.contract_id)
    for n in range(52):
        messaging.post_message(conversation, user=deal.client, body=f"Message number {n}.")
    dispute = disputes.open_dispute(
        user=deal.client, milestone_id=milestone_id, reason="Half the work is missing."
    )
    evidence.add_evidence(user=deal.client, dispute_id=dispute.id, text="Only 150 were done.")
    evidence.add_evidence(user=deal.provider, dispute_id=dispute.id, text="All 300 are in the log.")

    response = console.get(f"/admin/disputes/{dispute.id}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    page = text_of(response)
    contract = deal.contract
    assert contract.task.title in page
    assert contract.client_profile.display_name in page
    assert contract.provider_profile.display_name in page
    assert f'href="/admin/users/{deal.client.id}"' in html
    assert "version 1 of 1" in page
    assert "Platform fee 10.00 %" in page
    assert "Money held 400.00 USD" in page
    assert "Half the work is missing." in page
    # The delivery, its deliverable (linked) and its file (linked to the download).
    assert "The first 300 tickets, answered." in page
    assert 'href="https://files.example.com/log.csv"' in html
    assert f'href="/api/v1/files/{upload.id}/download"' in html and "week-1-report.pdf" in page
    # Both sides' evidence, and the deadline.
    due = dispute.created_at + timedelta(days=app.config["DISPUTE_EVIDENCE_DAYS"])
    assert f"Evidence due {due:%Y-%m-%d %H:%M} UTC (still open to the parties)" in page
    client_part = page[page.index("From the client") : page.index("From the provider")]
    provider_part = page[page.index("From the provider") : page.index("Messages")]
    assert "Only 150 were done." in client_part
    assert "All 300 are in the log." in provider_part
    # The thread's latest fifty messages, of 52.
    assert "the latest 50 of 52 messages" in page
    assert "Message number 51." in page and "Message number 2." in page
    assert "Message number 1." not in page
    # The ledger: the funding, and the escrow held.
    assert "Escrow held now: 400.00 USD" in page
    assert "+400.00 USD" in page
    # The split form, half and half.
    assert 'name="release" inputmode="decimal" value="200.00"' in html
    assert 'name="refund" inputmode="decimal" value="200.00"' in html
    assert "csrf_token" in html
    # The admin download works with the console's session: streamed from local files, or
    # a redirect to a signed URL in S3 (TEST_FILE_STORAGE=s3).
    download = console.get(f"/api/v1/files/{upload.id}/download")
    if download.status_code == 302:
        with urllib.request.urlopen(download.headers["Location"], timeout=60) as signed:
            assert signed.read() == PDF
    else:
        assert download.status_code == 200 and download.data == PDF


def test_a_split_is_checked_confirmed_then_resolved_and_its_ledger_lines_shown(console):
    deal = disputed_deal()
    dispute = dispute_of(deal)
    form = {"release": "250", "refund": "150.00", "note": "Most of the work was done."}

    confirm = console.post(f"/admin/disputes/{dispute.id}/check", form)
    assert confirm.status_code == 200
    page = text_of(confirm)
    assert "Confirm the split" in page
    assert "Released to the provider" in page and "250.00 USD" in page
    assert "of which the provider is paid" in page and "225.00 USD" in page
    assert "of which the platform fee" in page and "25.00 USD" in page
    assert "Refunded to the client" in page and "150.00 USD" in page
    assert "400.00 USD → 0.00 USD" in page
    # Nothing has moved yet.
    db.session.refresh(dispute)
    assert dispute.status == DisputeStatus.OPEN
    assert transactions(deal.contract_id) == [TransactionKind.FUNDING]
    hidden = dict(re.findall(r'type="hidden" name="(release|refund|note)" value="([^"]*)"',
                             confirm.get_data(as_text=True)))  # fmt: skip
    assert hidden == {"release": "250.00", "refund": "150.00", "note": "Most of the work was done."}

    done = console.post(f"/admin/disputes/{dispute.id}/resolve", hidden)
    assert done.status_code == 302
    assert done.headers["Location"] == f"/admin/disputes/{dispute.id}#ledger"
    db.session.refresh(dispute)
    assert dispute.status == DisputeStatus.RESOLVED
    assert (dispute.release_amount, dispute.refund_amount) == (25_000, 15_000)
    assert deal.milestone(0).status == MilestoneStatus.RESOLVED
    contract = deal.contract
    assert ledger.balance(ledger.escrow(contract.id, "usd")) == 0
    assert ledger.balance(ledger.revenue("usd")) == 2_500
    resolution = db.session.scalar(
        sa.select(LedgerTransaction).where(
            LedgerTransaction.contract_id == contract.id,
            LedgerTransaction.kind == TransactionKind.RESOLUTION,
        )
    )
    assert sorted((e.account.kind.value, e.amount) for e in resolution.entries) == [
        ("client_payable", 15_000),
        ("escrow", -40_000),
        ("provider_payable", 22_500),
        ("revenue", 2_500),
    ]
    [(action, details)] = db.session.execute(
        sa.select(AuditEntry.action, AuditEntry.details).where(AuditEntry.target_id == dispute.id)
    ).all()
    assert action == "dispute.resolve"
    assert (details["release_amount"], details["refund_amount"]) == (25_000, 15_000)

    after = console.get(f"/admin/disputes/{dispute.id}")
    page = text_of(after)
    assert (
        "The dispute is resolved: 250.00 USD released to the provider, 150.00 USD refunded" in page
    )
    assert "Resolved" in page and "Most of the work was done." in page
    assert "Escrow held now: 0.00 USD" in page
    # The transfer and the refund went out through the outbox right after: the payables
    # are paid, the fee stays with the platform.
    assert transactions(deal.contract_id) == [
        TransactionKind.FUNDING,
        TransactionKind.RESOLUTION,
        TransactionKind.PAYOUT,
        TransactionKind.REFUND_PAYOUT,
    ]
    assert ledger.balance(ledger.provider_payable(contract.provider_profile_id, "usd")) == 0
    assert ledger.balance(ledger.client_payable(contract.client_profile_id, "usd")) == 0
    assert MINUS + "225.00 USD" in page and MINUS + "150.00 USD" in page  # paid out of the payables
    assert after.get_data(as_text=True).count("txn-marked") == 4  # the resolution's lines
    for line in (MINUS + "400.00 USD", "+225.00 USD", "+25.00 USD", "+150.00 USD"):
        assert line in page, line
    assert 'name="release"' not in after.get_data(as_text=True)  # no form any more

    again = console.post(f"/admin/disputes/{dispute.id}/resolve", hidden)
    assert again.status_code == 302
    assert 'role="alert"' in console.get(f"/admin/disputes/{dispute.id}").get_data(as_text=True)
    assert transactions(deal.contract_id).count(TransactionKind.RESOLUTION) == 1


@pytest.mark.parametrize("step", ["check", "resolve"])
@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"release": "300", "refund": "150"}, "must add up to 400.00 USD, the amount held"),
        ({"release": "100", "refund": "100"}, "they add up to 200.00 USD"),
        ({"release": "-50", "refund": "450"}, "cannot be negative"),
        ({"release": "200.005", "refund": "199.995"}, "at most 2 decimals"),
        ({"release": "two hundred", "refund": "200"}, "Enter an amount in figures"),
        ({"release": "", "refund": "400"}, "Enter an amount."),
        ({"release": "nan", "refund": "400"}, "Enter an amount in figures"),
        ({"release": "1e999999", "refund": "400"}, "Enter an amount in figures"),
        ({"release": "1" + "0" * 30, "refund": "400"}, "Enter an amount in figures"),
    ],
)
def test_a_split_that_does_not_add_up_is_shown_and_nothing_moves(console, step, form, message):
    deal = disputed_deal()
    dispute = dispute_of(deal)
    response = console.post(f"/admin/disputes/{dispute.id}/{step}", {**form, "note": "Split."})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in text_of(response)
    assert 'role="alert"' in html and 'aria-invalid="true"' in html
    # What was typed is kept in the form.
    assert f'name="release" inputmode="decimal" value="{form["release"]}"' in html
    db.session.refresh(dispute)
    assert dispute.status == DisputeStatus.OPEN
    assert transactions(deal.contract_id) == [TransactionKind.FUNDING]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)) == 1  # sign-in


def test_a_split_in_thousands_with_cents_is_read_exactly(console):
    deal = disputed_deal(amounts=(123_457, 60_000))
    dispute = dispute_of(deal)
    page = console.get(f"/admin/disputes/{dispute.id}").get_data(as_text=True)
    assert 'value="617.29"' in page and 'value="617.28"' in page  # the odd cent to the provider
    form = {"release": "1,000.01", "refund": "234.56", "note": "By the delivered share."}
    console.post(f"/admin/disputes/{dispute.id}/resolve", form)
    db.session.refresh(dispute)
    assert (dispute.release_amount, dispute.refund_amount) == (100_001, 23_456)


def test_a_resolution_without_a_note_is_refused(console):
    deal = disputed_deal()
    dispute = dispute_of(deal)
    response = console.post(
        f"/admin/disputes/{dispute.id}/resolve", {"release": "200", "refund": "200", "note": " "}
    )
    assert response.status_code == 422
    assert "Write the note both parties will read" in text_of(response)
    db.session.refresh(dispute)
    assert dispute.status == DisputeStatus.OPEN


def test_disputes_pages_are_404_for_parties(client, login):
    deal = disputed_deal()
    dispute = dispute_of(deal)
    for user in (deal.client, ProviderFactory(), ClientFactory()):
        party = login(user)
        for path in ("/admin/disputes/", f"/admin/disputes/{dispute.id}"):
            response = party.client.get(path)
            assert response.status_code == 404 and response.is_json, path
        form = {"release": "400", "refund": "0", "note": "Mine."}
        for step in ("check", "resolve"):
            refused = party.post(f"/admin/disputes/{dispute.id}/{step}", data=form)
            assert refused.status_code == 404
    assert client.get(f"/admin/disputes/{dispute.id}").status_code == 302  # anonymous
    db.session.refresh(dispute)
    assert dispute.status == DisputeStatus.OPEN


def test_a_resolution_without_its_csrf_token_is_refused(console):
    deal = disputed_deal()
    dispute = dispute_of(deal)
    form = {"release": "200", "refund": "200", "note": "Even split."}
    response = console.post(f"/admin/disputes/{dispute.id}/resolve", form, csrf=False)
    assert response.status_code == 400
    assert "The form has expired" in response.get_data(as_text=True)
    db.session.refresh(dispute)
    assert dispute.status == DisputeStatus.OPEN
    assert transactions(deal.contract_id) == [TransactionKind.FUNDING]


def test_an_unknown_dispute_is_a_404_page(console):
    response = console.get("/admin/disputes/00000000-0000-4000-8000-000000000000")
    assert response.status_code == 404 and response.mimetype == "text/html"


def test_the_demo_has_a_dispute_in_the_queue(app, client):
    """`make run` shows the console's queue with something in it: the demo's dispute, with
    a delivery, a thread and evidence from both sides, its deadline still ahead."""
    from marketplace.demo import data as demo

    result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    console = signed_in(client, AdminFactory())
    queue = text_of(console.get("/admin/disputes/"))
    assert "1 open dispute" in queue and demo.DISPUTE_TASK in queue
    dispute = db.session.scalar(sa.select(Dispute).where(Dispute.status == DisputeStatus.OPEN))
    page = text_of(console.get(f"/admin/disputes/{dispute.id}"))
    assert "Money held 360.00 USD" in page
    assert "northbank-contacts-clean.csv" in page
    assert "still open to the parties" in page
    assert "A sample of 200 rows" in page and "We agreed in the thread" in page
    assert "4 messages" in page
    assert 'value="180.00"' in console.get(f"/admin/disputes/{dispute.id}").get_data(as_text=True)
