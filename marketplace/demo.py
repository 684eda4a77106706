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
from marketplace.schemas import BaseSchema

PASSWORD = "demo-password-2026"
# Not `.test`: the e-mail validator refuses special-use domains. `.example` is reserved too.
DOMAIN = "demo.marketplace.example"

Login = tuple[str, str, str]  # e-mail, role, who they are


def _weekdays(*shifts: tuple[str, str]) -> dict[str, list[list[str]]]:
    return {day: [list(shift) for shift in shifts] for day in ("mon", "tue", "wed", "thu", "fri")}


def _usd(dollars: int) -> dict[str, Any]:
    return {"amount": dollars * 100, "currency": "usd"}


def _skills(*items: tuple[str, int, int]) -> list[dict[str, Any]]:
    return [{"slug": slug, "level": level, "years": years} for slug, level, years in items]


# Each entry: who owns it (e-mail local part, name, description), where, an optional
# organization with members (same place as the owner), and the profile they act for.
CLIENTS: list[dict[str, Any]] = [
    {
        "who": ("ana.client", "Ana Ruiz", "E-commerce founder, New York"),
        "where": ("America/New_York", "US"),
        "profile": {
            "company_name": "Brightside Goods",
            "working_hours": _weekdays(("09:00", "17:00")),
        },
    },
    {
        "who": ("oliver.client", "Oliver Bennett", "Agency owner, London: Northbank Creative"),
        "where": ("Europe/London", "GB"),
        "organization": "Northbank Creative",
        "members": [("sophie.client", "Sophie Clarke", "Ops lead, Northbank Creative", "manager")],
        "profile": {"working_hours": _weekdays(("09:00", "17:30"))},
    },
]

ASSISTANTS: list[dict[str, Any]] = [
    {
        "who": ("maria.va", "Maria Santos", "VA, Manila: night shift for US clients"),
        "where": ("Asia/Manila", "PH"),
        "profile": {
            "headline": "Night-shift executive assistant for US e-commerce teams",
            "bio": "Six years keeping founders' inboxes, calendars and orders under control.",
            "hourly_rate": _usd(12),
            "languages": ["en", "tl"],
            "working_hours": _weekdays(("22:00", "06:00")),
            "capacity_hours_per_week": 40,
            "skills": _skills(
                ("inbox-management", 5, 6), ("calendar-management", 5, 6), ("order-tracking", 4, 4)
            ),
        },
    },
    {
        "who": ("chidi.va", "Chidi Okafor", "VA, Lagos: data entry and CRM"),
        "where": ("Africa/Lagos", "NG"),
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
        "who": ("valentina.va", "Valentina Gómez", "VA, Bogotá: bilingual support, social media"),
        "where": ("America/Bogota", "CO"),
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
        "who": ("priya.va", "Priya Sharma", "VA, Kolkata: bookkeeping and payroll"),
        "where": ("Asia/Kolkata", "IN"),
        "profile": {
            "headline": "Bookkeeping, payables and payroll for small businesses",
            "bio": "A split shift for hand-offs with both UK and US East Coast teams.",
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
        "who": ("ramon.bpo", "Ramon Villanueva", "Owner, Manila Bay Support (BPO, Manila)"),
        "where": ("Asia/Manila", "PH"),
        "organization": "Manila Bay Support",
        "members": [
            ("liza.bpo", "Liza Mendoza", "Team manager, Manila Bay Support", "manager"),
            ("paolo.bpo", "Paolo Reyes", "Support agent, Manila Bay Support", "agent"),
            ("kristine.bpo", "Kristine Lim", "Support agent, Manila Bay Support", "agent"),
        ],
        "profile": {
            "service_model": "bpo",
            "headline": "Customer service and order operations, around the clock on weekdays",
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
            ),
        },
    },
    {
        "who": ("katarzyna.kpo", "Katarzyna Nowak", "Owner, Wawel Insight (KPO/ITO, Kraków)"),
        "where": ("Europe/Warsaw", "PL"),
        "organization": "Wawel Insight",
        "members": [("tomasz.kpo", "Tomasz Wójcik", "Analyst, Wawel Insight", "agent")],
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
            ),
        },
    },
]


def seed_demo() -> tuple[int, list[Login]]:
    """Create whatever demo data is missing; return the number of new accounts and all logins."""
    schemas: dict[Role, BaseSchema] = {
        Role.CLIENT: ClientProfileUpdateSchema(),
        Role.PROVIDER: ProviderProfileUpdateSchema(),
    }
    entries = [(e, Role.CLIENT) for e in CLIENTS] + [(e, Role.PROVIDER) for e in ASSISTANTS + FIRMS]
    # Check every profile as the API would, before anything is written.
    changes = [
        schemas[role].load({"timezone": e["where"][0], "country": e["where"][1], **e["profile"]})
        for e, role in entries
    ]
    new, logins = 0, []
    for (entry, role), profile_changes in zip(entries, changes, strict=True):
        people = [(*entry["who"], "owner"), *entry.get("members", [])]
        users = []
        for local, name, about, _ in people:
            user, created = _account(f"{local}@{DOMAIN}", name, role, entry["where"])
            new += created
            users.append(user)
            logins.append((user.email, role.value, about))
        if "organization" in entry:
            _organize(entry, users, [member_role for *_, member_role in people])
        _fill_profile(users[0], role, profile_changes)
    return new, logins


def _account(email: str, name: str, role: Role, where: tuple[str, str]) -> tuple[User, bool]:
    user = accounts.find_user_by_email(email)
    if user is not None:
        return user, False
    timezone, country = where
    user = accounts.sign_up(
        email=email, password=PASSWORD, name=name, role=role, timezone=timezone, country=country
    )
    return user, True


def _organize(entry: dict[str, Any], users: list[User], roles: list[str]) -> None:
    owner = users[0]
    if organizations.membership_of(owner) is None:
        model = entry["profile"].get("service_model")
        organizations.create_organization(
            user=owner, name=entry["organization"], service_model=model
        )
    membership = organizations.membership_of(owner)
    assert membership is not None
    for user, role in zip(users[1:], roles[1:], strict=True):
        if organizations.membership_of(user) is None:
            organizations.add_member(
                actor=owner,
                organization_id=membership.organization_id,
                email=user.email,
                role=MemberRole(role),
            )


def _fill_profile(owner: User, role: Role, changes: dict[str, Any]) -> None:
    # A profile with no working hours was never filled in; one that has them is left alone.
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
            new, logins = seed_demo()
        except DomainError as exc:
            raise click.ClickException(f"{exc.message} {exc.details}") from None
        click.echo(f"Demo data ready ({new} new accounts). Password for every login: {PASSWORD}")
        rows = [("E-MAIL", "ROLE", "WHO"), *logins]
        width = max(len(email) for email, _, _ in rows)
        for email, role, about in rows:
            click.echo(f"{email:<{width}}  {role:<8}  {about}")
