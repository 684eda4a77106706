"""Demo data for `make run`: clients, VAs and provider firms across time zones."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import click
import sqlalchemy as sa
from flask import Flask, current_app

from marketplace import permissions
from marketplace.accounts import services as accounts
from marketplace.accounts import twofactor
from marketplace.accounts.models import Role, User
from marketplace.bids import services as bid_services
from marketplace.bids.inputs import BidProposal, MilestoneProposal
from marketplace.bids.models import Bid
from marketplace.contracts import pilots as contract_pilots
from marketplace.contracts.inputs import AwardTerms, PilotTerms, SlaTargets
from marketplace.contracts.models import Contract
from marketplace.database import clock_at
from marketplace.demo.data import (
    ADMIN,
    ADMIN_TOTP_SECRET,
    ASSISTANTS,
    CLIENTS,
    DEAL_DELIVERABLES,
    DEAL_MILESTONES,
    DEAL_TASK,
    DISPUTE_MILESTONES,
    DISPUTE_TASK,
    DOMAIN,
    EXTENSION_MILESTONES,
    FIRMS,
    HOURLY_AUDIT,
    HOURLY_LIMIT_HOURS,
    HOURLY_RATE,
    HOURLY_TASK,
    HOURLY_WEEK,
    HOURS_SAVED,
    PASSWORD,
    PILOT_PROVIDER,
    PILOTED_WORKFLOW,
    REPORTS,
    TRIAL_MILESTONES,
    WORK_WEEKS,
    WORKFLOWS,
    dispute_task_draft,
    hourly_task_draft,
    review_drafts,
    task_drafts,
)
from marketplace.errors import DomainError
from marketplace.extensions import db
from marketplace.flows import contracts as contract_flows
from marketplace.flows import parties
from marketplace.hourly import bonuses, invoices
from marketplace.hourly import entries as time_entries
from marketplace.hourly.inputs import NewEntry
from marketplace.hourly.models import Invoice
from marketplace.hours import billing_week
from marketplace.inputs import Money, value_or
from marketplace.jobs import outbox
from marketplace.matching import records as match_records
from marketplace.messaging import services as messaging
from marketplace.moderation import services as moderation
from marketplace.moderation.models import Report
from marketplace.organizations import services as organizations
from marketplace.organizations.models import MemberRole
from marketplace.payments import delivery, disputes, evidence, funding, methods, payouts
from marketplace.profiles import services as profiles
from marketplace.profiles.inputs import ClientProfileChanges, ProviderProfileChanges
from marketplace.record import changes as record_changes
from marketplace.record import events as record_events
from marketplace.record import reports as record_reports
from marketplace.record import reviews
from marketplace.record.reports import ReportFigures
from marketplace.tasks import confidentiality, lifecycle
from marketplace.tasks import services as tasks
from marketplace.tasks import terms as task_terms
from marketplace.tasks.models import Task, TaskStatus
from marketplace.workflows import services as workflows
from marketplace.workflows.inputs import WorkflowChanges
from marketplace.workflows.models import Workflow

Login = tuple[str, str, str]  # e-mail, role, who they are


def seed_demo() -> tuple[int, list[Login]]:
    """Create whatever demo data is missing; return the number of new accounts and all logins."""
    entries = [(e, Role.CLIENT) for e in CLIENTS] + [(e, Role.PROVIDER) for e in ASSISTANTS + FIRMS]
    new, logins = 0, []
    for entry, role in entries:
        people = [(*entry["who"], "owner"), *entry.get("members", [])]
        users = []
        for local, name, about, _ in people:
            user, created = _account(f"{local}@{DOMAIN}", name, role, entry["where"])
            new += created
            users.append(user)
            logins.append((user.email, role.value, about))
        if "organization" in entry:
            _organize(entry, users, [member_role for *_, member_role in people])
        timezone, country = entry["where"]
        profile = replace(entry["profile"], timezone=timezone, country=country)
        _fill_profile(users[0], profile)
    return new, logins


def _account(email: str, name: str, role: Role, where: tuple[str, str]) -> tuple[User, bool]:
    user = accounts.find_user_by_email(email)
    if user is not None:
        return user, False
    timezone, country = where
    # The demo's addresses receive no mail: its people are verified from the start.
    user = parties.sign_up(
        email=email,
        password=PASSWORD,
        name=name,
        role=role,
        timezone=timezone,
        country=country,
        verified=True,
    )
    return user, True


def _organize(entry: dict[str, Any], users: list[User], roles: list[str]) -> None:
    owner = users[0]
    if organizations.membership_of(owner) is None:
        changes = entry["profile"]
        model = None
        if isinstance(changes, ProviderProfileChanges):  # a firm's; a company has none
            model = value_or(changes.service_model, None)
        parties.create_organization(user=owner, name=entry["organization"], service_model=model)
    membership = organizations.membership_of(owner)
    assert membership is not None
    for user, role in zip(users[1:], roles[1:], strict=True):
        if organizations.membership_of(user) is None:
            invitation, token = organizations.invite_member(
                actor=owner,
                organization_id=membership.organization_id,
                email=user.email,
                role=MemberRole(role),
            )
            parties.accept_invitation(user=user, invitation_id=invitation.id, token=token)


def _fill_profile(owner: User, changes: ClientProfileChanges | ProviderProfileChanges) -> None:
    # A profile with no working hours was never filled in; one that has them is left alone.
    if isinstance(changes, ClientProfileChanges):
        if not permissions.acting_client_profile(owner).working_hours:
            profiles.update_client_profile(user=owner, changes=changes)
    elif not permissions.acting_provider_profile(owner).working_hours:
        profiles.update_provider_profile(user=owner, changes=changes)


def seed_admin() -> tuple[User, bool]:
    """The demo moderator (made the way `create-admin` makes admins), with two-factor sign-in
    on with the published ADMIN_TOTP_SECRET, so that a demo user can sign in as them."""
    email = f"{ADMIN[0]}@{DOMAIN}"
    user = accounts.find_user_by_email(email)
    created = user is None
    if user is None:
        user = accounts.create_admin(email=email, password=PASSWORD, name=ADMIN[1])
    if not user.two_factor_enabled:
        twofactor.turn_on(user=user, secret=ADMIN_TOTP_SECRET)
    return user, created


def seed_tasks(admin: User) -> int:
    """Post and publish the demo tasks that are missing; approve those sent to review."""
    created = 0
    for local, draft in task_drafts(date.today()):
        client = accounts.find_user_by_email(f"{local}@{DOMAIN}")
        assert client is not None, f"seed the people before the tasks ({local})"
        profile = permissions.acting_client_profile(client)
        if (
            db.session.scalar(
                sa.select(Task.id).where(
                    Task.client_profile_id == profile.id, Task.title == draft.title
                )
            )
            is not None
        ):
            continue
        task = tasks.create_task(user=client, draft=draft)
        task, _ = lifecycle.publish_task(user=client, task_id=task.id, confirm_strategic=True)
        if task.status == TaskStatus.PENDING_REVIEW:  # demo clients are new: a moderator approves
            lifecycle.approve_task(admin=admin, task_id=task.id)
        created += 1
    return created


def _client_task(local: str, title: str) -> Task | None:
    """The demo client's task of that title, if posted."""
    client = accounts.find_user_by_email(f"{local}@{DOMAIN}")
    assert client is not None, f"seed the people before the tasks ({local})"
    profile = permissions.acting_client_profile(client)
    return db.session.scalar(
        sa.select(Task).where(Task.client_profile_id == profile.id, Task.title == title)
    )


