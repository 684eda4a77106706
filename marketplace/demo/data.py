"""The demo marketplace: people, firms and tasks across time zones (plain data)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from marketplace.bids.inputs import MilestoneProposal
from marketplace.hours import WorkingHours
from marketplace.inputs import Money
from marketplace.profiles.inputs import ClientProfileChanges, ProviderProfileChanges, SkillLevel
from marketplace.profiles.models import ServiceModel
from marketplace.tasks.inputs import (
    Attachment,
    Budget,
    CoverageNeed,
    OverlapNeed,
    RequiredSkill,
    TaskDraft,
)
from marketplace.tasks.models import BudgetType, Confidentiality, Shoring
from marketplace.workflows.inputs import AnswerChanges, WorkflowDraft
from marketplace.workflows.models import Level, TimeNeed

PASSWORD = "demo-password-2026"
# Not `.test`: the e-mail validator refuses special-use domains. `.example` is reserved too.
DOMAIN = "demo.marketplace.example"
ADMIN = ("admin", "Marketplace Admin", "Moderator: review queue, reports, suspensions")
#: The demo admin's two-factor secret (admins must use two-factor sign-in). It is published,
#: like the password: add it to an authenticator app, or print the current code with
#: `.venv/bin/python -c "import pyotp; print(pyotp.TOTP('<secret>').now())"`.
ADMIN_TOTP_SECRET = "MARKETPLACEDEMOADMINTOTPSECRET23"


def _weekdays(*shifts: tuple[str, str]) -> WorkingHours:
    return {day: [list(shift) for shift in shifts] for day in ("mon", "tue", "wed", "thu", "fri")}


def _usd(dollars: int) -> Money:
    return Money(dollars * 100, "usd")


def _skills(*items: tuple[str, int, int]) -> tuple[SkillLevel, ...]:
    return tuple(SkillLevel(slug, level, years) for slug, level, years in items)


# Each entry: who owns it (e-mail local part, name, description), where, an optional
# organization with members (same place as the owner), and the profile they act for
# (its time zone and country are the owner's, from `where`).
CLIENTS: list[dict[str, Any]] = [
    {
        "who": ("ana.client", "Ana Ruiz", "E-commerce founder, New York"),
        "where": ("America/New_York", "US"),
        "profile": ClientProfileChanges(
            company_name="Brightside Goods", working_hours=_weekdays(("09:00", "17:00"))
        ),
    },
    {
        "who": ("oliver.client", "Oliver Bennett", "Agency owner, London: Northbank Creative"),
        "where": ("Europe/London", "GB"),
        "organization": "Northbank Creative",
        "members": [("sophie.client", "Sophie Clarke", "Ops lead, Northbank Creative", "manager")],
        "profile": ClientProfileChanges(working_hours=_weekdays(("09:00", "17:30"))),
    },
]

ASSISTANTS: list[dict[str, Any]] = [
    {
        "who": ("maria.va", "Maria Santos", "VA, Manila: covers US nights in her own day"),
        "where": ("Asia/Manila", "PH"),
        "profile": ProviderProfileChanges(
            headline="Overnight executive assistant for US e-commerce teams",
            bio="Six years keeping founders' inboxes, calendars and orders under control: "
            "my Manila day is your New York night, so the morning starts with a clear inbox.",
            hourly_rate=_usd(12),
            languages=("en", "tl"),
            # Tuesday to Saturday in Manila is Monday to Friday night in New York: 10:00-19:00
            # here is 21:00-06:00 there in winter (EST) and 22:00-07:00 in summer (EDT).
            working_hours={
                day: [["10:00", "19:00"]] for day in ("tue", "wed", "thu", "fri", "sat")
            },
            capacity_hours_per_week=40,
            skills=_skills(
                ("inbox-management", 5, 6), ("calendar-management", 5, 6), ("order-tracking", 4, 4)
            ),
        ),
    },
    {
        "who": ("chidi.va", "Chidi Okafor", "VA, Lagos: data entry and CRM"),
        "where": ("Africa/Lagos", "NG"),
        "profile": ProviderProfileChanges(
            headline="Data entry, CRM hygiene and lead research",
            bio="Clean CRMs and accurate lead lists, in UK and European hours.",
            hourly_rate=_usd(10),
            languages=("en", "yo"),
            working_hours=_weekdays(("08:00", "16:00")),
            capacity_hours_per_week=30,
            skills=_skills(("data-entry", 5, 5), ("crm-updates", 4, 4), ("web-research", 4, 3)),
        ),
    },
    {
        "who": ("valentina.va", "Valentina Gómez", "VA, Bogotá: bilingual support, social media"),
        "where": ("America/Bogota", "CO"),
        "profile": ProviderProfileChanges(
            headline="Bilingual customer support and social-media scheduling",
            bio="Spanish and English support in US hours, plus your content calendar.",
            hourly_rate=_usd(14),
            languages=("es", "en"),
            working_hours={**_weekdays(("08:00", "17:00")), "sat": [["09:00", "13:00"]]},
            capacity_hours_per_week=35,
            skills=_skills(
                ("live-chat-support", 5, 4),
                ("social-media-scheduling", 4, 3),
                ("graphic-design", 3, 2),
            ),
        ),
    },
    {
        "who": ("priya.va", "Priya Sharma", "VA, Kolkata: bookkeeping and payroll"),
        "where": ("Asia/Kolkata", "IN"),
        "profile": ProviderProfileChanges(
            headline="Bookkeeping, payables and payroll for small businesses",
            bio="A split shift for hand-offs with both UK and US East Coast teams.",
            hourly_rate=_usd(11),
            languages=("en", "hi", "bn"),
            working_hours=_weekdays(("07:00", "11:00"), ("18:00", "22:00")),
            capacity_hours_per_week=40,
            skills=_skills(("bookkeeping", 5, 7), ("accounts-payable", 4, 5), ("payroll", 4, 4)),
        ),
    },
    # Five more data-entry assistants besides Chidi (whose week the disputed CRM contract
    # fills): the five the workflow audit needs to price data entry from the market
    # (marketplace/workflows/market.py).
    {
        "who": ("grace.va", "Grace Wanjiru", "VA, Nairobi: data entry and order processing"),
        "where": ("Africa/Nairobi", "KE"),
        "profile": ProviderProfileChanges(
            headline="Data entry and order processing for online shops",
            bio="Supplier invoices, orders and stock counts keyed in accurately, every day.",
            hourly_rate=_usd(9),
            languages=("en", "sw"),
            working_hours=_weekdays(("08:00", "17:00")),
            capacity_hours_per_week=40,
            skills=_skills(("data-entry", 4, 3), ("order-tracking", 3, 2)),
        ),
    },
    {
        "who": ("rafiq.va", "Rafiq Hossain", "VA, Dhaka: data entry and spreadsheets"),
        "where": ("Asia/Dhaka", "BD"),
        "profile": ProviderProfileChanges(
            headline="Fast, careful data entry and spreadsheet clean-ups",
            bio="Invoices, catalogues and CRM records, double-checked before you see them.",
            hourly_rate=_usd(8),
            languages=("en", "bn"),
            working_hours=_weekdays(("10:00", "18:00")),
            capacity_hours_per_week=40,
            skills=_skills(("data-entry", 4, 4), ("data-cleansing", 3, 2)),
        ),
    },
    {
        "who": ("joy.va", "Joy Mendoza", "VA, Cebu: e-commerce back office"),
        "where": ("Asia/Manila", "PH"),
        "profile": ProviderProfileChanges(
            headline="E-commerce back office: orders, invoices and product listings",
            bio="Five years behind the scenes of Shopify stores, in your night.",
            hourly_rate=_usd(11),
            languages=("en", "tl"),
            working_hours=_weekdays(("09:00", "18:00")),
            capacity_hours_per_week=30,
            skills=_skills(("data-entry", 4, 5), ("order-tracking", 4, 3)),
        ),
    },
    {
        "who": ("andrei.va", "Andrei Popescu", "VA, Bucharest: data entry and research"),
        "where": ("Europe/Bucharest", "RO"),
        "profile": ProviderProfileChanges(
            headline="Data entry, research and lead lists for US and EU teams",
            bio="Accurate records and well-sourced lists, with an overlap with New York.",
            hourly_rate=_usd(12),
            languages=("en", "ro"),
            working_hours=_weekdays(("09:00", "17:00")),
            capacity_hours_per_week=35,
            skills=_skills(("data-entry", 5, 4), ("web-research", 4, 3)),
        ),
    },
    {
        "who": ("thanh.va", "Thanh Nguyen", "VA, Ho Chi Minh City: data entry and catalogues"),
        "where": ("Asia/Ho_Chi_Minh", "VN"),
        "profile": ProviderProfileChanges(
            headline="Data entry and product catalogues, checked line by line",
            bio="Supplier price lists and product data kept tidy while you sleep.",
            hourly_rate=_usd(10),
            languages=("en", "vi"),
            working_hours=_weekdays(("08:30", "17:30")),
            capacity_hours_per_week=40,
            skills=_skills(("data-entry", 4, 4), ("data-cleansing", 4, 3)),
        ),
    },
]

FIRMS: list[dict[str, Any]] = [
    {
        "who": ("ramon.bpo", "Ramon Villanueva", "Owner, Manila Bay Support (BPO, Manila)"),
        "where": ("Asia/Manila", "PH"),
        "organization": "Manila Bay Support",
        "members": [
            ("liza.bpo", "Liza Mendoza", "Team manager, Manila Bay Support", "manager"),
            ("paolo.bpo", "Paolo Reyes", "Support agent, Manila Bay Support", "agent"),
            ("kristine.bpo", "Kristine Lim", "Support agent, Manila Bay Support", "agent"),
        ],
        "profile": ProviderProfileChanges(
            service_model=ServiceModel.BPO,
            headline="Customer service and order operations, around the clock on weekdays",
            bio="A team of support agents running your playbook in three shifts.",
            hourly_rate=_usd(9),
            languages=("en", "tl", "es"),
            working_hours={
                **_weekdays(("06:00", "14:00"), ("14:00", "22:00"), ("22:00", "06:00")),
                "sat": [["08:00", "20:00"]],
                "sun": [["08:00", "20:00"]],
            },
            capacity_hours_per_week=480,
            skills=_skills(
                ("customer-support-tier1", 5, 8),
                ("phone-support", 4, 6),
                ("returns-processing", 4, 5),
                ("order-tracking", 4, 6),
            ),
        ),
    },
    {
        "who": ("katarzyna.kpo", "Katarzyna Nowak", "Owner, Wawel Insight (KPO/ITO, Kraków)"),
        "where": ("Europe/Warsaw", "PL"),
        "organization": "Wawel Insight",
        "members": [("tomasz.kpo", "Tomasz Wójcik", "Analyst, Wawel Insight", "agent")],
        "profile": ProviderProfileChanges(
            service_model=ServiceModel.KPO,
            headline="Financial analysis, analytics and IT helpdesk from Kraków",
            bio="Analysts and engineers in two shifts, for Europe and the US East Coast.",
            hourly_rate=_usd(45),
            languages=("pl", "en", "de"),
            working_hours=_weekdays(("07:00", "15:00"), ("15:00", "23:00")),
            capacity_hours_per_week=160,
            skills=_skills(
                ("financial-analysis", 5, 10),
                ("market-research", 4, 6),
                ("data-analytics", 5, 8),
                ("legal-research", 3, 5),
                ("it-helpdesk", 4, 6),
            ),
        ),
    },
    {
        "who": ("joao.ito", "João Almeida", "Owner, Tejo Helpdesk (ITO, Lisbon)"),
        "where": ("Europe/Lisbon", "PT"),
        "organization": "Tejo Helpdesk",
        "members": [],
        "profile": ProviderProfileChanges(
            service_model=ServiceModel.ITO,
            headline="First-line IT helpdesk in UK and Irish office hours",
            bio="Workspace, Slack and laptop support from a team one hour from London.",
            hourly_rate=Money(2800, "gbp"),
            languages=("en", "pt"),
            working_hours=_weekdays(("08:00", "18:00")),
            capacity_hours_per_week=120,
            skills=_skills(("it-helpdesk", 4, 7), ("cloud-infrastructure", 3, 4)),
        ),
    },
]


# The task that gets bids, an awarded contract and messages (demo/__init__.seed_deal).
DEAL_TASK = "Tier-one support tickets, 300 a week"
DEAL_MILESTONES = (
    MilestoneProposal(
        title="Set-up: macros and the returns playbook",
        amount=30_000,
        description="Gorgias macros and a returns SOP, reviewed with you.",
    ),
    MilestoneProposal(
        title="First month of tickets",
        amount=120_000,
        description="About 1,200 tickets at tier one.",
    ),
    MilestoneProposal(
        title="Second month of tickets",
        amount=120_000,
        description="About 1,200 tickets at tier one, returns included.",
    ),
)
DEAL_DELIVERABLES = ("Tickets answered within the SLA", "A weekly quality report")
#: The second position of the deal task: a two-week trial of Spanish tickets.
TRIAL_MILESTONES = (
    MilestoneProposal(
        title="Two weeks of Spanish tickets",
        amount=40_000,
        description="Clear the Spanish backlog and translate the macros.",
    ),
)
#: The deal's weekly work reports: (week, received, completed, with errors, client's answer).
WORK_WEEKS = (
    (1, 302, 298, 5, "confirm"),
    (2, 310, 305, 4, "contest"),
    (3, 296, 294, 3, None),
)
TERMS = Confidentiality.TERMS_REQUIRED

# Ana's workflow audit (demo/__init__.seed_workflows): one workflow per tier, the data entry
# piloted with Grace and extended into three months.
#: The four answers that hand work off, shared by the audit below.
_PLAIN = AnswerChanges(proprietary_data=False, brand_central=False, time_need=TimeNeed.NONE)
WORKFLOWS = (
    WorkflowDraft(
        name="Pricing and promotions calendar",
        description="Deciding prices, discounts and the promotions of each season.",
        hours_per_week=Decimal(6),
        in_house_rate=_usd(85),
        skills=("market-research",),
        answers=replace(
            _PLAIN,
            brand_central=True,
            repeatable=Level.MEDIUM,
            error_risk=Level.HIGH,
            has_sop=False,
            rule_based=False,
        ),
    ),
    WorkflowDraft(
        name="Monthly management accounts",
        description="Closing the month: margins by product line, cash flow and a forecast.",
        hours_per_week=Decimal(10),
        in_house_rate=_usd(70),
        skills=("financial-analysis", "bookkeeping"),
        answers=replace(
            _PLAIN,
            repeatable=Level.LOW,
            error_risk=Level.MEDIUM,
            has_sop=False,
            rule_based=False,
        ),
    ),
    WorkflowDraft(
        name="Supplier invoice data entry",
        description="Keying the suppliers' invoices into the books and the stock sheet.",
        hours_per_week=Decimal(12),
        in_house_rate=_usd(32),
        skills=("data-entry",),
        answers=replace(
            _PLAIN,
            repeatable=Level.HIGH,
            error_risk=Level.LOW,
            has_sop=True,
            rule_based=False,
        ),
    ),
    WorkflowDraft(
        name="Order tagging and routing",
        description="Tagging each order by channel and sending it to the right warehouse.",
        hours_per_week=Decimal(8),
        in_house_rate=_usd(32),
        skills=("order-tracking",),
        answers=replace(
            _PLAIN,
            repeatable=Level.HIGH,
            error_risk=Level.LOW,
            has_sop=True,
            rule_based=True,
        ),
    ),
)
#: The workflow piloted, who runs it, and the months of its extension.
PILOTED_WORKFLOW = "Supplier invoice data entry"
PILOT_PROVIDER = "grace.va"
EXTENSION_MILESTONES = tuple(
    MilestoneProposal(
        title=f"Month {month} of invoice entry",
        amount=46_800,
        description="About 52 hours at $9: every supplier invoice keyed in within a day.",
    )
    for month in (1, 2, 3)
)
#: Hours a week Ana reports her team saves since the hand-off.
HOURS_SAVED = Decimal(10)


def task_drafts(today: date) -> list[tuple[str, TaskDraft]]:
    """Open tasks of every service model, posted by the demo clients (by e-mail local
    part), with deadlines counted from `today`."""
    return [
        (
            "ana.client",
            TaskDraft(
                title="Night-shift inbox and order triage for a Shopify store",
                summary="Sort the support inbox, tag orders that need action and draft replies "
                "from our templates while the New York team sleeps.",
                service_model=ServiceModel.VA,
                tier=3,
                skills=(RequiredSkill("inbox-management", 3), RequiredSkill("order-tracking", 3)),
                budget=Budget(BudgetType.HOURLY, 1000, 1600, "usd"),
                deadline=today + timedelta(days=60),
                timezone_need=CoverageNeed(_weekdays(("22:00", "06:00"))),
                shoring=Shoring.OFFSHORE,
                languages=("en",),
                confidentiality=TERMS,
                confidential_details="Gorgias macros and the refund policy are in the shared "
                "drive; refunds over $50 go to Ana.",
            ),
        ),
        (
            "ana.client",
            TaskDraft(
                title=DEAL_TASK,
                summary="A BPO team to answer order-status, returns and shipping tickets "
                "under our playbook, with weekly quality reviews.",
                service_model=ServiceModel.BPO,
                tier=3,
                positions=3,
                skills=(
                    RequiredSkill("customer-support-tier1", 4),
                    RequiredSkill("returns-processing", 3),
                ),
                budget=Budget(BudgetType.HOURLY, 800, 1400, "usd"),
                deadline=today + timedelta(days=90),
                timezone_need=OverlapNeed(2),
                languages=("en", "es"),
                confidentiality=TERMS,
                confidential_details="Customer data stays in Gorgias; no exports. SOP v3 attached.",
                attachments=(
                    Attachment(
                        name="support-sop-v3.pdf",
                        size=482113,
                        content_type="application/pdf",
                        sha256="3" * 64,
                    ),
                ),
            ),
        ),
        (
            "ana.client",
            TaskDraft(
                title="Monthly bookkeeping pilot",
                summary="Reconcile one month of bank feeds and invoices in Xero as a paid "
                "trial before a longer engagement.",
                service_model=ServiceModel.VA,
                tier=3,
                trial=True,
                skills=(RequiredSkill("bookkeeping", 4),),
                budget=Budget(BudgetType.FIXED, 20000, 40000, "usd"),
                deadline=today + timedelta(days=30),
                languages=("en",),
            ),
        ),
        (
            "oliver.client",
            TaskDraft(
                title="IT helpdesk for a 25-person agency",
                summary="First-line helpdesk for laptops, Google Workspace and Slack, "
                "in UK office hours.",
                service_model=ServiceModel.ITO,
                tier=2,
                skills=(RequiredSkill("it-helpdesk", 3),),
                budget=Budget(BudgetType.HOURLY, 2000, 3500, "gbp"),
                deadline=today + timedelta(days=120),
                timezone_need=OverlapNeed(6),
                shoring=Shoring.NEARSHORE,
                languages=("en",),
                confidentiality=TERMS,
                confidential_details="Admin access is granted per ticket through our "
                "password manager.",
            ),
        ),
        (
            "oliver.client",
            TaskDraft(
                title="Competitor pricing and market research",
                summary="Research and compare the pricing of twelve competing agencies and "
                "summarise it in a short report.",
                service_model=ServiceModel.KPO,
                tier=2,
                skills=(
                    RequiredSkill("market-research", 4),
                    RequiredSkill("financial-analysis", 3),
                ),
                budget=Budget(BudgetType.FIXED, 150000, 250000, "gbp"),
                deadline=today + timedelta(days=45),
                languages=("en",),
                confidentiality=TERMS,
                confidential_details="Our current rate card and win/loss notes are in the "
                "data room.",
            ),
        ),
    ]


# The task whose first milestone is in dispute (demo/__init__.seed_dispute): Northbank's
# CRM clean-up, delivered by the Lagos VA and disputed by the agency, for the console.
DISPUTE_TASK = "CRM clean-up of the agency's client list"
DISPUTE_MILESTONES = (
    MilestoneProposal(
        title="Deduplicate and tag 4,000 contacts",
        amount=36_000,
        description="Merge duplicates, tag each contact by service line.",
    ),
    MilestoneProposal(
        title="Enrich contacts with company sizes",
        amount=24_000,
        description="Company size and sector for every B2B contact.",
    ),
)


def dispute_task_draft(today: date) -> TaskDraft:
    """The fixed-price task of the disputed contract (not one of the open tasks)."""
    return TaskDraft(
        title=DISPUTE_TASK,
        summary="Merge duplicates in our HubSpot export, tag every contact by service line "
        "and add company sizes, ready for the spring campaign.",
        service_model=ServiceModel.VA,
        tier=2,
        skills=(RequiredSkill("data-entry", 3), RequiredSkill("crm-updates", 3)),
        budget=Budget(BudgetType.FIXED, 40_000, 80_000, "usd"),
        deadline=today + timedelta(days=45),
        languages=("en",),
    )


# The hourly contract (demo/__init__.seed_hourly): Northbank's bookkeeping, by the hour,
# logged by the Kolkata VA in her split shift and billed by the week under a weekly limit.
HOURLY_TASK = "Bookkeeping and supplier payables, by the hour"
#: The VA's hourly rate (her profile's) and the weekly limit the agency set at the award.
HOURLY_RATE = _usd(11)
HOURLY_LIMIT_HOURS = 20
_AFTERNOONS = (
    "Supplier invoices entered from the payables inbox",
    "Expense claims checked and coded",
    "Payables run prepared for Sophie's approval",
    "Client invoices raised and sent",
    "Aged debtors chased; the week's hand-off notes to Sophie",
)
#: Her stretches of an ordinary week, UTC: (weekday, 0 = Monday; start; end; memo). Each
#: weekday a morning of reconciliation (07:30-09:30 in Kolkata) and an afternoon hand-off
#: with London (18:30-20:00 in Kolkata): 17 h 30 min a week, under the limit.
HOURLY_WEEK: tuple[tuple[int, str, str, str], ...] = tuple(
    stretch
    for day, afternoon in enumerate(_AFTERNOONS)
    for stretch in (
        (day, "02:00", "04:00", "Bank feeds reconciled in Xero"),
        (day, "13:00", "14:30", afternoon),
    )
)
#: The auditors' week adds these: 21 h 30 min logged, the last 1 h 30 min over the limit
#: (recorded, never billed; the agency pays it as a bonus).
HOURLY_AUDIT: tuple[tuple[int, str, str, str], ...] = (
    (3, "14:30", "16:30", "The auditors' sample: invoices and receipts pulled"),
    (4, "14:30", "16:30", "The auditors' sample: bank confirmations and their questions"),
)


def hourly_task_draft(today: date) -> TaskDraft:
    """The hourly task of the demo's hourly contract (not one of the open tasks)."""
    return TaskDraft(
        title=HOURLY_TASK,
        summary="Reconcile our bank feeds in Xero, enter supplier invoices and prepare the "
        "weekly payables run, with a hand-off to our ops lead each afternoon (UK time).",
        service_model=ServiceModel.VA,
        tier=3,
        skills=(RequiredSkill("bookkeeping", 4), RequiredSkill("accounts-payable", 3)),
        budget=Budget(BudgetType.HOURLY, 1000, 1500, "usd"),
        deadline=today + timedelta(days=180),
        languages=("en",),
    )


