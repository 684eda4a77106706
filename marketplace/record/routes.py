"""The measured record's endpoints: KPIs, SLA events, work reports, changes, reviews and
the providers' record."""

from __future__ import annotations

import uuid
from typing import Any

from flask_login import current_user, login_required

from marketplace.accounts.auth import admin_required
from marketplace.api import Blueprint
from marketplace.contracts import services as contracts
from marketplace.database import utcnow
from marketplace.extensions import db
from marketplace.matching import scoring
from marketplace.pagination import Page, PageArgsSchema, paginate
from marketplace.profiles.services import public_provider_profile
from marketplace.record import (
    changes,
    events,
    kpis,
    models,  # noqa: F401  (the tables, for the migrations)
    reports,
    reviews,
    standing,
)
from marketplace.record.models import Change, ProviderRecord, SlaEventKind, WorkReport
from marketplace.record.reviews import ShownReview
from marketplace.record.schemas import (
    ChangeInputSchema,
    ChangePageSchema,
    ChangeSchema,
    ContestSchema,
    ContractReviewsSchema,
    KpisSchema,
    ProviderRecordSchema,
    ProviderReviewPageSchema,
    ProviderReviewQuerySchema,
    ReviewInputSchema,
    ReviewSchema,
    SlaEventPageSchema,
    SlaEventQuerySchema,
    SlaStatsSchema,
    WorkReportInputSchema,
    WorkReportPageSchema,
    WorkReportSchema,
)

blp = Blueprint("record", __name__, url_prefix="/api/v1", description="Measured record")


# Reviews ----------------------------------------------------------------------------------


@blp.post("/contracts/<uuid:contract_id>/reviews")
@login_required
@blp.arguments(ReviewInputSchema, as_kwargs=True)
@blp.response(201, ReviewSchema)
@blp.errors(400, 401, 403, 404, 409, 422)
def post_review(
    contract_id: uuid.UUID, rating: int, sub_ratings: dict[str, int], text: str
) -> ShownReview:
    """Review the other side of an ended contract: once per side, within the review window.

    The contract must be completed or terminated (409 while it runs, or if it never
    started) and ended at most `REVIEW_WINDOW_DAYS` (14) days ago (409
    `review_window_closed`); each side reviews once (409 for a second review). The client
    side (an individual client, or a company's owner or manager) rates the provider, the
    provider side (an individual provider, or a firm's owner or manager) rates the client.

    Double-blind: the review stays hidden from everyone but your side until the other side
    has reviewed too (then both publish at once, at the second review) or the window
    closes (then it publishes alone, at the window's close); both sides are told when
    reviews publish. A review cannot be edited or withdrawn: there is no endpoint for it.
    """
    review = reviews.write_review(
        user=current_user,
        contract_id=contract_id,
        rating=rating,
        sub_ratings=sub_ratings,
        text=text,
    )
    return reviews.ShownReview(review, review.published_at)


@blp.get("/contracts/<uuid:contract_id>/reviews")
@login_required
@blp.response(200, ContractReviewsSchema)
@blp.errors(401, 404)
def contract_reviews(contract_id: uuid.UUID) -> dict[str, Any]:
    """The contract's published reviews, and your side's own hidden one (`published:
    false`); never the other side's hidden one. For the parties and admins."""
    contract, shown = reviews.contract_reviews(user=current_user, contract_id=contract_id)
    return {"items": shown, "window_closes_at": reviews.window_closes_at(contract)}


@blp.get("/providers/<uuid:profile_id>/reviews")
@blp.public
@blp.arguments(ProviderReviewQuerySchema, location="query", as_kwargs=True)
@blp.response(200, ProviderReviewPageSchema)
@blp.errors(404, 422)
def provider_reviews(profile_id: uuid.UUID, page: int, page_size: int | None) -> dict[str, Any]:
    """The published reviews of a provider by its clients, newest first, each with the
    client's name and the contract's task; `summary` has their average rating and count."""
    result, (average, count) = reviews.provider_reviews(
        profile_id=profile_id, page=page, page_size=page_size
    )
    return {
        "items": result.items,
        "page": result.page,
        "page_size": result.page_size,
        "total": result.total,
        "summary": {
            "average_rating": round(average, 2) if average is not None else None,
            "count": count,
        },
    }


# Work reports and changes ---------------------------------------------------------------


@blp.post("/contracts/<uuid:contract_id>/work-reports")
@login_required
@blp.arguments(WorkReportInputSchema)
@blp.response(201, WorkReportSchema)
@blp.errors(400, 401, 403, 404, 409, 422)
def file_work_report(figures: reports.ReportFigures, contract_id: uuid.UUID) -> WorkReport:
    """File the figures of a period of operations work (the provider side: BPO, VA, ITO).

    The period (dates in the client's zone, first and last included) has ended, started on
    or after the contract and spans at most 31 days; one overlapping a filed report is a
    409, as is a KPO contract or one not active or paused. Impossible figures are a 422
    naming each field. The client is told."""
    return reports.file_report(user=current_user, contract_id=contract_id, figures=figures)


@blp.get("/contracts/<uuid:contract_id>/work-reports")
@login_required
@blp.arguments(PageArgsSchema, location="query", as_kwargs=True)
@blp.response(200, WorkReportPageSchema)
@blp.errors(401, 404, 422)
def list_work_reports(contract_id: uuid.UUID, page: int, page_size: int | None) -> Page:
    """The contract's work reports (its parties and admins), the newest period first; each
    with its status as it counts now (unanswered for 7 days: confirmed)."""
    return paginate(
        reports.reports_query(user=current_user, contract_id=contract_id),
        page=page,
        page_size=page_size,
    )


