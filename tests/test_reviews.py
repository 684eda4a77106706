"""Double-blind reviews (issue 17, item 6): after a contract ends each side reviews the
other once within the window; a review is hidden from the other side until both have
reviewed (both publish at once) or the window passes (published at its close, by reads at
once and by the job for good, telling both sides once)."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import Result
from flask import Flask

from marketplace.contracts.models import Contract, ContractStatus
from marketplace.database import utcnow
from marketplace.extensions import db
from marketplace.flows import contracts as contract_flows
from marketplace.jobs import outbox
from marketplace.notifications.models import Notification
from marketplace.payments import delivery, funding
from marketplace.record import reviews
from marketplace.record.models import Review
from tests.factories import AdminFactory, ClientFactory, ProviderFactory, make_company, make_firm
from tests.money import make_deal

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
WINDOW = timedelta(days=14)

OF_PROVIDER = {"quality": 5, "communication": 4, "timeliness": 4, "expertise": 5}
OF_CLIENT = {"clarity": 4, "responsiveness": 5, "payment_promptness": 3}


def by_client(rating: int = 5, **extra: Any) -> dict[str, Any]:
    return {"rating": rating, "sub_ratings": OF_PROVIDER, "text": "Fast and careful.", **extra}


def by_provider(rating: int = 4, **extra: Any) -> dict[str, Any]:
    return {"rating": rating, "sub_ratings": OF_CLIENT, "text": "Clear briefs.", **extra}


class Parties:
    """A company (owner, manager, agent) and a firm (owner, agent) with contracts between them."""

    def __init__(self, bearer: Any) -> None:
        self.company = make_company(owner=True, manager=True, agent=True, name="Acme Stores")
        self.firm = make_firm(owner=True, agent=True, name="Manila Bay Support")
        self.client, self.provider = self.company.owner, self.firm.owner
        self.apis = {
            "client": bearer(self.client),
            "client manager": bearer(self.company.manager),
            "client agent": bearer(self.company.agent),
            "provider": bearer(self.provider),
            "provider agent": bearer(self.firm.agent),
            "outsider": bearer(ProviderFactory()),
            "outsider client": bearer(ClientFactory()),
            "admin": bearer(AdminFactory()),
        }

    def contract(self, *, end: str | None = "terminate") -> Contract:
        """An active contract between them, then ended (`terminate`, `complete`) or not."""
        deal = make_deal((20_000,), client=self.client, provider=self.provider)
        if end == "terminate":
            contract_flows.terminate(user=self.client, contract_id=deal.contract_id, reason="Done.")
        elif end == "complete":
            milestone_id = deal.milestone_ids[0]
            funding.fund(user=self.client, milestone_id=milestone_id)
            delivery.submit(
                user=self.provider, milestone_id=milestone_id, note="Done.", deliverables=[]
            )
            delivery.approve(user=self.client, milestone_id=milestone_id)
        contract = deal.contract
        assert end is None or contract.ended_at is not None
        return contract

    def review(self, who: str, contract: Contract, body: dict[str, Any]) -> Any:
        return self.apis[who].post(f"/api/v1/contracts/{contract.id}/reviews", json=body)

    def shown(self, who: str, contract: Contract) -> list[dict[str, Any]]:
        response = self.apis[who].get(f"/api/v1/contracts/{contract.id}/reviews")
        assert response.status_code == 200, response.get_json()
        items: list[dict[str, Any]] = response.get_json()["items"]
        return items

    def provider_page(self, **query: Any) -> dict[str, Any]:
        response = self.apis["outsider"].get(
            f"/api/v1/providers/{self.firm.profile.id}/reviews", query_string=query
        )
        assert response.status_code == 200, response.get_json()
        page: dict[str, Any] = response.get_json()
        return page


@pytest.fixture
def p(bearer: Any, time_machine: Any) -> Parties:
    time_machine.move_to(T0, tick=False)
    return Parties(bearer)


def published_mails(sent_mail: list[Any], *users: Any) -> int:
    to = {u.email for u in users}
    return sum("Reviews published" in m.subject and m.to in to for m in sent_mail)


def published_notices(*users: Any) -> int:
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Notification)
        .where(
            Notification.kind == "review.published",
            Notification.user_id.in_([u.id for u in users]),
        )
    )


def stored() -> list[Review]:
    return list(db.session.scalars(sa.select(Review).order_by(Review.created_at)))


def run_job(app: Flask) -> Result:
    result = app.test_cli_runner().invoke(args=["publish-reviews"])
    assert result.exit_code == 0, result.output
    return result


# --- double-blind -----------------------------------------------------------------------


def test_a_review_is_hidden_until_the_other_side_reviews_then_both_publish_at_once(
    p: Parties, time_machine: Any, sent_mail: list[Any]
) -> None:
    contract = p.contract()
    time_machine.shift(timedelta(days=2))
    first = p.review("client", contract, by_client())
    assert first.status_code == 201, first.get_json()
    assert first.get_json()["published"] is False and first.get_json()["published_at"] is None
    assert first.get_json()["sub_ratings"] == OF_PROVIDER

    # The writer's side sees it, hidden; the other side, admins and the public do not.
    assert [(r["side"], r["published"]) for r in p.shown("client", contract)] == [("client", False)]
    assert [r["side"] for r in p.shown("client agent", contract)] == ["client"]
    assert p.shown("provider", contract) == []
    assert p.shown("provider agent", contract) == []
    assert p.shown("admin", contract) == []
    assert p.provider_page()["items"] == []
    assert p.provider_page()["summary"] == {"average_rating": None, "count": 0}
    assert reviews.published_of_provider(p.firm.profile.id) == (None, 0)
    assert published_notices(p.client, p.provider) == 0

    time_machine.shift(timedelta(days=3, hours=4))
    second_at = utcnow()
    second = p.review("provider", contract, by_provider())
    assert second.status_code == 201, second.get_json()
    assert second.get_json()["published"] is True

    stamp = second_at.isoformat()
    for who in ("client", "provider", "client agent", "provider agent", "admin"):
        shown = p.shown(who, contract)
        assert [(r["side"], r["published"], r["published_at"]) for r in shown] == [
            ("client", True, stamp),
            ("provider", True, stamp),
        ], who
    assert {r.published_at for r in stored()} == {second_at}
    assert p.provider_page()["summary"] == {"average_rating": 5.0, "count": 1}
    # Both sides' people are told once, in-app and by e-mail.
    assert published_notices(p.client) == 1 and published_notices(p.provider) == 1
    assert published_mails(sent_mail, p.client) == 1
    assert published_mails(sent_mail, p.provider) == 1

    # Published reviews cannot change: a second one is refused, there is no edit endpoint.
    again = p.review("client", contract, by_client(rating=1))
    assert again.status_code == 409
    assert [r.rating for r in stored()] == [5, 4]
    assert p.apis["client"].put(f"/api/v1/contracts/{contract.id}/reviews").status_code == 405


def test_one_side_alone_is_published_at_the_windows_close_by_reads_and_then_the_job(
    app: Flask, p: Parties, time_machine: Any, sent_mail: list[Any]
) -> None:
    contract = p.contract(end="complete")
    assert contract.status == ContractStatus.COMPLETED
    closes = contract.ended_at + WINDOW
    time_machine.shift(timedelta(days=1))
    assert p.review("client", contract, by_client(rating=3)).status_code == 201

    time_machine.move_to(closes - timedelta(seconds=1), tick=False)
    assert p.shown("provider", contract) == []
    assert p.provider_page()["total"] == 0
    run_job(app)
    assert stored()[0].published_at is None

    # At the close every read counts it published, before the job has run.
    time_machine.move_to(closes, tick=False)
    assert [(r["published"], r["published_at"]) for r in p.shown("provider", contract)] == [
        (True, closes.isoformat())
    ]
    page = p.provider_page()
    assert [i["published_at"] for i in page["items"]] == [closes.isoformat()]
    assert page["summary"] == {"average_rating": 3.0, "count": 1}
    assert reviews.published_of_provider(p.firm.profile.id) == (3.0, 1)
    assert stored()[0].published_at is None
    assert published_notices(p.client, p.provider) == 0
    # The window has closed for the other side.
    late = p.review("provider", contract, by_provider())
    assert late.status_code == 409 and late.get_json()["error"]["code"] == "review_window_closed"

    time_machine.shift(timedelta(hours=3))
    assert "of 1 contracts" in run_job(app).output
    assert stored()[0].published_at == closes
    outbox.deliver_due()
    assert published_notices(p.client) == 1 and published_notices(p.provider) == 1
    assert published_mails(sent_mail, p.client, p.provider) == 2
    assert published_mails(sent_mail, p.company.manager) == 1  # who else signs for the client

    # The job is idempotent: a second run publishes nothing and tells no one again.
    assert "of 0 contracts" in run_job(app).output
    outbox.deliver_due()
    assert published_notices(p.client, p.provider) == 2
    assert published_mails(sent_mail, p.client, p.provider, p.company.manager) == 3
    assert stored()[0].published_at == closes


def test_the_job_leaves_both_published_and_running_windows_alone(
    app: Flask, p: Parties, time_machine: Any
) -> None:
    both, open_window = p.contract(), p.contract()
    p.review("client", both, by_client())
    p.review("provider", both, by_provider())
    p.review("provider", open_window, by_provider())
    time_machine.shift(timedelta(days=13))
    assert reviews.publish_lapsed() == 0
    time_machine.shift(timedelta(days=30))
    assert reviews.publish_lapsed() == 1  # only the lone review; the pair was published
    assert reviews.publish_lapsed() == 0
    assert published_notices(p.client, p.provider) == 4  # each contract told both once


# --- what is refused --------------------------------------------------------------------


def test_a_review_after_the_window_is_refused_and_stores_nothing(
    p: Parties, time_machine: Any
) -> None:
    contract = p.contract()
    time_machine.shift(WINDOW - timedelta(minutes=1))
    assert p.review("provider", contract, by_provider()).status_code == 201
    time_machine.shift(timedelta(minutes=1))
    late = p.review("client", contract, by_client())
    assert late.status_code == 409
    assert late.get_json()["error"]["code"] == "review_window_closed"
    assert [r.side for r in stored()] == ["provider"]


def test_each_side_reviews_once_whoever_of_it_writes(p: Parties) -> None:
    contract = p.contract()
    assert p.review("client", contract, by_client()).status_code == 201
    again = p.review("client manager", contract, by_client(rating=1))
    assert again.status_code == 409
    assert "already reviewed" in again.get_json()["error"]["message"]
    assert [(r.side, r.rating) for r in stored()] == [("client", 5)]


def test_a_concurrent_second_review_of_one_side_is_a_409_not_a_500(
    p: Parties, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where no lock orders two requests of one side, both pass the check and the unique
    constraint keeps one: the loser gets a 409."""
    contract = p.contract()
    assert p.review("client", contract, by_client()).status_code == 201
    monkeypatch.setattr(reviews, "_review_of", lambda *args: None)
    raced = p.review("client", contract, by_client(rating=2))
    assert raced.status_code == 409, raced.get_json()
    assert [r.rating for r in stored()] == [5]