def review_drafts(today: date) -> list[tuple[str, TaskDraft]]:
    """Postings left waiting for a moderator, by a client without a completed contract (new
    for NEW_CLIENT_DAYS after seeding, so its postings go to review); the first also
    matches the blocklist, asking to be paid by PayPal and giving a WhatsApp contact, so it
    waits for review however old the demo is."""
    return [
        (
            "oliver.client",
            TaskDraft(
                title="Lead list for a rebrand campaign",
                summary="Build a list of 300 marketing directors at UK retailers, with the "
                "company, role and LinkedIn profile of each.\nTo save on fees we can pay you "
                "by PayPal directly; send questions on WhatsApp.",
                service_model=ServiceModel.VA,
                tier=3,
                skills=(RequiredSkill("web-research", 3), RequiredSkill("data-entry", 3)),
                budget=Budget(BudgetType.FIXED, 30000, 60000, "gbp"),
                deadline=today + timedelta(days=21),
                languages=("en",),
            ),
        ),
        (
            "oliver.client",
            TaskDraft(
                title="Social-media scheduling for a product launch",
                summary="Schedule six weeks of launch posts for one of our clients in Buffer, "
                "from the copy and images our designers deliver each Friday.",
                service_model=ServiceModel.VA,
                tier=3,
                skills=(RequiredSkill("social-media-scheduling", 3),),
                budget=Budget(BudgetType.HOURLY, 1200, 1800, "gbp"),
                deadline=today + timedelta(days=50),
                languages=("en",),
            ),
        ),
    ]


#: Reports filed with the moderators: (reporter's e-mail local part, what it is about:
#: ("task", its client's local part, its title) or ("user", their local part), reason).
REPORTS: list[tuple[str, tuple[str, ...], str]] = [
    (
        "maria.va",
        ("task", "oliver.client", "Competitor pricing and market research"),
        "The details ask for competitors' internal rate cards, which looks like a request "
        "for confidential information.",
    ),
    (
        "chidi.va",
        ("user", "sophie.client"),
        "Asked me to do a free trial week before any contract, and to keep it off the platform.",
    ),
]