def seed_review_queue() -> int:
    """Post and publish the postings left for a moderator (review_drafts) that are missing;
    the demo clients are new, and the first matches the blocklist, so they wait for review."""
    created = 0
    for local, draft in review_drafts(date.today()):
        if _client_task(local, draft.title) is not None:
            continue
        client = accounts.find_user_by_email(f"{local}@{DOMAIN}")
        assert client is not None
        task = tasks.create_task(user=client, draft=draft)
        lifecycle.publish_task(user=client, task_id=task.id, confirm_strategic=True)
        created += 1
    return created


def seed_reports() -> int:
    """File the demo's reports (REPORTS) that were never filed, open for a moderator."""
    created = 0
    for reporter_local, about, reason in REPORTS:
        reporter = accounts.find_user_by_email(f"{reporter_local}@{DOMAIN}")
        assert reporter is not None, "seed the people and tasks first"
        if about[0] == "task":
            task = _client_task(about[1], about[2])
            assert task is not None, "seed the tasks first"
            target_id = task.id
        else:
            user = accounts.find_user_by_email(f"{about[1]}@{DOMAIN}")
            assert user is not None
            target_id = user.id
        filed = db.session.scalar(
            sa.select(Report.id).where(
                Report.reporter_id == reporter.id,
                Report.target_type == about[0],
                Report.target_id == target_id,
            )
        )
        if filed is None:
            moderation.report(
                reporter=reporter, target_type=about[0], target_id=target_id, reason=reason
            )
            created += 1
    return created


