"""E-mails people can read: one registry of every e-mail the product sends, rendered per
recipient from Jinja templates (`templates/email/<name>.txt` and `.html`, one base layout).

Money is shown with Babel in the recipient's locale (`$2,100.00`, `¥210,000`), times in the
recipient's time zone with its abbreviation, and links lead to the frontend's pages under
`FRONTEND_URL` (`EMAILS[name].link`), never to the API. Rendering reads only what it is
given (the recipient and a context of plain values), so it costs no SQL statement.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import jinja2
from babel.dates import format_skeleton, format_time
from babel.numbers import format_currency, get_currency_precision
from flask import current_app

from marketplace.jobs import outbox

#: Users have no locale of their own yet: e-mails are written in English and numbers and
#: dates follow US conventions ($2,100.00; Mon, Mar 9, 2026 11:00 AM).
DEFAULT_LOCALE = "en_US"

#: Where a user chooses which e-mails they get (a frontend page).
PREFERENCES_PATH = "/settings/notifications"


@dataclass(frozen=True)
class Kind:
    """A kind of notification: what the user sees in their preferences. `always` kinds
    (money, security, invitations one must answer) are e-mailed whatever the preferences."""

    description: str
    always: bool = False


#: Every notification kind, the unit of e-mail preferences (`User.email_opt_out`).
KINDS: dict[str, Kind] = {
    # account and security: always
    "account.welcome": Kind("Your new account", always=True),
    "account.security": Kind(
        "Your address, your password and sign-up attempts with your address", always=True
    ),
    "account.suspended": Kind("Suspension of your account", always=True),
    "account.two_factor": Kind("Two-factor sign-in turned on or off", always=True),
    "organization.invitation": Kind("Invitations to join an organization", always=True),
    # tasks and bids
    "task.status": Kind("Your task approved, not approved, expired or cancelled by a moderator"),
    "task.terms_changed": Kind("New confidential details to accept on a task you bid on"),
    "task_invitation": Kind("Clients inviting you to bid"),
    "bid.new": Kind("New bids on your tasks"),
    "bid.shortlisted": Kind("Your bid shortlisted"),
    "bid.declined": Kind("Your bid declined"),
    "bid.expired": Kind("Your bid closed with its task"),
    # moderation
    "report.outcome": Kind("What moderators did about your reports"),
    # contracts
    "contract.offered": Kind("Contract offers to accept (they expire)", always=True),
    "contract.accepted": Kind("Your offer accepted"),
    "contract.declined": Kind("Your offer declined"),
    "contract.expired": Kind("Offers expired or withdrawn"),
    "contract.terminated": Kind("Contracts ended"),
    "contract.paused": Kind("Contracts paused"),
    "contract.resumed": Kind("Contracts resumed"),
    "amendment.proposed": Kind("New terms proposed"),
    "amendment.accepted": Kind("Your proposed terms accepted"),
    "amendment.declined": Kind("Your proposed terms declined"),
    "amendment.withdrawn": Kind("Proposed terms withdrawn"),
    "amendment.lapsed": Kind("Your proposed terms lapsed"),
    "message.new": Kind("New messages"),
    "review.published": Kind("Reviews of your ended contracts published"),
    # the measured record: work reports and changes
    "work_report.filed": Kind("Work reports to confirm or contest"),
    "work_report.answered": Kind("Your work reports confirmed or contested"),
    "change.announced": Kind("Changes to adopt"),
    "change.progress": Kind("Your changes acknowledged or adopted"),
    "contract.sla": Kind("Service levels at risk, breached or recovered"),
    # milestones: the work
    "milestone.changes_requested": Kind("Changes requested on your work"),
    # money: always
    "milestone.funded": Kind("Milestones funded", always=True),
    "milestone.submitted": Kind("Work submitted for approval (released if unanswered)", True),
    "milestone.released": Kind("Payments released", always=True),
    "milestone.refund_requested": Kind("Refund requests (refunded if unanswered)", always=True),
    "milestone.refunded": Kind("Refunds", always=True),
    "milestone.disputed": Kind("Disputes", always=True),
    "milestone.resolved": Kind("Disputes settled", always=True),
    "milestone.escrow_aging": Kind("Money held in escrow for long", always=True),
    "payment.refunded": Kind("Payments returned", always=True),
    "payment.failed": Kind("Failed payments", always=True),
    "payment.chargeback": Kind("Card chargebacks (admins)", always=True),
    "invoice.issued": Kind("Weekly invoices of hourly contracts", always=True),
    "invoice.disputed": Kind("Disputed invoices", always=True),
    "invoice.payment": Kind("Invoices charged, or declined", always=True),
    "bonus.paid": Kind("Bonuses", always=True),
    "contract.weekly_limit": Kind("Weekly limits of hourly contracts changed"),
    "payment.transfer_reversed": Kind("Reversed transfers (admins)", always=True),
}

_TASK = "/tasks/{task_id}"
_CONTRACT = "/contracts/{contract_id}"
_MILESTONE = "/contracts/{contract_id}/milestones/{milestone_id}"
_WORK_REPORTS = "/contracts/{contract_id}/work-reports"
_CHANGES = "/contracts/{contract_id}/changes"
_INVOICE = "/contracts/{contract_id}/invoices/{invoice_id}"


@dataclass(frozen=True)
class Email:
    """One e-mail: its notification `kind`, its subject (a Jinja string over the context)
    and the frontend page it links to (a path whose fields are the ids it is about)."""

    kind: str
    subject: str
    link: str | None


#: Every e-mail the product sends, by template name (`templates/email/<name>.txt|.html`).
EMAILS: dict[str, Email] = {
    "account.welcome": Email("account.welcome", "Welcome to the marketplace", "/login"),
    "account.verify_email": Email(
        "account.security", "Confirm your e-mail address", "/verify-email#token={token}"
    ),
    "account.password_reset": Email(
        "account.security", "Choose a new password", "/reset-password#token={token}"
    ),
    "account.password_changed": Email("account.security", "Your password was changed", "/login"),
    "account.signup_attempt": Email(
        "account.security", "Someone tried to sign up with your e-mail address", "/login"
    ),
    "account.suspended": Email("account.suspended", "Your account is suspended", None),
    "account.two_factor_enabled": Email(
        "account.two_factor", "Two-factor sign-in is on for your account", "/settings/security"
    ),
    "account.two_factor_disabled": Email(
        "account.two_factor", "Two-factor sign-in is off for your account", "/settings/security"
    ),
    "organization.invitation": Email(
        "organization.invitation",
        "{{ inviter }} invited you to join {{ organization }}",
        "/invitations/{invitation_id}#token={token}",
    ),
    "task.approved": Email("task.status", "Your task is live: {{ task_title }}", _TASK),
    "task.rejected": Email("task.status", "Your task was not approved: {{ task_title }}", _TASK),
    "task.cancelled": Email(
        "task.status", "Your task was cancelled by a moderator: {{ task_title }}", _TASK
    ),
    "task.expired": Email("task.status", "Your task expired: {{ task_title }}", _TASK),
    "task.terms_changed": Email(
        "task.terms_changed", "New confidential details to accept: {{ task_title }}", _TASK
    ),
    "task_invitation": Email("task_invitation", "You are invited to bid: {{ task_title }}", _TASK),
    "bid.new": Email("bid.new", "New bid on {{ task_title }}", "/tasks/{task_id}/bids/{bid_id}"),
    "bid.shortlisted": Email("bid.shortlisted", "Shortlisted: {{ task_title }}", _TASK),
    "bid.declined": Email("bid.declined", "Bid declined: {{ task_title }}", _TASK),
    "bid.expired": Email("bid.expired", "Bid closed: {{ task_title }}", _TASK),
    "report.resolved": Email("report.outcome", "Your report was acted on", None),
    "report.dismissed": Email("report.outcome", "Your report was reviewed", None),
    "contract.offered": Email("contract.offered", "Contract offer: {{ task_title }}", _CONTRACT),
    "contract.full_offer": Email(
        "contract.offered", "Full contract offer: {{ task_title }}", _CONTRACT
    ),
    "contract.accepted": Email("contract.accepted", "Offer accepted: {{ task_title }}", _CONTRACT),
    "contract.declined": Email("contract.declined", "Offer declined: {{ task_title }}", _CONTRACT),
    "contract.expired": Email("contract.expired", "Offer expired: {{ task_title }}", _CONTRACT),
    "contract.withdrawn": Email("contract.expired", "Offer withdrawn: {{ task_title }}", _CONTRACT),
    "contract.terminated": Email(
        "contract.terminated", "Contract ended: {{ task_title }}", _CONTRACT
    ),
    "contract.paused": Email("contract.paused", "Contract paused: {{ task_title }}", _CONTRACT),
    "contract.resumed": Email("contract.resumed", "Contract resumed: {{ task_title }}", _CONTRACT),
    "amendment.proposed": Email(
        "amendment.proposed", "Amendment proposed: {{ task_title }}", _CONTRACT
    ),
    "amendment.accepted": Email(
        "amendment.accepted", "Amendment accepted: {{ task_title }}", _CONTRACT
    ),
    "amendment.declined": Email(
        "amendment.declined", "Amendment declined: {{ task_title }}", _CONTRACT
    ),
    "amendment.withdrawn": Email(
        "amendment.withdrawn", "Amendment withdrawn: {{ task_title }}", _CONTRACT
    ),
    "amendment.lapsed": Email("amendment.lapsed", "Amendment lapsed: {{ task_title }}", _CONTRACT),
    "message.new": Email("message.new", "New message: {{ conversation }}", "/messages/{thread_id}"),
    "review.published": Email(
        "review.published",
        "Reviews published: {{ task_title }}",
        "/contracts/{contract_id}/reviews",
    ),
    "work_report.filed": Email(
        "work_report.filed", "Work report to confirm: {{ task_title }}", _WORK_REPORTS
    ),
    "work_report.confirmed": Email(
        "work_report.answered", "Work report confirmed: {{ task_title }}", _WORK_REPORTS
    ),
    "work_report.contested": Email(
        "work_report.answered", "Work report contested: {{ task_title }}", _WORK_REPORTS
    ),
    "change.announced": Email(
        "change.announced", "Change to adopt: {{ change_title }} ({{ task_title }})", _CHANGES
    ),
    "change.acknowledged": Email(
        "change.progress", "Change acknowledged: {{ change_title }} ({{ task_title }})", _CHANGES
    ),
    "change.adopted": Email(
        "change.progress", "Change adopted: {{ change_title }} ({{ task_title }})", _CHANGES
    ),
    "sla.at_risk": Email("contract.sla", "SLA at risk: {{ metric }} ({{ task_title }})", _CONTRACT),
    "sla.breached": Email(
        "contract.sla", "SLA breached: {{ metric }} ({{ task_title }})", _CONTRACT
    ),
    "sla.recovered": Email(
        "contract.sla", "SLA recovered: {{ metric }} ({{ task_title }})", _CONTRACT
    ),
    "invoice.issued": Email(
        "invoice.issued", "Invoice for the week of {{ week }}: {{ task_title }}", _INVOICE
    ),
    "invoice.disputed": Email(
        "invoice.disputed", "Invoice disputed, week of {{ week }}: {{ task_title }}", _INVOICE
    ),
    "invoice.paid": Email(
        "invoice.payment", "Invoice paid, week of {{ week }}: {{ task_title }}", _INVOICE
    ),
    "invoice.payment_failed": Email(
        "invoice.payment",
        "Payment declined, week of {{ week }}: {{ task_title }} is paused",
        _INVOICE,
    ),
    "contract.weekly_limit": Email(
        "contract.weekly_limit", "Weekly limit changed: {{ task_title }}", _CONTRACT
    ),
    "bonus.paid": Email("bonus.paid", "A bonus for your work: {{ task_title }}", _CONTRACT),
    "milestone.funded": Email(
        "milestone.funded", "Milestone funded: {{ milestone_title }} ({{ task_title }})", _MILESTONE
    ),
    "milestone.submitted": Email(
        "milestone.submitted",
        "Milestone submitted: {{ milestone_title }} ({{ task_title }})",
        _MILESTONE,
    ),
    "milestone.approved": Email(
        "milestone.released",
        "Milestone approved: {{ milestone_title }} ({{ task_title }})",
        _MILESTONE,
    ),
    "milestone.auto_released": Email(
        "milestone.released",
        "Milestone released automatically: {{ milestone_title }} ({{ task_title }})",
        _MILESTONE,
    ),
    "milestone.changes_requested": Email(
        "milestone.changes_requested",
        "Changes requested: {{ milestone_title }} ({{ task_title }})",
        _MILESTONE,
    ),
    "milestone.refund_requested": Email(
        "milestone.refund_requested",
        "Refund requested: {{ milestone_title }} ({{ task_title }})",
        _MILESTONE,
    ),
    "milestone.refunded": Email(
        "milestone.refunded",
        "Milestone refunded: {{ milestone_title }} ({{ task_title }})",
        _MILESTONE,
    ),
    "milestone.disputed": Email(
        "milestone.disputed", "Dispute: {{ milestone_title }} ({{ task_title }})", _MILESTONE
    ),
    "dispute.evidence": Email(
        "milestone.disputed",
        "New evidence in a dispute: {{ milestone_title }} ({{ task_title }})",
        _MILESTONE,
    ),
    "milestone.frozen": Email(
        "milestone.disputed",
        "Milestone under review: {{ milestone_title }} ({{ task_title }})",
        _MILESTONE,
    ),
    "milestone.resolved": Email(
        "milestone.resolved",
        "Dispute resolved: {{ milestone_title }} ({{ task_title }})",
        _MILESTONE,
    ),
    "milestone.escrow_aging": Email(
        "milestone.escrow_aging",
        "Money held in escrow for long: {{ milestone_title }} ({{ task_title }})",
        _MILESTONE,
    ),
    "payment.refunded": Email(
        "payment.refunded",
        "Payment returned: {{ milestone_title }} ({{ task_title }})",
        _MILESTONE,
    ),
    "payment.failed": Email(
        "payment.failed", "Payment failed: {{ milestone_title }} ({{ task_title }})", _MILESTONE
    ),
    "payment.chargeback": Email(
        "payment.chargeback",
        "Card chargeback: {{ milestone_title }} ({{ task_title }})",
        _MILESTONE,
    ),
    "payment.transfer_reversed": Email(
        "payment.transfer_reversed",
        "Transfer reversed: {{ milestone_title }} ({{ task_title }})",
        _MILESTONE,
    ),
}


class Person(Protocol):
    """Whom an e-mail goes to (a User, or an address alone for an invitation)."""

    @property
    def email(self) -> str: ...

    @property
    def name(self) -> str | None: ...

    @property
    def timezone(self) -> str: ...


@dataclass(frozen=True)
class Address:
    """A recipient who may have no account yet: shown times in UTC."""

    email: str
    name: str | None = None
    timezone: str = "UTC"


@dataclass(frozen=True)
class Rendered:
    """An e-mail ready to queue: subject, plain-text and HTML parts."""

    subject: str
    body: str
    html: str


def emailed(kind: str, opt_out: list[str] | None) -> bool:
    """Whether a notification of `kind` is e-mailed to a user with these preferences."""
    return KINDS[kind].always or kind not in (opt_out or ())


def can_turn_off(kind: str) -> bool:
    """Whether a user may stop e-mails of this kind."""
    return not KINDS[kind].always


def frontend_url(path: str) -> str:
    """An absolute link to a frontend page."""
    return str(current_app.config["FRONTEND_URL"]).rstrip("/") + path


def link_path(name: str, ids: Mapping[str, Any]) -> str | None:
    """The frontend path an e-mail links to, from the ids it is about (None: no page)."""
    pattern = EMAILS[name].link
    return None if pattern is None else pattern.format_map(ids)


def _zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def format_money(value: Any, *, locale: str = DEFAULT_LOCALE) -> str:
    """Minor units with a currency (`Money`, or a mapping with `amount` and `currency`) as
    the recipient reads them: 210000 usd is `$2,100.00`, 210000 jpy is `¥210,000`."""
    if isinstance(value, Mapping):
        amount, currency = value["amount"], value["currency"]
    else:
        amount, currency = value.amount, value.currency
    code = str(currency).upper()
    major = Decimal(int(amount)).scaleb(-get_currency_precision(code))
    return str(format_currency(major, code, locale=locale))


def format_when(moment: datetime, *, timezone: str, locale: str = DEFAULT_LOCALE) -> str:
    """A UTC moment in the recipient's zone with the zone's abbreviation:
    `Mon, Mar 9, 2026 11:00 AM EDT` (zones without one show their offset, `GMT+08:00`)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    local = moment.astimezone(_zone(timezone))
    abbreviation = local.tzname() or ""
    if not abbreviation or abbreviation[0] in "+-":
        abbreviation = str(format_time(local, "ZZZZ", locale=locale))
    day = format_skeleton("yMMMEd", local, locale=locale)
    text = f"{day} {format_time(local, 'short', locale=locale)} {abbreviation}"
    return text.replace("\u202f", " ")  # CLDR's narrow space before AM/PM: plain in e-mail


