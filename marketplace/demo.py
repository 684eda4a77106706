"""Demo data for `make run`: clients, VAs and provider firms across time zones."""

from __future__ import annotations

from typing import Any

import click
from flask import Flask

from marketplace.accounts import services as accounts
from marketplace.accounts.models import Role, User
from marketplace.errors import DomainError
from marketplace.organizations import services as organizations
from marketplace.organizations.models import MemberRole
from marketplace.profiles import services as profiles
from marketplace.profiles.schemas import ClientProfileUpdateSchema, ProviderProfileUpdateSchema

PASSWORD = "demo-password-2026"
# Not `.test`: the e-mail validator refuses special-use domains; `.example` is reserved too.
DOMAIN = "demo.marketplace.example"


def _weekdays(*shifts: tuple[str, str]) -> dict[str, list[list[str]]]:
    return {day: [list(shift) for shift in shifts] for day in ("mon", "tue", "wed", "thu", "fri")}


def _usd(dollars: int) -> dict[str, Any]:
    return {"amount": dollars * 100, "currency": "usd"}


def _skills(*items: tuple[str, int, int]) -> list[dict[str, Any]]:
    return [{"slug": slug, "level": level, "years": years} for slug, level, years in items]


# Each entry: the account (owner), optionally its organization and members, and its profile.
CLIENTS: list[dict[str, Any]] = [
    {
        "email": "ana.client",
        "name": "Ana Ruiz",
        "about": "E-commerce founder, New York",
        "timezone": "America/New_York",
        "country": "US",
        "profile": {
            "company_name": "Brightside Goods",
            "working_hours": _weekdays(("09:00", "17:00")),
        },
    },
    {
        "email": "oliver.client",
        "name": "Oliver Bennett",
        "about": "Agency owner, London",
        "timezone": "Europe/London",
        "country": "GB",
        "organization": "Northbank Creative",
        "members": [("sophie.client", "Sophie Clarke", "manager", "Operations lead, London")],
        "profile": {"working_hours": _weekdays(("09:00", "17:30"))},
    },
]

ASSISTANTS: list[dict[str, Any]] = [
    {
        "email": "maria.va",
        "name": "Maria Santos",
        "about": "VA, Manila, night shift for US clients",
        "timezone": "Asia/Manila",
        "country": "PH",
        "profile": {
            "headline": "Night-shift executive assistant for US e-commerce teams",
            "bio": "Six years keeping founders' inboxes, calendars and orders under control.",
            "hourly_rate": _usd(12),
            "languages": ["en", "tl"],
            "working_hours": _weekdays(("22:00", "06:00")),
            "capacity_hours_per_week": 40,
            "skills": _skills(
                ("inbox-management", 5, 6),
                ("calendar-management", 5, 6),
                ("order-tracking", 4, 4),
                ("customer-support-tier1", 4, 3),
            ),
        },
    },
    {
        "email": "chidi.va",
        "name": "Chidi Okafor",
        "about": "VA, Lagos, data and CRM",
        "timezone": "Africa/Lagos",
        "country": "NG",
        "profile": {
            "headline": "Data entry, CRM hygiene and lead research",
            "bio": "Clean CRMs and accurate lead lists, in UK and European hours.",
            "hourly_rate": _usd(10),
            "languages": ["en", "yo"],
            "working_hours": _weekdays(("08:00", "16:00")),
            "capacity_hours_per_week": 30,
            "skills": _skills(("data-entry", 5, 5), ("crm-updates", 4, 4), ("web-research", 4, 3)),
        },
    },
    {
        "email": "valentina.va",
        "name": "Valentina Gómez",
        "about": "VA, Bogotá, bilingual support and social media",
        "timezone": "America/Bogota",
        "country": "CO",
        "profile": {
            "headline": "Bilingual customer support and social-media scheduling",
            "bio": "Spanish and English support in US hours, plus your content calendar.",
            "hourly_rate": _usd(14),
            "languages": ["es", "en"],
            "working_hours": {**_weekdays(("08:00", "17:00")), "sat": [["09:00", "13:00"]]},
            "capacity_hours_per_week": 35,
            "skills": _skills(
                ("live-chat-support", 5, 4),
                ("social-media-scheduling", 4, 3),
                ("graphic-design", 3, 2),
            ),
        },
    },
    {
        "email": "priya.va",
        "name": "Priya Sharma",
        "about": "VA, Kolkata, bookkeeping and payroll",
        "timezone": "Asia/Kolkata",
        "country": "IN",
        "profile": {
            "headline": "Bookkeeping, payables and payroll for small businesses",
            "bio": "Chartered-accountancy trainee; a split shift for UK and US hand-offs.",
            "hourly_rate": _usd(11),
            "languages": ["en", "hi", "bn"],
            "working_hours": _weekdays(("07:00", "11:00"), ("18:00", "22:00")),
            "capacity_hours_per_week": 40,
            "skills": _skills(("bookkeeping", 5, 7), ("accounts-payable", 4, 5), ("payroll", 4, 4)),
        },
    },
]