def _history_start() -> datetime:
    """Monday 00:00 UTC five weeks before this week's: the deal's first day."""
    today = datetime.now(UTC).date()
    monday = today - timedelta(days=today.weekday() + 35)
    return datetime.combine(monday, time(), tzinfo=UTC)


def seed_deal() -> bool:
    """Bids on the support-ticket task and five weeks of two contracts on it, dated in the
    past (`clock_at`), so the measured record has something to measure:

    - the Manila firm's contract, running: of its three milestones the set-up is paid
      out, the first month delivered and waiting for the client's review, the second
      funded; messages answered in minutes, and one Friday-evening question answered
      Saturday morning, past the one-hour first-response target (a breach, then its
      recovery); weekly work reports, confirmed, contested and unanswered; a returns-policy
      change acknowledged and adopted the same day;
    - the Bogotá assistant's two-week trial of Spanish tickets, completed and reviewed by
      both sides (so both reviews are published).

    Then the SLA events are evaluated and every provider's record recomputed."""
    client = accounts.find_user_by_email(f"ana.client@{DOMAIN}")
    manager = accounts.find_user_by_email(f"liza.bpo@{DOMAIN}")
    assistant = accounts.find_user_by_email(f"valentina.va@{DOMAIN}")
    assert client and manager and assistant, "seed the people and tasks first"
    task = db.session.scalar(
        sa.select(Task).where(
            Task.client_profile_id == permissions.acting_client_profile(client).id,
            Task.title == DEAL_TASK,
        )
    )
    if task is None or db.session.scalar(sa.select(Bid.id).where(Bid.task_id == task.id)):
        return False
    start = _history_start()

    def on(week: int, day: int, hour: int, minute: int = 0) -> AbstractContextManager[None]:
        """Run as if it were `day` (0: Monday) of `week` at hour:minute UTC."""
        return clock_at(start + timedelta(weeks=week, days=day, hours=hour, minutes=minute))

    def say(user: User, body: str) -> None:
        messaging.post_message(
            messaging.contract_conversation(user=user, contract_id=contract.id),
            user=user,
            body=body,
        )

    bids = {}
    with on(0, 0, 14):
        for user, rate, letter in (
            (
                manager,
                950,
                "Our Manila team runs Gorgias queues for three Shopify stores, "
                "around the clock on weekdays.",
            ),
            (assistant, 1300, "Bilingual support in US hours; I can take Spanish tickets too."),
        ):
            confidentiality.accept_terms(
                user=user,
                task_id=task.id,
                terms_hash=task_terms.terms_hash(),
                ip_address=None,
                user_agent="seed-demo",
            )
            bids[user.id] = bid_services.place_bid(
                user=user,
                task_id=task.id,
                proposal=BidProposal(
                    price=Money(rate, "usd"), timeline_days=90, cover_letter=letter
                ),
            )
    with on(0, 0, 15):
        bid_services.shortlist_bid(user=client, bid_id=bids[manager.id].id)
        conversation = messaging.bid_conversation(user=client, bid_id=bids[manager.id].id)
        messaging.post_message(conversation, user=client, body="Can you start on Monday?")
    with on(0, 0, 15, 10):
        messaging.post_message(conversation, user=manager, body="Yes: two agents from Monday.")
    with on(0, 0, 16):
        contract = contract_flows.award(
            user=client,
            bid_id=bids[manager.id].id,
            terms=AwardTerms(
                milestones=DEAL_MILESTONES,
                deliverables=DEAL_DELIVERABLES,
                # Monthly milestones: a month of service hours to deliver each.
                sla=SlaTargets(turnaround_hours=600),
            ),
        )
        trial = contract_flows.award(
            user=client,
            bid_id=bids[assistant.id].id,
            terms=AwardTerms(milestones=TRIAL_MILESTONES, sla=SlaTargets(turnaround_hours=80)),
        )
    with on(0, 0, 16, 30):
        contract_flows.accept_offer(user=manager, contract_id=contract.id)
        contract_flows.accept_offer(user=assistant, contract_id=trial.id)
        payouts.start_onboarding(user=manager)  # the sandbox enables payouts at once
        payouts.start_onboarding(user=assistant)
    setup, first_month, second_month = (m.id for m in contract.milestones)
    (trial_milestone,) = (m.id for m in trial.milestones)

    with on(0, 1, 15):
        funding.fund(user=client, milestone_id=setup)
        funding.fund(user=client, milestone_id=trial_milestone)
        say(client, "Welcome aboard! The returns SOP is attached to the task.")
    with on(0, 1, 15, 25):
        say(manager, "Thanks Ana: macros first, then we take the queue.")
    with on(0, 3, 14):
        delivery.submit(
            user=manager,
            milestone_id=setup,
            note="Macros and the returns SOP are in the shared drive.",
            deliverables=[],
        )
    with on(0, 3, 16):
        delivery.approve(user=client, milestone_id=setup)
        say(client, "The macros work well: set-up approved.")
    with on(0, 3, 16, 40):
        say(manager, "Great, the queue is ours from Monday.")

    with on(1, 0, 14):
        funding.fund(user=client, milestone_id=first_month)
    # Friday 16:00 in New York is Saturday 05:00 in Manila, an hour before the night shift
    # ends; the answer comes in the Saturday shift, three service hours later.
    with on(1, 4, 21):
        say(client, "Are Saturday orders covered this weekend?")
    with on(1, 5, 2):
        say(manager, "Yes: Paolo has the Saturday queue. Sorry for the slow answer.")
    with on(1, 4, 18):
        delivery.submit(
            user=assistant,
            milestone_id=trial_milestone,
            note="The Spanish backlog is cleared: 212 tickets, macros translated.",
            deliverables=[],
        )
    with on(2, 0, 15):
        delivery.approve(user=client, milestone_id=trial_milestone)

    with on(2, 1, 15):
        change = record_changes.announce(
            user=client,
            contract_id=contract.id,
            title="Free returns for 60 days",
            description="From today returns are free for 60 days after delivery (was 30).",
            to_adopt="Update the returns macro and the SOP; answer with the new window.",
        )
    with on(2, 1, 15, 30):
        record_changes.acknowledge(user=manager, change_id=change.id)
    with on(2, 1, 20):
        record_changes.adopt(user=manager, change_id=change.id)
    with on(2, 1, 16):
        reviews.write_review(
            user=client,
            contract_id=trial.id,
            rating=5,
            sub_ratings={"quality": 5, "communication": 5, "timeliness": 4, "expertise": 5},
            text="Cleared our Spanish backlog in a week, with macros we still use.",
        )
    with on(2, 2, 14):
        reviews.write_review(
            user=assistant,
            contract_id=trial.id,
            rating=5,
            sub_ratings={"clarity": 5, "responsiveness": 4, "payment_promptness": 5},
            text="Clear playbook and quick answers; paid on the day.",
        )

    # Weekly reports (Monday to Sunday in New York), filed the Monday after: the first
    # confirmed, the second contested, the third unanswered (so confirmed after 7 days).
    for week, received, completed, errors, answer in WORK_WEEKS:
        monday = (start + timedelta(weeks=week)).date()
        with on(week + 1, 0, 14):
            report = record_reports.file_report(
                user=manager,
                contract_id=contract.id,
                figures=ReportFigures(
                    period_start=monday,
                    period_end=monday + timedelta(days=6),
                    items_received=received,
                    items_completed=completed,
                    items_with_errors=errors,
                    items_reworked=errors // 2,
                    escalations=3,
                    satisfaction_responses=40,
                    satisfaction_average=4.6,
                    improvement_suggestions=("A macro for partial refunds",),
                    sop_adherence=1.0,
                ),
            )
        with on(week + 1, 1, 15):
            if answer == "confirm":
                record_reports.confirm(user=client, report_id=report.id)
            elif answer == "contest":
                record_reports.contest(
                    user=client, report_id=report.id, reason="Our Gorgias count is 296, not 310."
                )

    with on(4, 0, 14):
        delivery.submit(
            user=manager,
            milestone_id=first_month,
            note="1,214 tickets answered; the weekly quality reports are attached.",
            deliverables=[],
        )
    with on(4, 1, 15):
        funding.fund(user=client, milestone_id=second_month)
        say(client, "Second month funded. I'll review the first month's report.")
    with on(4, 1, 15, 20):
        say(manager, "Thanks! Returns are now in the queue from Monday.")

    record_events.evaluate_all()
    match_records.recompute_records()
    return True


