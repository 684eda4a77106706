"""Disputes: the open queue (oldest first), one dispute's case on a page, and its
resolution by a split of the money held: the amounts prefilled and checked, a confirmation
step showing what will move, then `payments.disputes.resolve` (the service behind
`POST /api/v1/admin/disputes/{id}/resolve`) and the ledger lines it posted."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from flask import redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from marketplace.console import money
from marketplace.console.actions import perform
from marketplace.console.exports import csv_response, wants_csv
from marketplace.console.site import page, page_number, render
from marketplace.inputs import Money
from marketplace.pagination import paginate
from marketplace.payments import disputes
from marketplace.reporting import disputes as cases
from marketplace.reporting import operations
from marketplace.reporting.disputes import DisputeCase

bp = page("disputes", __name__, url_prefix="/disputes")

#: A resolution note's limits, as the API's schema has them.
NOTE_MIN, NOTE_MAX = 3, 2000


@bp.get("/")
def index() -> ResponseReturnValue:
    """Open disputes, oldest first: nobody waits longest."""
    stmt = cases.open_queue()
    if wants_csv():
        return csv_response(
            "open-disputes",
            ("id", "opened_at", "side", "reason", "task", "milestone", "amount", "currency",
             "client", "provider"),
            (
                (d.id, d.created_at, d.side, d.reason, d.milestone.contract.task.title,
                 d.milestone.title, money.field_value(d.milestone.amount, d.milestone.currency),
                 d.milestone.currency.upper(), d.milestone.contract.client_profile.display_name,
                 d.milestone.contract.provider_profile.display_name)
                for d in operations.export_rows(stmt)
            ),
        )  # fmt: skip
    return render("console/disputes/index.html", page=paginate(stmt, page=page_number()))


@dataclass
class Split:
    """The split form: the amounts as typed, what they are in minor units, what is wrong."""

    release_text: str
    refund_text: str
    note: str
    release: int = 0
    refund: int = 0
    errors: dict[str, str] = field(default_factory=dict)


def suggested_split(case: DisputeCase) -> Split:
    """Half and half of the money held (an odd minor unit goes to the provider)."""
    currency = case.milestone.currency
    refund = case.held // 2
    release = case.held - refund
    return Split(
        release_text=money.field_value(release, currency),
        refund_text=money.field_value(refund, currency),
        note="",
        release=release,
        refund=refund,
    )


def read_split(case: DisputeCase) -> Split:
    """The split posted, checked: amounts in major units (Decimal), not negative, in the
    currency's minor unit, adding up to the money held; and a note."""
    form = request.form
    split = Split(
        release_text=form.get("release", "").strip(),
        refund_text=form.get("refund", "").strip(),
        note=form.get("note", "").strip(),
    )
    currency = case.milestone.currency
    for name in ("release", "refund"):
        try:
            setattr(split, name, money.parse_major(getattr(split, f"{name}_text"), currency))
        except money.AmountError as error:
            split.errors[name] = str(error)
    if not split.errors and split.release + split.refund != case.held:
        split.errors["total"] = (
            f"The release and the refund must add up to "
            f"{money.major_units(case.held, currency)}, the amount held; they add up to "
            f"{money.major_units(split.release + split.refund, currency)}."
        )
    if len(split.note) < NOTE_MIN:
        split.errors["note"] = "Write the note both parties will read (why this split)."
    elif len(split.note) > NOTE_MAX:
        split.errors["note"] = f"Keep the note under {NOTE_MAX} characters."
    return split


def _show(case: DisputeCase, split: Split, *, status_code: int = 200) -> ResponseReturnValue:
    return render("console/disputes/show.html", status_code=status_code, case=case, split=split)


@bp.get("/<uuid:dispute_id>")
def show(dispute_id: uuid.UUID) -> ResponseReturnValue:
    """The dispute's case, and the split form (or, resolved, what moved)."""
    case = cases.dispute_case(admin=current_user, dispute_id=dispute_id)
    return _show(case, suggested_split(case))


@bp.post("/<uuid:dispute_id>/check")
def check(dispute_id: uuid.UUID) -> ResponseReturnValue:
    """The confirmation step: what the split would move, to confirm or go back. Nothing
    moves here."""
    case = cases.dispute_case(admin=current_user, dispute_id=dispute_id)
    split = read_split(case)
    if split.errors:
        return _show(case, split, status_code=422)
    currency = case.milestone.currency
    # The confirmation carries the amounts as read, not as typed (`250` is `250.00`).
    split.release_text = money.field_value(split.release, currency)
    split.refund_text = money.field_value(split.refund, currency)
    preview = cases.split_preview(case, release=split.release, refund=split.refund)
    return render("console/disputes/confirm.html", case=case, split=split, preview=preview)


@bp.post("/<uuid:dispute_id>/resolve")
def resolve(dispute_id: uuid.UUID) -> ResponseReturnValue:
    """Resolve the dispute with the confirmed split (checked again: the form may have been
    changed), through the service the API uses; then show the ledger lines it posted."""
    case = cases.dispute_case(admin=current_user, dispute_id=dispute_id)
    split = read_split(case)
    if split.errors:
        return _show(case, split, status_code=422)
    currency = case.milestone.currency
    perform(
        lambda: disputes.resolve(
            admin=current_user,
            dispute_id=dispute_id,
            release_amount=Money(split.release, currency),
            refund_amount=Money(split.refund, currency),
            note=split.note,
        ),
        action="dispute.resolve",
        target_type="dispute",
        target_id=dispute_id,
        done=f"The dispute is resolved: {money.major_units(split.release, currency)} released "
        f"to the provider, {money.major_units(split.refund, currency)} refunded to the client.",
        reason=split.note,
    )
    return redirect(url_for(".show", dispute_id=dispute_id, _anchor="ledger"))