@pytest.mark.parametrize("state", ["offered", "declined", "expired"])
def test_a_contract_that_never_started_cannot_be_reviewed(p: Parties, state: str) -> None:
    contract = p.contract(end=None)
    contract.status, contract.ended_at = ContractStatus(state), None
    db.session.commit()
    refused = p.review("client", contract, by_client())
    assert refused.status_code == 409
    assert "never started" in refused.get_json()["error"]["message"]
    assert stored() == []


@pytest.mark.parametrize("paused", [False, True])
def test_a_running_contract_must_end_first(p: Parties, paused: bool) -> None:
    contract = p.contract(end=None)
    if paused:
        contract.status = ContractStatus.PAUSED
        db.session.commit()
    refused = p.review("provider", contract, by_provider())
    assert refused.status_code == 409
    assert "must end" in refused.get_json()["error"]["message"]
    assert stored() == []


@pytest.mark.parametrize(
    ("who", "body", "field"),
    [
        # the other side's sub-ratings, one missing, an unknown one, one out of range
        ("client", by_client(sub_ratings=OF_CLIENT), "sub_ratings"),
        ("provider", by_provider(sub_ratings=OF_PROVIDER), "sub_ratings"),
        ("client", by_client(sub_ratings={**OF_PROVIDER, "expertise": None}), "sub_ratings"),
        ("client", by_client(sub_ratings={"quality": 5, "communication": 4}), "sub_ratings"),
        ("client", by_client(sub_ratings={**OF_PROVIDER, "vibes": 5}), "sub_ratings"),
        ("provider", by_provider(sub_ratings={**OF_CLIENT, "clarity": 6}), "sub_ratings"),
        ("provider", by_provider(sub_ratings={**OF_CLIENT, "clarity": True}), "sub_ratings"),
        ("client", by_client(rating=0), "rating"),
        ("client", by_client(rating=4.5), "rating"),
        ("client", by_client(rating="5"), "rating"),
        ("client", {"sub_ratings": OF_PROVIDER, "text": "No rating."}, "rating"),
        ("client", by_client(text="   "), "text"),
        ("client", by_client(text="x" * 5_001), "text"),
        ("client", {"rating": 5, "sub_ratings": OF_PROVIDER}, "text"),
        ("client", by_client(stars=5), "stars"),
    ],
)
def test_bad_input_is_a_422_and_stores_nothing(
    p: Parties, who: str, body: dict[str, Any], field: str
) -> None:
    contract = p.contract()
    refused = p.review(who, contract, body)
    assert refused.status_code == 422, refused.get_json()
    assert field in refused.get_json()["error"]["details"]
    assert stored() == []
    assert published_notices(p.client, p.provider) == 0


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("outsider", 404),
        ("outsider client", 404),
        ("client agent", 403),
        ("provider agent", 403),
        ("admin", 403),
    ],
)
def test_only_the_parties_signers_review(p: Parties, who: str, status: int) -> None:
    contract = p.contract()
    assert p.review(who, contract, by_client()).status_code == status
    assert p.review(who, contract, by_provider()).status_code == status
    assert stored() == []