def seed_dispute(admin: User) -> bool:
    """A dispute for the console's queue: Northbank Creative's CRM clean-up, awarded to the
    Lagos VA ten days ago; the first milestone funded, delivered, then disputed by the
    agency two days ago, with a message thread and evidence from both sides (the deadline
    for evidence is still ahead). Returns whether it was made now."""
    client = accounts.find_user_by_email(f"oliver.client@{DOMAIN}")
    assistant = accounts.find_user_by_email(f"chidi.va@{DOMAIN}")
    assert client and assistant, "seed the people first"
    profile = permissions.acting_client_profile(client)
    if db.session.scalar(
        sa.select(Task.id).where(Task.client_profile_id == profile.id, Task.title == DISPUTE_TASK)
    ):
        return False
    now = datetime.now(UTC)

    def at(days_ago: float) -> AbstractContextManager[None]:
        return clock_at(now - timedelta(days=days_ago))

    with at(12):
        task = tasks.create_task(user=client, draft=dispute_task_draft(date.today()))
        task, _ = lifecycle.publish_task(user=client, task_id=task.id, confirm_strategic=True)
        if task.status == TaskStatus.PENDING_REVIEW:
            lifecycle.approve_task(admin=admin, task_id=task.id)
    with at(11):
        bid = bid_services.place_bid(
            user=assistant,
            task_id=task.id,
            proposal=BidProposal(
                price=Money(sum(m.amount for m in DISPUTE_MILESTONES), "usd"),
                milestones=DISPUTE_MILESTONES,
                timeline_days=30,
                cover_letter="I clean HubSpot lists every week; duplicates merged by rules "
                "you approve first.",
            ),
        )
    with at(10):
        contract = contract_flows.award(user=client, bid_id=bid.id, terms=AwardTerms())
        contract_flows.accept_offer(user=assistant, contract_id=contract.id)
        payouts.start_onboarding(user=assistant)
    first = contract.milestones[0].id

    def say(user: User, body: str) -> None:
        messaging.post_message(
            messaging.contract_conversation(user=user, contract_id=contract.id),
            user=user,
            body=body,
        )

    with at(9.9):
        funding.fund(user=client, milestone_id=first)
        say(client, "Funded. The export is in the shared folder.")
    with at(9.8):
        say(assistant, "Got it. I'll merge by e-mail and company domain.")
    with at(4):
        delivery.submit(
            user=assistant,
            milestone_id=first,
            note="4,012 contacts merged into 3,388 and tagged by service line.",
            deliverables=[
                {
                    "name": "northbank-contacts-clean.csv",
                    "size": 412_330,
                    "content_type": "text/csv",
                    "sha256": "7" * 64,
                    "url": "https://files.example.com/northbank-contacts-clean.csv",
                }
            ],
        )
    with at(3):
        say(client, "Many duplicates are still there: the same people under personal e-mails.")
    with at(2.9):
        say(assistant, "Personal e-mails were not in the brief; merging them is the next step.")
    with at(2):
        dispute = disputes.open_dispute(
            user=client,
            milestone_id=first,
            reason="About a third of the duplicates are still in the list; the tags are "
            "missing for the design clients.",
        )
    with at(1.5):
        evidence.add_evidence(
            user=client,
            dispute_id=dispute.id,
            text="A sample of 200 rows: 61 people appear twice, under work and personal "
            "e-mails. The brief says 'merge duplicates'.",
        )
    with at(1):
        evidence.add_evidence(
            user=assistant,
            dispute_id=dispute.id,
            text="We agreed in the thread to merge by e-mail and company domain. Every "
            "contact is tagged; 'design' was not one of the service lines given.",
        )
    return True


