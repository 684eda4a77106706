"""E-mails people can read: every kind rendered, money and times for the recipient,
preferences, and the SMTP message with both parts."""

from __future__ import annotations

import re
import smtplib
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
import time_machine

from marketplace.extensions import db
from marketplace.inputs import Money
from marketplace.jobs import emails, outbox
from marketplace.jobs.mail import Mail, SMTPBackend
from marketplace.jobs.models import OutboxEntry
from marketplace.notifications import services as notifications
from marketplace.notifications.models import Notification
from tests import factories
from tests.money import make_deal, money_post

FRONTEND = "http://localhost:3000"
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)
#: A known amount whose raw minor units must never show: 2,345,678 cents is $23,456.78.
AMOUNT = Money(2345678, "usd")
WHEN = datetime(2026, 3, 20, 14, 30, tzinfo=UTC)
MONEY = re.compile(r"\$\d{1,3}(,\d{3})*\.\d{2}")
TEMPLATES = Path(emails.__file__).parent.parent / "templates" / "email"


@dataclass(frozen=True)
class Reader:
    email: str = "ana@example.com"
    name: str | None = "Ana Reyes"
    timezone: str = "Asia/Manila"


#: Realistic values for each e-mail (what its callers pass), keyed like emails.EMAILS.
TASK = {"task_title": "Inbox triage for a dental clinic"}
MILESTONE = {**TASK, "milestone_title": "First week of triage", "amount": AMOUNT}
INVOICE = {**TASK, "week": "30 Nov 2026", "amount": AMOUNT}
SAMPLES: dict[str, dict[str, Any]] = {
    "account.welcome": {"role": "client"},
    "account.signup_attempt": {},
    "account.verify_email": {"expires_at": WHEN},
    "account.password_reset": {"expires_at": WHEN},
    "account.password_changed": {},
    "account.suspended": {"reason": "Asked providers to pay outside the platform."},
    "account.two_factor_enabled": {"when": WHEN},
    "account.two_factor_disabled": {"when": WHEN},
    "organization.invitation": {
        "inviter": "Ben Cruz",
        "organization": "Northwind Support",
        "role": "agent",
        "expires_at": WHEN,
    },
    "task.approved": TASK,
    "task.rejected": {**TASK, "reason": "Asks for payment outside the platform."},
    "task.expired": {**TASK, "expired_at": WHEN},
    "task.cancelled": {**TASK, "reason": "Asks for payment outside the platform."},
    "report.resolved": {"target": "a task"},
    "report.dismissed": {"target": "a message"},
    "task.terms_changed": {**TASK, "terms_version": 2},
    "task_invitation": {**TASK, "summary": "Sort 200 e-mails a day & flag urgent ones <fast>."},
    "bid.new": {**TASK, "bidder": "Maria Santos", "price": {"amount": 2345678, "currency": "usd"}},
    "bid.shortlisted": TASK,
    "bid.declined": {**TASK, "reason": "We chose a local team."},
    "bid.expired": {**TASK, "reason": "the task was cancelled"},
    "contract.offered": {**TASK, "offer_expires_at": WHEN},
    "contract.full_offer": {**TASK, "offer_expires_at": WHEN},
    "contract.accepted": TASK,
    "contract.declined": {**TASK, "reason": "Fully booked this month."},
    "contract.expired": TASK,
    "contract.withdrawn": {**TASK, "reason": "the task was cancelled"},
    "contract.terminated": {**TASK, "side": "client", "reason": "The clinic closed."},
    "contract.paused": {**TASK, "reason": "Holidays"},
    "contract.resumed": TASK,
    "amendment.proposed": {**TASK, "side": "client", "note": "One more hour", "expires_at": WHEN},
    "amendment.accepted": {**TASK, "version": 3},
    "amendment.declined": {**TASK, "side": "provider", "reason": "Ninety is too much"},
    "amendment.withdrawn": {**TASK, "side": "client", "reason": None},
    "amendment.lapsed": TASK,
    "message.new": {
        "conversation": "Inbox triage for a dental clinic",
        "sender": "Ben Cruz",
        "excerpt": "Can you start Monday?\nI sent the notes < 5 minutes ago & more.",
    },
    "review.published": {**TASK, "count": 2},
    "work_report.filed": {
        **TASK,
        "period_start": "2026-03-02",
        "period_end": "2026-03-08",
        "answer_due": WHEN,
    },
    "work_report.confirmed": {**TASK, "period_start": "2026-03-02", "period_end": "2026-03-08"},
    "work_report.contested": {
        **TASK,
        "period_start": "2026-03-02",
        "period_end": "2026-03-08",
        "reason": "We counted 180 tickets <not 210> & no escalations.",
    },
    "change.announced": {
        **TASK,
        "change_title": "New refund policy",
        "to_adopt": "Refunds up to $50 without asking us.",
    },
    "change.acknowledged": {**TASK, "change_title": "New refund policy"},
    "change.adopted": {**TASK, "change_title": "New refund policy", "adoption_minutes": 120},
    "sla.at_risk": {
        **TASK,
        "metric": "First response",
        "about": "a message from the client",
        "stop": "a reply from the provider side",
        "target": "4 h",
        "taken": "3 h",
        "started_at": WHEN - timedelta(hours=3),
        "at": WHEN,
        "breaches_at": WHEN + timedelta(hours=1),
    },
    "sla.breached": {
        **TASK,
        "metric": "Turnaround",
        "about": "the milestone “First week of triage”",
        "stop": "the milestone's submission",
        "target": "8 h",
        "taken": "8 h",
        "started_at": WHEN - timedelta(hours=8),
        "at": WHEN,
        "breaches_at": None,
    },
    "sla.recovered": {
        **TASK,
        "metric": "Learning speed",
        "about": "the change “New refund policy”",
        "stop": "confirmation that the change is adopted",
        "target": "16 h",
        "taken": "17 h 30 min",
        "started_at": WHEN - timedelta(days=2),
        "at": WHEN,
        "breaches_at": None,
    },
    "milestone.funded": MILESTONE,
    "milestone.submitted": {**MILESTONE, "auto_release_at": WHEN, "note": "All sorted."},
    "milestone.approved": MILESTONE,
    "milestone.auto_released": MILESTONE,
    "milestone.changes_requested": {**MILESTONE, "reason": "Flag the billing mails too."},
    "milestone.refund_requested": {**MILESTONE, "reason": "Not started", "answer_by": WHEN},
    "milestone.refunded": {**MILESTONE, "reason": "refund approved by the provider"},
    "milestone.disputed": {**MILESTONE, "side": "client", "reason": "Half the work is missing"},
    "dispute.evidence": {**MILESTONE, "side": "provider", "evidence_due_at": WHEN},
    "milestone.frozen": {**MILESTONE, "reason": "Card chargeback at the bank (fraudulent)."},
    "milestone.resolved": {
        **MILESTONE,
        "released": Money(1000000, "usd"),
        "refunded": Money(1345678, "usd"),
        "note": "Split by the work delivered.",
    },
    "milestone.escrow_aging": {**MILESTONE, "funded_at": WHEN, "review_days": 75},
    "payment.refunded": {**MILESTONE, "payment": AMOUNT},
    "payment.failed": {**MILESTONE, "reason": "Your card was declined."},
    "invoice.issued": {
        **INVOICE,
        "hours": "38 h 30 min",
        "rate": Money(3500, "usd"),
        "over_limit": "2 h 15 min",
        "review_ends_at": WHEN,
    },
    "invoice.disputed": {
        **INVOICE,
        "disputed": AMOUNT,
        "reason": "Tuesday's hours were not worked.",
    },
    "invoice.paid": {**INVOICE, "available_at": WHEN, "disputed": AMOUNT},
    "invoice.payment_failed": {
        **INVOICE,
        "reason": "Your card was declined.",
        "next_attempt_at": WHEN,
    },
    "contract.weekly_limit": {**TASK, "hours": 30, "from_week": "7 Dec 2026", "raised": False},
    "bonus.paid": {**TASK, "amount": AMOUNT, "client": "Acme Dental", "reason": "Overtime in May."},
    "payment.chargeback": {
        **MILESTONE,
        "disputed": AMOUNT,
        "reference": "dp_1QfA2b",
        "status": "funded",
    },
    "payment.transfer_reversed": {**MILESTONE, "reversed": AMOUNT, "reference": "tr_1QfA2c"},
}