def test_outsiders_see_no_contracts_reviews(p: Parties) -> None:
    contract = p.contract()
    p.review("client", contract, by_client())
    p.review("provider", contract, by_provider())
    for who in ("outsider", "outsider client"):
        response = p.apis[who].get(f"/api/v1/contracts/{contract.id}/reviews")
        assert response.status_code == 404
        assert "rating" not in response.get_data(as_text=True)
    unknown = p.apis["client"].get(f"/api/v1/contracts/{uuid.uuid4()}/reviews")
    assert unknown.status_code == 404


# --- the provider's reviews -------------------------------------------------------------


def test_the_providers_list_shows_only_public_client_reviews_newest_first(
    p: Parties, time_machine: Any
) -> None:
    pair, alone, hidden = p.contract(), p.contract(), p.contract()
    time_machine.shift(timedelta(days=1))
    p.review("client", pair, by_client(rating=4))
    time_machine.shift(timedelta(days=1))
    p.review("provider", pair, by_provider(rating=1))  # of the client: never on the list
    pair_at = utcnow()
    p.review("client", alone, by_client(rating=2))
    time_machine.shift(timedelta(days=1))
    fresh = p.contract()  # ended later: its window is still open
    p.review("client", fresh, by_client(rating=5))
    p.review("client", hidden, by_client(rating=1))
    p.review("provider", hidden, by_provider(rating=5))
    hidden_at = utcnow()

    page = p.provider_page()
    # `alone`'s window is open: only the two pairs show, newest first.
    assert [(i["rating"], i["published_at"]) for i in page["items"]] == [
        (1, hidden_at.isoformat()),
        (4, pair_at.isoformat()),
    ]
    assert page["summary"] == {"average_rating": 2.5, "count": 2}
    assert page["total"] == 2
    item = page["items"][1]
    assert item["reviewer_name"] == "Acme Stores"
    assert item["task_title"] == pair.task.title
    assert item["sub_ratings"] == OF_PROVIDER
    assert "side" not in item and "author_id" not in item

    # Once `alone`'s window closes, its lone review is public at the close (no job yet).
    time_machine.move_to(alone.ended_at + WINDOW, tick=False)
    page = p.provider_page()
    assert [i["rating"] for i in page["items"]] == [2, 1, 4]
    assert page["summary"] == {"average_rating": round(7 / 3, 2), "count": 3}
    average, count = reviews.published_of_provider(p.firm.profile.id)
    assert count == 3 and average == pytest.approx(7 / 3)
    # Counted since a moment: only what became public at or after it.
    assert reviews.published_of_provider(p.firm.profile.id, since=hidden_at) == (1.5, 2)
    assert reviews.published_of_provider(p.firm.profile.id, since=utcnow()) == (2.0, 1)
    assert reviews.published_of_provider(
        p.firm.profile.id, since=utcnow() + timedelta(seconds=1)
    ) == (None, 0)
    rows = db.session.execute(reviews.ratings_by_provider()).all()
    assert [(row[0], row[2]) for row in rows] == [(p.firm.profile.id, 3)]

    # Pages of it.
    first = p.provider_page(page_size=2)
    second = p.provider_page(page_size=2, page=2)
    assert [i["rating"] for i in first["items"] + second["items"]] == [2, 1, 4]
    assert first["total"] == second["total"] == 3