def _clock(hh_mm: str) -> timedelta:
    hours, minutes = hh_mm.split(":")
    return timedelta(hours=int(hours), minutes=int(minutes))


def _week_invoice(contract_id: uuid.UUID, week: date) -> Invoice:
    invoice = db.session.scalar(
        sa.select(Invoice).where(Invoice.contract_id == contract_id, Invoice.week == week)
    )
    assert invoice is not None, f"the invoice of the week of {week} is issued first"
    return invoice


def _billing_steps(contract: Contract, week: date) -> list[tuple[datetime, Callable[[], object]]]:
    """The week's invoice, issued, charged and released at the moments the billing job
    would (Monday 12:00 UTC, Saturday 00:00 UTC, the security period after); each step is
    the job's own, for this contract only (other contracts' invoices are left to the job)."""
    charged = invoices.review_ends(week)
    security = timedelta(days=contract.current_terms.content["hourly"]["security_days"])

    def issue() -> None:
        invoices.issue(contract.id, week)
        db.session.commit()

    def charge() -> None:
        invoices.charge(_week_invoice(contract.id, week).id)
        db.session.commit()

    def release() -> None:
        invoices.release(_week_invoice(contract.id, week).id)
        db.session.commit()

    return [
        (time_entries.adjustment_closes(week), issue),
        (charged, charge),
        (charged + security, release),
    ]