@blp.post("/work-reports/<uuid:report_id>/confirm")
@login_required
@blp.response(200, WorkReportSchema)
@blp.errors(401, 403, 404, 409)
def confirm_work_report(report_id: uuid.UUID) -> WorkReport:
    """Confirm a report's figures (the client's owner or managers), also one you contested;
    the provider is told. A report confirmed already, or unanswered for 7 days, is a 409."""
    return reports.confirm(user=current_user, report_id=report_id)


@blp.post("/work-reports/<uuid:report_id>/contest")
@login_required
@blp.arguments(ContestSchema, as_kwargs=True)
@blp.response(200, WorkReportSchema)
@blp.errors(401, 403, 404, 409, 422)
def contest_work_report(report_id: uuid.UUID, reason: str) -> WorkReport:
    """Contest a report's figures, saying why (the client's owner or managers): they feed
    nothing until you confirm them. The provider is told."""
    return reports.contest(user=current_user, report_id=report_id, reason=reason)


@blp.post("/contracts/<uuid:contract_id>/changes")
@login_required
@blp.arguments(ChangeInputSchema, as_kwargs=True)
@blp.response(201, ChangeSchema)
@blp.errors(400, 401, 403, 404, 409, 422)
def announce_change(contract_id: uuid.UUID, title: str, description: str, to_adopt: str) -> Change:
    """Announce a policy, product or SOP change and what must be adopted (the client side);
    the provider is told, and the time to its adoption is the learning speed."""
    return changes.announce(
        user=current_user,
        contract_id=contract_id,
        title=title,
        description=description,
        to_adopt=to_adopt,
    )


@blp.get("/contracts/<uuid:contract_id>/changes")
@login_required
@blp.arguments(PageArgsSchema, location="query", as_kwargs=True)
@blp.response(200, ChangePageSchema)
@blp.errors(401, 404, 422)
def list_changes(contract_id: uuid.UUID, page: int, page_size: int | None) -> Page:
    """The contract's announced changes (its parties and admins), the newest first, each
    with its adoption time in service minutes and the target in service hours."""
    return changes.changes_page(
        user=current_user, contract_id=contract_id, page=page, page_size=page_size
    )


@blp.post("/changes/<uuid:change_id>/acknowledge")
@login_required
@blp.response(200, ChangeSchema)
@blp.errors(401, 403, 404, 409)
def acknowledge_change(change_id: uuid.UUID) -> Change:
    """Acknowledge an announced change (the provider side); the client is told."""
    return changes.acknowledge(user=current_user, change_id=change_id)


@blp.post("/changes/<uuid:change_id>/adopted")
@login_required
@blp.response(200, ChangeSchema)
@blp.errors(401, 403, 404, 409)
def adopt_change(change_id: uuid.UUID) -> Change:
    """Confirm a change adopted (the provider side; it counts as acknowledged too): the
    service minutes since its announcement are fixed. The client is told."""
    return changes.adopt(user=current_user, change_id=change_id)


# --- KPIs ------------------------------------------------------------------------------


@blp.get("/contracts/<uuid:contract_id>/kpis")
@login_required
@blp.response(200, KpisSchema)
@blp.errors(401, 404)
def contract_kpis(contract_id: uuid.UUID) -> dict[str, Any]:
    """The contract's KPIs against its targets, with a series per period (parties, admins)."""
    contract = contracts.get_contract(
        user=current_user, contract_id=contract_id, load=kpis.load_options()
    )
    result = kpis.contract_kpis(contract, now=utcnow())
    db.session.commit()  # the response samples the read brought up to date
    return result


# --- end of KPIs -----------------------------------------------------------------------


# SLA events ---------------------------------------------------------------------------


@blp.get("/contracts/<uuid:contract_id>/sla-events")
@login_required
@blp.arguments(SlaEventQuerySchema, location="query", as_kwargs=True)
@blp.response(200, SlaEventPageSchema)
@blp.errors(401, 404, 422)
def list_sla_events(
    contract_id: uuid.UUID,
    page: int,
    page_size: int | None,
    metric: str | None = None,
    kind: SlaEventKind | None = None,
) -> Page:
    """The contract's SLA events (at risk, breached, recovered), newest first."""
    return paginate(
        events.events_query(user=current_user, contract_id=contract_id, metric=metric, kind=kind),
        page=page,
        page_size=page_size,
    )


@blp.get("/admin/stats/slas")
@admin_required
@blp.response(200, SlaStatsSchema)
@blp.errors(401, 403)
def sla_stats() -> dict[str, int]:
    """SLA breaches of the last 7 and 30 days, and contracts with one unrecovered (admins)."""
    return events.stats()


# end of SLA events ---------------------------------------------------------------------


# --- The provider's record ------------------------------------------------------------
@blp.get("/providers/<uuid:profile_id>/record")
@blp.public
@blp.response(200, ProviderRecordSchema)
@blp.errors(404)
def get_provider_record(profile_id: uuid.UUID) -> dict[str, Any]:
    """A provider's measured record across its contracts (a firm's: all its contracts),
    over the last 12 months and all time; no figure shows from fewer than 3 samples."""
    profile = public_provider_profile(profile_id)
    stored = db.session.get(ProviderRecord, profile.id)
    if stored is not None:
        figures, computed_at, score = stored.figures, stored.computed_at, stored.score
    else:
        computed_at = utcnow()
        figures = standing.record_of(
            profile.id, now=computed_at, first_responses=standing.first_responses
        )
        score = scoring.record_score(figures)
    return {
        "provider_id": profile.id,
        "computed_at": computed_at,
        "min_samples": standing.MIN_SAMPLES,
        "windows": {"last_12_months": figures["12m"], "all_time": figures["all"]},
        "score": score,
    }
