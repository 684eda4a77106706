"""Users: find anyone by e-mail, name or organization; read a user's case on one page
(profile, tasks, bids, contracts, money, reports, audit); suspend or reinstate them; and
settle a suspended party's live contracts (pause, terminate, withdraw an offer), the other
party told, through the same services the API uses."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from flask import redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from marketplace.accounts import services as accounts
from marketplace.console import money  # noqa: F401  (the `major_units` filter)
from marketplace.console.actions import perform
from marketplace.console.exports import csv_response, wants_csv
from marketplace.console.site import page, page_number, render
from marketplace.contracts import offers
from marketplace.contracts import services as contracts
from marketplace.flows import contracts as contract_flows
from marketplace.pagination import paginate
from marketplace.reporting import operations, people

bp = page("users", __name__, url_prefix="/users")

#: A reason's limits, as the API's suspension schema has them.
REASON_MIN, REASON_MAX = 3, 2000

#: What the console can do to a live contract: (service, done message, audit action).
CONTRACT_ACTIONS: dict[str, tuple[Callable[..., Any], str, str]] = {
    "pause": (
        contracts.pause_for_moderation,
        "The contract is paused; both parties were told why.",
        "contract.pause",
    ),
    "terminate": (
        contract_flows.terminate_for_moderation,
        "The contract is terminated; both parties were told why.",
        "contract.terminate",
    ),
    "withdraw": (
        offers.withdraw_for_moderation,
        "The offer is withdrawn; both parties were told why.",
        "contract.withdraw_offer",
    ),
}


def reason_error(reason: str) -> str | None:
    """What is wrong with a reason typed in a form (None: nothing)."""
    if len(reason) < REASON_MIN:
        return "Give a reason: the user (or the parties) will read it."
    if len(reason) > REASON_MAX:
        return f"Keep the reason under {REASON_MAX} characters."
    return None


@bp.get("/")
def index() -> ResponseReturnValue:
    """Users, newest first, found by e-mail, name or organization."""
    text = request.args.get("q", "").strip()[:200]
    stmt = people.search_query(text)
    if wants_csv():
        return csv_response(
            "users",
            ("id", "email", "name", "role", "status", "organization", "country", "created_at"),
            (
                (u.id, u.email, u.name, u.role.value, u.status.value,
                 u.membership.organization.name if u.membership else "", u.country or "",
                 u.created_at)
                for u in operations.export_rows(stmt)
            ),
        )  # fmt: skip
    return render("console/users/index.html", q=text, page=paginate(stmt, page=page_number()))


def _show(user_id: uuid.UUID, *, status_code: int = 200, **context: Any) -> ResponseReturnValue:
    return render(
        "console/users/show.html",
        status_code=status_code,
        case=people.user_case(user_id),
        errors=context.pop("errors", {}),
        **context,
    )


@bp.get("/<uuid:user_id>")
def show(user_id: uuid.UUID) -> ResponseReturnValue:
    """One user's case, with the suspension and the contracts it leaves to settle."""
    return _show(user_id)


@bp.post("/<uuid:user_id>/suspend")
def suspend(user_id: uuid.UUID) -> ResponseReturnValue:
    """Suspend the user (signed out everywhere, tokens revoked) with the reason they read."""
    reason = request.form.get("reason", "").strip()
    problem = reason_error(reason)
    if problem:
        return _show(user_id, status_code=422, errors={"suspend": problem}, reason=reason)
    perform(
        lambda: accounts.suspend_user(
            admin=current_user, user=accounts.get_user(user_id), reason=reason
        ),
        action="suspend_user",
        target_type="user",
        target_id=user_id,
        done="The user is suspended and signed out everywhere. Settle their live contracts below.",
        reason=reason,
    )
    return redirect(url_for(".show", user_id=user_id))


@bp.post("/<uuid:user_id>/reinstate")
def reinstate(user_id: uuid.UUID) -> ResponseReturnValue:
    """Lift the user's suspension (they sign in afresh)."""
    perform(
        lambda: accounts.reinstate_user(admin=current_user, user=accounts.get_user(user_id)),
        action="reinstate_user",
        target_type="user",
        target_id=user_id,
        done="The user is reinstated: they can sign in again.",
    )
    return redirect(url_for(".show", user_id=user_id))


@bp.post("/<uuid:user_id>/contracts/<uuid:contract_id>/<any(pause, terminate, withdraw):move>")
def settle_contract(user_id: uuid.UUID, contract_id: uuid.UUID, move: str) -> ResponseReturnValue:
    """Pause or terminate a live contract of the user, or withdraw its offer, with the
    reason both parties are told."""
    service, done, action = CONTRACT_ACTIONS[move]
    reason = request.form.get("reason", "").strip()
    problem = reason_error(reason)
    if problem:
        return _show(user_id, status_code=422, errors={str(contract_id): problem})
    perform(
        lambda: service(admin=current_user, contract_id=contract_id, reason=reason),
        action=action,
        target_type="contract",
        target_id=contract_id,
        done=done,
        reason=reason,
    )
    return redirect(url_for(".show", user_id=user_id, _anchor="live-contracts"))