@functools.cache
def _environment(html: bool) -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("marketplace", "templates/email"),
        autoescape=html,
        undefined=jinja2.StrictUndefined,  # a missing value fails the caller's test, not a reader
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    environment.filters["money"] = _money_filter
    environment.filters["when"] = _when_filter
    return environment


@jinja2.pass_context
def _money_filter(context: jinja2.runtime.Context, value: Any) -> str:
    return format_money(value, locale=context["locale"])


@jinja2.pass_context
def _when_filter(context: jinja2.runtime.Context, value: datetime | None) -> str:
    if value is None:  # (a date a row should hold but does not: say so, do not fail)
        return "a date not yet set"
    return format_when(value, timezone=context["timezone"], locale=context["locale"])


def subject(name: str, context: Mapping[str, Any]) -> str:
    """The e-mail's subject (also the in-app notification's), on one line."""
    text = _environment(False).from_string(EMAILS[name].subject).render(context)
    return " ".join(text.split())[:200]


def render(
    name: str, *, to: Person, context: Mapping[str, Any], ids: Mapping[str, Any]
) -> Rendered:
    """Render e-mail `name` for one recipient: both parts from the templates, in the
    recipient's zone, linking to the frontend page of `ids`."""
    email = EMAILS[name]
    path = link_path(name, ids)
    title = subject(name, context)
    values = {
        **context,
        "subject_line": title,
        "recipient_name": to.name,
        "timezone": to.timezone or "UTC",
        "locale": DEFAULT_LOCALE,
        "link": frontend_url(path) if path else None,
        "preferences_link": frontend_url(PREFERENCES_PATH),
        "can_turn_off": can_turn_off(email.kind),
        "kind_description": KINDS[email.kind].description,
    }
    return Rendered(
        subject=title,
        body=_environment(False).get_template(f"{name}.txt").render(values),
        html=_environment(True).get_template(f"{name}.html").render(values),
    )


def send(name: str, *, to: Person, context: Mapping[str, Any] | None = None, **ids: Any) -> None:
    """Render e-mail `name` for `to` and queue it in the current transaction."""
    mail = render(name, to=to, context=context or {}, ids=ids)
    outbox.enqueue_email(to=to.email, subject=mail.subject, body=mail.body, html=mail.html)