IDS = {
    "task_id": uuid.uuid4(),
    "bid_id": uuid.uuid4(),
    "contract_id": uuid.uuid4(),
    "milestone_id": uuid.uuid4(),
    "thread_id": uuid.uuid4(),
    "invitation_id": uuid.uuid4(),
    "invoice_id": uuid.uuid4(),
    "token": "Zx9-invitation-token",
}


@pytest.mark.parametrize("name", sorted(emails.EMAILS))
def test_every_e_mail_renders_both_parts_for_people(app, name):
    """Each e-mail of the registry (a new one cannot be forgotten: it fails here until it
    has both templates and sample values) reads as prose: no raw ids, minor units, API
    paths, JSON or unrendered template outside its one link to the frontend."""
    assert emails.EMAILS[name].kind in emails.KINDS
    with app.test_request_context():
        mail = emails.render(name, to=Reader(), context=SAMPLES[name], ids=IDS)
        path = emails.link_path(name, IDS)
    link = f"{FRONTEND}{path}" if path else None
    assert mail.subject and "\n" not in mail.subject
    for part in (mail.body, mail.html):
        if link:
            assert link in part, "the e-mail links to its frontend page"
        # The link to the page is the only place an id may appear.
        text = part.replace(link, "") if link else part
        assert not UUID.search(text)
        assert "2345678" not in text and "minor units" not in text
        assert "/api/" not in text and '{"' not in text
        assert "{{" not in text and "{%" not in text
        assert "Ana Reyes" in part
        assert f"{FRONTEND}/settings/notifications" in part or not emails.can_turn_off(
            emails.EMAILS[name].kind
        )
    if "|money" in _template(name):  # amounts read as money, in dollars and cents
        assert MONEY.search(mail.body) and MONEY.search(mail.html)
    if "|when" in _template(name):  # times in the reader's zone (Manila: 10:30 PM)
        assert "Fri, Mar 20, 2026 10:30 PM PST" in mail.body
    assert mail.html.lstrip().startswith("<!DOCTYPE html>")