def seed_hourly(admin: User) -> bool:
    """An hourly contract with weeks of history up to now (`clock_at`): Northbank
    Creative's bookkeeping by the Kolkata VA, awarded four billing weeks ago (Monday to
    Sunday, UTC) at her rate with a weekly limit, the agency's card saved. Her stretches
    are logged as each ends, and each week's invoice is issued, charged and released when
    the billing job would, as far as now has come:

    - three weeks ago: 17 h 30 min, billed, paid and released after the security period;
    - two weeks ago: the auditors' week, 21 h 30 min against the 20 h limit (1 h 30 min
      over it, recorded but not billed), paid (released from this Thursday 00:00 UTC); the
      agency paid the over time as a bonus;
    - last week: 17 h 30 min, open for edits until this Monday 12:00 UTC, invoiced then,
      charged this Saturday 00:00 UTC;
    - this week: open, with the stretches worked so far (the one under way, up to now).

    Later moments are left to the periodic billing job. Returns whether it was made now."""
    client = accounts.find_user_by_email(f"oliver.client@{DOMAIN}")
    assistant = accounts.find_user_by_email(f"priya.va@{DOMAIN}")
    assert client and assistant, "seed the people first"
    if _client_task("oliver.client", HOURLY_TASK) is not None:
        return False
    now = datetime.now(UTC)
    this_week = datetime.combine(billing_week(now), time(), tzinfo=UTC)
    start = this_week - timedelta(weeks=4)

    with clock_at(start + timedelta(days=1, hours=9)):
        task = tasks.create_task(user=client, draft=hourly_task_draft(date.today()))
        task, _ = lifecycle.publish_task(user=client, task_id=task.id, confirm_strategic=True)
        if task.status == TaskStatus.PENDING_REVIEW:  # a new client: a moderator approves
            lifecycle.approve_task(admin=admin, task_id=task.id)
    with clock_at(start + timedelta(days=2, hours=13)):
        bid = bid_services.place_bid(
            user=assistant,
            task_id=task.id,
            proposal=BidProposal(
                price=HOURLY_RATE,
                timeline_days=180,
                cover_letter="Xero every morning, your payables in the afternoon: my "
                "split shift meets London at 13:00.",
            ),
        )
    with clock_at(start + timedelta(days=3, hours=10)):
        contract = contract_flows.award(
            user=client,
            bid_id=bid.id,
            terms=AwardTerms(
                weekly_limit_hours=HOURLY_LIMIT_HOURS,
                # The hours she promises a week: the rest of her capacity stays matchable.
                sla=SlaTargets(coverage_hours=HOURLY_LIMIT_HOURS),
            ),
        )
    with clock_at(start + timedelta(days=3, hours=13, minutes=30)):
        contract_flows.accept_offer(user=assistant, contract_id=contract.id)
        payouts.start_onboarding(user=assistant)  # the sandbox enables payouts at once
        methods.save(user=client, payment_method="pm_card_visa")  # hours are charged to it

    audit_week = (this_week - timedelta(weeks=2)).date()

    def log(begin: datetime, end: datetime, memo: str) -> Callable[[], object]:
        entry = NewEntry(start=begin, end=end, memo=memo)
        return lambda: time_entries.log(user=assistant, contract_id=contract.id, entry=entry)

    def bonus() -> None:
        invoice = _week_invoice(contract.id, audit_week)
        over = invoice.logged_minutes - invoice.minutes
        bonuses.pay(
            user=client,
            contract_id=contract.id,
            amount=Money(invoices.hours_amount(invoice.rate, over), invoice.currency),
            reason=f"The auditors' week: {invoices.duration(over)} over the limit. Thank you!",
        )

    last_minute = now.replace(second=0, microsecond=0)
    steps: list[tuple[datetime, Callable[[], object]]] = []
    for weeks_ago in (3, 2, 1, 0):
        monday = this_week - timedelta(weeks=weeks_ago)
        week = monday.date()
        stretches = HOURLY_WEEK + (HOURLY_AUDIT if week == audit_week else ())
        for day, begin, end, memo in stretches:
            started = monday + timedelta(days=day) + _clock(begin)
            ended = min(monday + timedelta(days=day) + _clock(end), last_minute)
            if ended > started:  # logged when it ends, the one under way up to now
                steps.append((ended, log(started, ended, memo)))
        if weeks_ago:
            steps += _billing_steps(contract, week)
    # Tuesday after the auditors' invoice came, with its time over the limit.
    steps.append((this_week - timedelta(weeks=1) + timedelta(days=1, hours=10), bonus))
    for moment, step in sorted(steps, key=lambda pair: pair[0]):
        if moment <= now:
            with clock_at(moment):
                step()
    return True


