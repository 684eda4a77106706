"""Dispute evidence: either party adds statements and files to an open dispute until its
deadline (DISPUTE_EVIDENCE_DAYS after the opening); both parties and admins read the
dispute with all of it; nobody else learns it exists."""

from __future__ import annotations

import io
import uuid
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
import time_machine

from marketplace.extensions import db
from marketplace.files import services as files
from marketplace.files.models import FilePurpose, StoredFile
from marketplace.inputs import Money
from marketplace.notifications.models import Notification
from marketplace.payments import disputes, funding
from marketplace.payments.models import Dispute, DisputeEvidence
from tests.factories import AdminFactory, ClientFactory, ProviderFactory
from tests.money import make_deal
from tests.test_files import fetch

TEXT = "The ticket log shows 212 tickets answered in week one, not 70."


@pytest.fixture
def case() -> dict[str, Any]:
    """A contract whose first milestone (40,000 usd, funded) the client disputed."""
    deal = make_deal((40_000, 60_000))
    milestone_id = deal.milestone_ids[0]
    funding.fund(user=deal.client, milestone_id=milestone_id)
    dispute = disputes.open_dispute(
        user=deal.client, milestone_id=milestone_id, reason="Only a third of the tickets answered."
    )
    return {"deal": deal, "dispute_id": dispute.id, "opened_at": dispute.created_at}


def _upload(user: Any, purpose: FilePurpose = FilePurpose.EVIDENCE) -> StoredFile:
    return files.upload(
        user=user,
        purpose=purpose,
        stream=io.BytesIO(b"ticket,answered\n1,yes\n"),
        filename="log.csv",
    )


def _evidence_rows() -> list[DisputeEvidence]:
    return list(db.session.scalars(sa.select(DisputeEvidence)))


def _notices(user: Any) -> list[str]:
    return list(
        db.session.scalars(
            sa.select(Notification.subject)
            .filter_by(user_id=user.id)
            .where(Notification.subject.startswith("New evidence"))
        )
    )


def test_both_parties_add_evidence_and_both_read_all_of_it(case, login):
    deal = case["deal"]
    client_api, provider_api = login(deal.client), login(deal.provider)
    log = _upload(deal.provider)
    path = f"disputes/{case['dispute_id']}/evidence"

    added = provider_api.post(path, json={"text": f"  {TEXT}  ", "files": [str(log.id)]})

    assert added.status_code == 201, added.get_json()
    body = added.get_json()
    assert (body["side"], body["author_id"], body["author_name"], body["text"]) == (
        "provider",
        str(deal.provider.id),
        deal.provider.name,
        TEXT,
    )
    assert [(f["id"], f["name"]) for f in body["files"]] == [(str(log.id), "log.csv")]
    assert _notices(deal.client) == [
        f"New evidence in a dispute: Part 1 ({deal.contract.task.title})"
    ]
    assert _notices(deal.provider) == []  # the author is not told of their own evidence
    reply = client_api.post(path, json={"text": "The log counts auto-replies as answers."})
    assert reply.status_code == 201, reply.get_json()
    assert len(_notices(deal.provider)) == 1

    admin_api = login(AdminFactory())
    for reader in (client_api, provider_api, admin_api):
        prefix = "admin/" if reader is admin_api else ""
        shown = reader.get(f"{prefix}disputes/{case['dispute_id']}")
        assert shown.status_code == 200, shown.get_json()
        dispute = shown.get_json()
        assert [(e["side"], e["text"]) for e in dispute["evidence"]] == [
            ("provider", TEXT),
            ("client", "The log counts auto-replies as answers."),
        ]
        assert dispute["evidence"][0]["files"][0]["id"] == str(log.id)
        assert dispute["evidence_due_at"] == (case["opened_at"] + timedelta(days=7)).isoformat()
        assert (dispute["status"], dispute["milestone_title"], dispute["amount"]) == (
            "open",
            "Part 1",
            {"amount": 40_000, "currency": "usd"},
        )
        assert dispute["reason"] == "Only a third of the tickets answered."
        # The provider's file is read by everyone who reads the dispute.
        assert fetch(reader, str(log.id))[0] in (200, 302)
    db.session.expire_all()
    stored = _evidence_rows()
    assert sorted((e.side, e.author_id) for e in stored) == [
        ("client", deal.client.id),
        ("provider", deal.provider.id),
    ]
    attached = db.session.get(StoredFile, log.id)
    assert attached.attached_id == next(e.id for e in stored if e.side == "provider")