FIRMS: list[dict[str, Any]] = [
    {
        "email": "ramon.bpo",
        "name": "Ramon Villanueva",
        "about": "Owner, Manila Bay Support (BPO, Manila)",
        "timezone": "Asia/Manila",
        "country": "PH",
        "organization": "Manila Bay Support",
        "members": [
            ("liza.bpo", "Liza Mendoza", "manager", "Team manager, Manila Bay Support"),
            ("paolo.bpo", "Paolo Reyes", "agent", "Support agent, Manila Bay Support"),
            ("kristine.bpo", "Kristine Lim", "agent", "Support agent, Manila Bay Support"),
        ],
        "profile": {
            "service_model": "bpo",
            "headline": "Customer service and order operations, 24 hours on weekdays",
            "bio": "A team of support agents running your playbook in three shifts.",
            "hourly_rate": _usd(9),
            "languages": ["en", "tl"],
            "working_hours": {
                **_weekdays(("06:00", "14:00"), ("14:00", "22:00"), ("22:00", "06:00")),
                "sat": [["08:00", "20:00"]],
                "sun": [["08:00", "20:00"]],
            },
            "capacity_hours_per_week": 480,
            "skills": _skills(
                ("customer-support-tier1", 5, 8),
                ("phone-support", 4, 6),
                ("returns-processing", 4, 5),
                ("order-tracking", 4, 6),
                ("inquiry-routing", 4, 6),
            ),
        },
    },
    {
        "email": "katarzyna.kpo",
        "name": "Katarzyna Nowak",
        "about": "Owner, Wawel Insight (KPO/ITO, Kraków)",
        "timezone": "Europe/Warsaw",
        "country": "PL",
        "organization": "Wawel Insight",
        "members": [("tomasz.kpo", "Tomasz Wójcik", "agent", "Analyst, Wawel Insight")],
        "profile": {
            "service_model": "kpo",
            "headline": "Financial analysis, analytics and IT helpdesk from Kraków",
            "bio": "Analysts and engineers in two shifts, for Europe and the US East Coast.",
            "hourly_rate": _usd(45),
            "languages": ["pl", "en", "de"],
            "working_hours": _weekdays(("07:00", "15:00"), ("15:00", "23:00")),
            "capacity_hours_per_week": 160,
            "skills": _skills(
                ("financial-analysis", 5, 10),
                ("data-analytics", 5, 8),
                ("legal-research", 3, 5),
                ("it-helpdesk", 4, 6),
                ("cloud-infrastructure", 3, 4),
            ),
        },
    },
]


def seed_demo() -> tuple[int, list[tuple[str, str, str]]]:
    """Create whatever demo data is missing; return how many accounts were new and the logins."""
    plans = [(e, Role.CLIENT, ClientProfileUpdateSchema()) for e in CLIENTS]
    plans += [(e, Role.PROVIDER, ProviderProfileUpdateSchema()) for e in ASSISTANTS + FIRMS]
    # Validate everything as the API would before writing anything.
    changes = [
        schema.load({k: e[k] for k in ("timezone", "country")} | e["profile"])
        for e, _, schema in plans
    ]
    created, logins = 0, []
    for (entry, role, _), profile_changes in zip(plans, changes, strict=True):
        people = [(entry["email"], entry["name"], None, entry["about"])] + entry.get("members", [])
        users = []
        for local, name, _member_role, about in people:
            user, new = _account(
                f"{local}@{DOMAIN}", name, role, entry["timezone"], entry["country"]
            )
            created += new
            users.append(user)
            logins.append((user.email, role.value, about))
        owner = users[0]
        if "organization" in entry:
            if organizations.membership_of(owner) is None:
                organizations.create_organization(
                    user=owner,
                    name=entry["organization"],
                    service_model=entry["profile"].get("service_model"),
                )
            org_id = organizations.membership_of(owner).organization_id  # type: ignore[union-attr]
            for user, (_, _, member_role, _) in zip(users[1:], people[1:], strict=True):
                if organizations.membership_of(user) is None:
                    organizations.add_member(
                        actor=owner,
                        organization_id=org_id,
                        email=user.email,
                        role=MemberRole(member_role),
                    )
        _fill_profile(owner, role, profile_changes)
    return created, logins


def _account(email: str, name: str, role: Role, timezone: str, country: str) -> tuple[User, bool]:
    user = accounts.find_user_by_email(email)
    if user is not None:
        return user, False
    user = accounts.sign_up(
        email=email, password=PASSWORD, name=name, role=role, timezone=timezone, country=country
    )
    return user, True


def _fill_profile(owner: User, role: Role, changes: dict[str, Any]) -> None:
    # A profile without working hours was never filled in; one with hours is left alone.
    if role == Role.CLIENT:
        if not profiles.acting_client_profile(owner).working_hours:
            profiles.update_client_profile(user=owner, changes=changes)
    elif not profiles.acting_provider_profile(owner).working_hours:
        profiles.update_provider_profile(user=owner, changes=changes)


def register_commands(app: Flask) -> None:
    """Add `seed-demo`."""

    @app.cli.command("seed-demo")
    def seed_demo_command() -> None:
        """Create the demo clients, VAs and firms (idempotent) and print their logins."""
        try:
            created, logins = seed_demo()
        except DomainError as exc:
            raise click.ClickException(f"{exc.message} {exc.details}") from None
        click.echo(f"Demo data ready ({created} new accounts). Every password: {PASSWORD}")
        widths = [
            max(len(row[i]) for row in [("E-MAIL", "ROLE", "WHO"), *logins]) for i in range(2)
        ]
        for email, role, about in [("E-MAIL", "ROLE", "WHO"), *logins]:
            click.echo(f"{email:<{widths[0]}}  {role:<{widths[1]}}  {about}")