def seed_workflows(admin: User) -> bool:
    """Ana's workflow audit, begun twelve weeks ago (`clock_at`): one workflow per tier,
    and the supplier invoices (tier 3, a VA offshore) piloted with Grace: the draft trial
    task made from the recommendation, published, bid on at its budget and awarded; two
    weeks of work approved; then extended into three monthly milestones, two approved and
    the third funded. Ana reports the hours it saves her team, so `GET /clients/me/roi`
    shows the estimate next to what happened. Returns whether it was made now."""
    client = accounts.find_user_by_email(f"ana.client@{DOMAIN}")
    provider = accounts.find_user_by_email(f"{PILOT_PROVIDER}@{DOMAIN}")
    assert client and provider, "seed the people first"
    profile = permissions.acting_client_profile(client)
    if db.session.scalar(sa.select(Workflow.id).where(Workflow.client_profile_id == profile.id)):
        return False
    start = _history_start() - timedelta(weeks=7)

    def on(week: int, day: int, hour: int) -> AbstractContextManager[None]:
        return clock_at(start + timedelta(weeks=week, days=day, hours=hour))

    with on(0, 0, 14):
        made = {
            draft.name: workflows.create_workflow(user=client, draft=draft) for draft in WORKFLOWS
        }
        piloted = made[PILOTED_WORKFLOW].id
    with on(0, 0, 15):
        task = workflows.create_pilot(user=client, workflow_id=piloted)
        task, _ = lifecycle.publish_task(user=client, task_id=task.id, confirm_strategic=False)
        if task.status == TaskStatus.PENDING_REVIEW:  # a new client: a moderator approves
            lifecycle.approve_task(admin=admin, task_id=task.id)
    with on(0, 1, 9):
        bid = bid_services.place_bid(
            user=provider,
            task_id=task.id,
            proposal=BidProposal(
                price=Money(task.budget_max, task.currency),
                milestones=(
                    MilestoneProposal(
                        title="Two weeks of supplier invoices",
                        amount=task.budget_max,
                        description="Every invoice of the fortnight keyed in, checked twice.",
                    ),
                ),
                timeline_days=14,
                cover_letter="Invoices keyed in within a day, to your SOP, in Nairobi hours.",
            ),
        )
    with on(0, 1, 15):
        # The hours she promises a week: the rest of her capacity stays matchable.
        promised = SlaTargets(coverage_hours=int(made[PILOTED_WORKFLOW].hours_per_week))
        pilot = contract_flows.award(user=client, bid_id=bid.id, terms=AwardTerms(sla=promised))
    with on(0, 1, 16):
        contract_flows.accept_offer(user=provider, contract_id=pilot.id)
        payouts.start_onboarding(user=provider)  # the sandbox enables payouts at once
    (trial,) = (m.id for m in pilot.milestones)
    with on(0, 2, 14):
        funding.fund(user=client, milestone_id=trial)
    with on(2, 0, 16):
        delivery.submit(
            user=provider, milestone_id=trial, note="412 invoices entered.", deliverables=[]
        )
    with on(2, 1, 14):
        delivery.approve(user=client, milestone_id=trial)
    with on(2, 2, 14):
        full = contract_pilots.extend_pilot(
            user=client,
            contract_id=pilot.id,
            terms=PilotTerms(
                milestones=EXTENSION_MILESTONES,
                sla=promised,
                scope_summary="Every supplier invoice keyed in within a working day.",
            ),
        )
    with on(2, 2, 16):
        contract_flows.accept_offer(user=provider, contract_id=full.id)
    months = [m.id for m in full.milestones]
    for index, milestone_id in enumerate(months):
        with on(2 + 4 * index, 3, 14):
            funding.fund(user=client, milestone_id=milestone_id)
        if index < len(months) - 1:
            with on(6 + 4 * index, 0, 16):
                delivery.submit(
                    user=provider,
                    milestone_id=milestone_id,
                    note="The month's invoices are in.",
                    deliverables=[],
                )
            with on(6 + 4 * index, 1, 14):
                delivery.approve(user=client, milestone_id=milestone_id)
    with on(8, 0, 10):
        workflows.update_workflow(
            user=client,
            workflow_id=piloted,
            changes=WorkflowChanges(hours_saved_per_week=HOURS_SAVED),
        )
    return True