def test_outsiders_get_the_same_404_as_for_an_unknown_dispute(case, login, api):
    path = f"disputes/{case['dispute_id']}"
    unknown = f"disputes/{uuid.uuid4()}"
    for outsider in (ClientFactory(), ProviderFactory()):
        outsider_api = login(outsider)
        for one, other in (
            (outsider_api.get(path), outsider_api.get(unknown)),
            (
                outsider_api.post(f"{path}/evidence", json={"text": TEXT}),
                outsider_api.post(f"{unknown}/evidence", json={"text": TEXT}),
            ),
        ):
            assert one.status_code == other.status_code == 404
            assert one.get_json() == other.get_json()
    assert api.get(path).status_code == 401
    admin = login(AdminFactory()).post(f"{path}/evidence", json={"text": TEXT})
    assert admin.status_code == 403  # admins settle disputes; they take no side in them
    assert _evidence_rows() == []


@pytest.mark.parametrize(
    "problem", ["blank", "unknown_file", "their_file", "message_file", "attached_file"]
)
def test_a_blank_text_or_a_file_that_is_not_yours_to_attach_is_a_422(case, login, problem):
    deal = case["deal"]
    provider_api = login(deal.provider)
    theirs = _upload(deal.client)
    message_file = _upload(deal.provider, FilePurpose.MESSAGE)
    used = _upload(deal.provider)
    first = provider_api.post(
        f"disputes/{case['dispute_id']}/evidence", json={"text": TEXT, "files": [str(used.id)]}
    )
    assert first.status_code == 201
    kept_rows, kept_notices = len(_evidence_rows()), len(_notices(deal.client))
    body = {
        "blank": {"text": " \n\t "},
        "unknown_file": {"text": TEXT, "files": [str(uuid.uuid4())]},
        "their_file": {"text": TEXT, "files": [str(theirs.id)]},
        "message_file": {"text": TEXT, "files": [str(message_file.id)]},
        "attached_file": {"text": TEXT, "files": [str(used.id)]},  # already attached
    }[problem]

    refused = provider_api.post(f"disputes/{case['dispute_id']}/evidence", json=body)

    assert refused.status_code == 422, refused.get_json()
    assert set(refused.get_json()["error"]["details"]) == {
        "text" if problem == "blank" else "files"
    }
    db.session.expire_all()
    assert (len(_evidence_rows()), len(_notices(deal.client))) == (kept_rows, kept_notices)
    for upload in (theirs, message_file):
        assert db.session.get(StoredFile, upload.id).attached_id is None


def test_evidence_is_taken_until_the_deadline_and_refused_after_it(case, login, app):
    deal = case["deal"]
    path = f"disputes/{case['dispute_id']}/evidence"
    due = case["opened_at"] + timedelta(days=7)
    log = _upload(deal.client)

    with time_machine.travel(due - timedelta(minutes=1), tick=False):
        assert login(deal.client).post(path, json={"text": TEXT}).status_code == 201
    with time_machine.travel(due + timedelta(minutes=1), tick=False):
        late = login(deal.provider).post(path, json={"text": TEXT})
        late_with_file = login(deal.client).post(path, json={"text": TEXT, "files": [str(log.id)]})

    assert (late.status_code, late_with_file.status_code) == (409, 409)
    assert late.get_json()["error"]["details"] == {"evidence_due_at": due.isoformat()}
    db.session.expire_all()
    assert len(_evidence_rows()) == 1
    assert db.session.get(StoredFile, log.id).attached_id is None
    assert _notices(deal.client) == []


def test_the_deadline_follows_the_configuration(case, login, app, monkeypatch):
    monkeypatch.setitem(app.config, "DISPUTE_EVIDENCE_DAYS", 2)
    deal = case["deal"]
    due = case["opened_at"] + timedelta(days=2)

    shown = login(deal.provider).get(f"disputes/{case['dispute_id']}").get_json()

    assert shown["evidence_due_at"] == due.isoformat()
    with time_machine.travel(due + timedelta(seconds=1), tick=False):
        late = login(deal.provider).post(
            f"disputes/{case['dispute_id']}/evidence", json={"text": TEXT}
        )
    assert late.status_code == 409


def test_a_resolved_dispute_takes_no_more_evidence(case, login):
    deal = case["deal"]
    disputes.resolve(
        admin=AdminFactory(),
        dispute_id=case["dispute_id"],
        release_amount=Money(20_000, "usd"),
        refund_amount=Money(20_000, "usd"),
        note="Half each.",
    )
    provider_api = login(deal.provider)

    refused = provider_api.post(f"disputes/{case['dispute_id']}/evidence", json={"text": TEXT})

    assert refused.status_code == 409
    assert refused.get_json()["error"]["message"] == (
        "The dispute is resolved: it takes no more evidence."
    )
    assert _evidence_rows() == []
    shown = provider_api.get(f"disputes/{case['dispute_id']}").get_json()
    assert (shown["status"], shown["evidence"]) == ("resolved", [])
    assert db.session.get(Dispute, case["dispute_id"]).release_amount == 20_000