def _template(name: str) -> str:
    return (TEMPLATES / f"{name}.txt").read_text()


def test_the_registry_and_the_templates_match(app):
    """No template without an e-mail in the registry, no kind without an e-mail."""
    names = {p.stem for p in TEMPLATES.glob("*.txt")} - {"base"}
    assert names == set(emails.EMAILS) == {p.stem for p in TEMPLATES.glob("*.html")} - {"base"}
    assert {e.kind for e in emails.EMAILS.values()} == set(emails.KINDS)
    assert set(SAMPLES) == set(emails.EMAILS)


def test_html_part_escapes_what_people_typed(app):
    with app.test_request_context():
        mail = emails.render(
            "task_invitation", to=Reader(), context=SAMPLES["task_invitation"], ids=IDS
        )
    assert "&amp; flag urgent ones &lt;fast&gt;." in mail.html
    assert "& flag urgent ones <fast>." in mail.body


@pytest.mark.parametrize(
    ("amount", "currency", "shown"),
    [
        (210000, "usd", "$2,100.00"),
        (210000, "eur", "€2,100.00"),
        (210000, "jpy", "¥210,000"),  # no minor unit: the amount is whole yen
        (5, "usd", "$0.05"),
        (123456, "php", "₱1,234.56"),
    ],
)
def test_money_is_formatted_for_the_reader(amount, currency, shown):
    assert emails.format_money(Money(amount, currency)) == shown
    assert emails.format_money({"amount": amount, "currency": currency}) == shown


def test_a_time_is_shown_in_the_recipients_zone_across_daylight_saving(app):
    """New York moves to daylight time on 8 March 2026: the same UTC hour reads an hour
    later afterwards, with the zone's abbreviation; a zone without one shows its offset."""
    before = datetime(2026, 3, 7, 15, 0, tzinfo=UTC)
    after = datetime(2026, 3, 9, 15, 0, tzinfo=UTC)
    ny = Reader(timezone="America/New_York")
    assert emails.format_when(before, timezone=ny.timezone) == "Sat, Mar 7, 2026 10:00 AM EST"
    assert emails.format_when(after, timezone=ny.timezone) == "Mon, Mar 9, 2026 11:00 AM EDT"
    assert emails.format_when(after, timezone="Asia/Dubai") == "Mon, Mar 9, 2026 7:00 PM GMT+04:00"
    # And in an e-mail, submitted just before the change and released just after it.
    with time_machine.travel(datetime(2026, 2, 27, 15, 0, tzinfo=UTC), tick=False):
        release = datetime.now(UTC) + timedelta(days=10)
    context = {**SAMPLES["milestone.submitted"], "auto_release_at": release}
    with app.test_request_context():
        mail = emails.render("milestone.submitted", to=ny, context=context, ids=IDS)
    assert "released on Mon, Mar 9, 2026 11:00 AM EDT" in mail.body
    assert "released on Mon, Mar 9, 2026 11:00 AM EDT" in mail.html


def _people(n: int) -> list[Any]:
    return [factories.UserFactory() for _ in range(n)]