def test_the_providers_reviews_are_public_but_not_for_hidden_providers(
    p: Parties, api: Any
) -> None:
    contract = p.contract()
    p.review("client", contract, by_client())
    p.review("provider", contract, by_provider())
    response = api.get(f"/api/v1/providers/{p.firm.profile.id}/reviews")
    assert response.status_code == 200
    assert response.get_json()["summary"]["count"] == 1
    assert api.get(f"/api/v1/providers/{uuid.uuid4()}/reviews").status_code == 404
    bad = api.get(f"/api/v1/providers/{p.firm.profile.id}/reviews?page_size=0")
    assert bad.status_code == 422


# --- concurrency (PostgreSQL: row locks) -------------------------------------------------


def _at_once(calls: list[Any]) -> list[Any]:
    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return [f.result() for f in [pool.submit(call) for call in calls]]


@pytest.mark.postgres
def test_both_sides_at_once_store_one_review_each_and_publish_them_together(
    p: Parties,
) -> None:
    contract = p.contract()
    sides = [("client", by_client()), ("provider", by_provider())] * 4
    statuses = _at_once(
        [
            lambda who=who, body=body: p.review(who, contract, body).status_code
            for who, body in sides
        ]
    )
    assert sorted(statuses) == [201, 201] + [409] * 6
    db.session.expire_all()
    both = stored()
    assert sorted(r.side for r in both) == ["client", "provider"]
    assert both[0].published_at is not None
    assert both[0].published_at == both[1].published_at
    assert published_notices(p.client) == 1 and published_notices(p.provider) == 1


@pytest.mark.postgres
def test_concurrent_job_runs_publish_and_tell_once(
    app: Flask, p: Parties, time_machine: Any
) -> None:
    contracts = [p.contract() for _ in range(3)]
    for contract in contracts:
        p.review("provider", contract, by_provider())
    time_machine.shift(WINDOW)

    def run() -> int:
        with app.app_context():
            return reviews.publish_lapsed()

    assert sum(_at_once([run] * 6)) == 3
    db.session.expire_all()
    assert all(r.published_at == contracts[0].ended_at + WINDOW for r in stored())
    assert published_notices(p.client) == 3 and published_notices(p.provider) == 3