def register_commands(app: Flask) -> None:
    """Add `seed-demo`."""

    @app.cli.command("seed-demo")
    def seed_demo_command() -> None:
        """Create the demo clients, VAs and firms (idempotent) and print their logins."""
        if current_app.config["ENV_NAME"] == "production":
            raise click.ClickException(
                "seed-demo makes accounts with a published password; never in production."
            )
        try:
            new, logins = seed_demo()
            admin, admin_new = seed_admin()
            new_tasks = seed_tasks(admin)
            seed_deal()
            seed_dispute(admin)
            seed_hourly(admin)
            seed_workflows(admin)
            new_tasks += seed_review_queue()
            seed_reports()
        except DomainError as exc:
            raise click.ClickException(f"{exc.message} {exc.details}") from None
        # The seeding queued welcome e-mails, notifications and the payout of the released
        # milestone: deliver them now (the console backend prints each e-mail), so that the
        # logins below come last and stay on screen.
        outbox.deliver_due(limit=10_000)
        click.echo(
            f"Demo data ready ({new + admin_new} new accounts, {new_tasks} new tasks). "
            f"Password for every login: {PASSWORD}"
        )
        rows = [("E-MAIL", "ROLE", "WHO"), (admin.email, "admin", ADMIN[2]), *logins]
        width = max(len(email) for email, _, _ in rows)
        for email, role, about in rows:
            click.echo(f"{email:<{width}}  {role:<8}  {about}")
        uri = twofactor.provisioning_uri(admin, ADMIN_TOTP_SECRET)
        click.echo(
            "The admin signs in with a code too (two-factor sign-in). Add the secret "
            f"{ADMIN_TOTP_SECRET} to an authenticator app ({uri}), or print the current "
            "code with:\n"
            f".venv/bin/python -c \"import pyotp; print(pyotp.TOTP('{ADMIN_TOTP_SECRET}').now())\""
        )