def test_an_opted_out_kind_is_not_e_mailed_but_still_notified(app, sent_mail):
    quiet, loud = _people(2)
    quiet.email_opt_out = ["bid.declined"]
    db.session.commit()
    notifications.tell(
        [quiet, loud],
        email="bid.declined",
        context=SAMPLES["bid.declined"],
        task_id=IDS["task_id"],
        bid_id=IDS["bid_id"],
    )
    db.session.commit()
    outbox.deliver_due()
    assert [m.to for m in sent_mail] == [loud.email]
    rows = db.session.scalars(db.select(Notification).where(Notification.kind == "bid.declined"))
    assert {n.user_id for n in rows} == {quiet.id, loud.id}


def test_money_e_mails_are_sent_whatever_the_preferences(app, sent_mail):
    (user,) = _people(1)
    user.email_opt_out = ["milestone.refunded", "bid.declined"]
    db.session.commit()
    notifications.tell(
        [user],
        email="milestone.refunded",
        context=SAMPLES["milestone.refunded"],
        contract_id=IDS["contract_id"],
        milestone_id=IDS["milestone_id"],
    )
    db.session.commit()
    outbox.deliver_due()
    assert [(m.to, m.subject) for m in sent_mail] == [
        (user.email, "Milestone refunded: First week of triage (Inbox triage for a dental clinic)")
    ]
    assert "$23,456.78" in sent_mail[0].body and "$23,456.78" in sent_mail[0].html


def test_the_queued_e_mail_keeps_both_parts(app):
    (user,) = _people(1)
    notifications.tell([user], email="contract.resumed", context=TASK, **_contract_ids())
    db.session.commit()
    entry = db.session.scalars(db.select(OutboxEntry)).one()
    assert set(entry.payload) == {"to", "subject", "body", "html"}
    assert entry.payload["html"].lstrip().startswith("<!DOCTYPE html>")


def _contract_ids() -> dict[str, Any]:
    return {"contract_id": IDS["contract_id"], "task_id": IDS["task_id"]}


def test_smtp_backend_sends_text_and_html_as_alternatives(app):
    sent: list[EmailMessage] = []
    smtp = mock.MagicMock()
    smtp.__enter__.return_value = smtp
    smtp.send_message.side_effect = sent.append
    app.config.update(SMTP_HOST="smtp.example.com", SMTP_PORT=587, SMTP_STARTTLS=True)
    app.config.update(SMTP_USERNAME="mailer", SMTP_PASSWORD="secret", MAIL_FROM="m@example.com")
    with app.test_request_context():
        mail = emails.render("milestone.funded", to=Reader(), context=MILESTONE, ids=IDS)
        with mock.patch.object(smtplib, "SMTP", return_value=smtp) as connect:
            SMTPBackend().send(Mail(to="ana@example.com", **vars(mail)))
    connect.assert_called_once_with("smtp.example.com", 587, timeout=30)
    smtp.starttls.assert_called_once_with()
    smtp.login.assert_called_once_with("mailer", "secret")
    (message,) = sent
    assert message["To"] == "ana@example.com" and message["From"] == "m@example.com"
    assert message["Subject"] == mail.subject
    assert message.get_content_type() == "multipart/alternative"
    text, html = message.iter_parts()
    assert text.get_content_type() == "text/plain" and "$23,456.78" in text.get_content()
    assert html.get_content_type() == "text/html" and "$23,456.78" in html.get_content()


def test_a_submitted_milestone_tells_the_client_its_release_in_their_zone(login, sent_mail):
    """Submitted on 26 February (EST), released 14 days later, after New York moved to
    daylight time: the client reads the release at noon EDT, the same UTC hour."""
    with time_machine.travel(datetime(2026, 2, 26, 16, 0, tzinfo=UTC), tick=False):
        deal = make_deal((40_000,))
        assert deal.client.timezone == "America/New_York"
        client_api, provider_api = login(deal.client), login(deal.provider)
        (milestone_id,) = deal.milestone_ids
        assert money_post(client_api, f"milestones/{milestone_id}/fund", json={}).status_code == 200
        response = provider_api.post(
            f"milestones/{milestone_id}/submit", json={"note": "Week one done.", "deliverables": []}
        )
        assert response.status_code == 200, response.get_json()
        outbox.deliver_due()
    (mail,) = [m for m in sent_mail if m.to == deal.client.email and "submitted" in m.subject]
    for part in (mail.body, mail.html):
        assert "released on Thu, Mar 12, 2026 12:00 PM EDT" in part
        assert "($400.00)" in part and "40000" not in part
    funded = [m for m in sent_mail if m.subject.startswith("Milestone funded")]
    assert {m.to for m in funded} == {deal.client.email, deal.provider.email}
