"""The dashboard: what needs attention now (each count links to its queue), and the
platform's figures of the last weeks as charts drawn on the server."""

from __future__ import annotations

from datetime import date

from flask import url_for
from flask.typing import ResponseReturnValue

from marketplace.console.charts import Chart, Series
from marketplace.console.site import page, page_url, render
from marketplace.reporting import platform

bp = page("dashboard", __name__)


def week_label(day: date) -> str:
    """`Feb 16`: a week by its Monday."""
    return f"{day:%b} {day.day}"


def money(minor: float) -> str:
    """Minor units as major ones: `1,250` or `1,250.50`."""
    major = minor / 100
    return f"{major:,.0f}" if major == int(major) else f"{major:,.2f}"


def percent(share: float) -> str:
    return f"{share:.0%}"


def hours(value: float) -> str:
    return f"{value:,.1f} h"


def money_charts(weeks: int) -> list[Chart]:
    """Gross volume and fees, and escrow held, per currency."""
    charts = []
    for currency, series in platform.money_by_week(weeks=weeks).items():
        labels = [week_label(w.week) for w in series]
        code = currency.upper()
        charts += [
            Chart(
                title=f"Gross volume and fees by week ({code})",
                description=f"Money clients paid into escrow each week, and the platform's "
                f"fees earned, in {code}, over the last {weeks} weeks.",
                labels=labels,
                series=[
                    Series("Gross volume", [w.gross for w in series]),
                    Series("Fees", [w.fees for w in series]),
                ],
                format=money,
                floor=400,
            ),
            Chart(
                title=f"Escrow held at each week's end ({code})",
                description=f"Money in escrow at the end of each week (now, for this week), "
                f"in {code}.",
                labels=labels,
                series=[Series("Escrow held", [w.escrow for w in series])],
                kind="line",
                format=money,
                floor=400,
            ),
        ]
    return charts


def rate_charts(weeks: int) -> list[Chart]:
    """Dispute rate, time to first bid and fill rate by week."""
    disputes = platform.dispute_rate_by_week(weeks=weeks)
    waits = platform.first_bid_by_week(weeks=weeks)
    fills = platform.fill_rate_by_week(weeks=weeks)
    return [
        Chart(
            title="Dispute rate by funding week",
            description="Of the milestones funded each week, the share a party has disputed.",
            labels=[week_label(r.week) for r in disputes],
            series=[Series("Disputed", [r.rate for r in disputes])],
            kind="line",
            format=percent,
            maximum=1.0,
        ),
        Chart(
            title="Time to first bid (median) by opening week",
            description="For the tasks opened each week, the median hours until their first "
            "bid (tasks without a bid yet are left out).",
            labels=[week_label(w.week) for w in waits],
            series=[Series("Median hours", [w.median_hours for w in waits])],
            format=hours,
            floor=4,
        ),
        Chart(
            title="Fill rate by opening week",
            description="Of the tasks opened each week, the share that found their provider.",
            labels=[week_label(r.week) for r in fills],
            series=[Series("Filled", [r.rate for r in fills])],
            format=percent,
            maximum=1.0,
        ),
    ]


def pilot_chart() -> Chart:
    """Completed pilots and those extended into a full contract."""
    pilots = platform.pilot_conversion()
    done, converted = pilots["completed_pilots"], pilots["converted"]
    rate = f"{converted / done:.0%}" if done else "no completed pilots yet"
    return Chart(
        title=f"Pilot conversion ({rate})",
        description=f"{done} completed pilot contracts; {converted} became a full contract "
        "the provider accepted.",
        labels=["Completed pilots", "Converted"],
        series=[Series("Contracts", [done, converted])],
        format=lambda value: f"{value:,.0f}",
        category="Contracts",
        floor=4,
    )


@bp.get("/")
def index() -> ResponseReturnValue:
    """What needs attention now, and the figures of the last eight weeks."""
    now = platform.attention()
    weeks = platform.WEEKS
    queues = [
        ("Tasks in review", now.tasks_in_review, page_url("console.tasks.index")),
        ("Open reports", now.open_reports, page_url("console.reports.index")),
        ("Open disputes", now.open_disputes, page_url("console.disputes.index")),
        ("Escrow past the age guard", now.aged_escrow, None),  # no list of its own yet
        (
            "Failed outbox entries",
            now.failed_outbox,
            url_for("console.operations.outbox_entries", status="failed"),
        ),
        ("Contracts with an SLA breach", now.sla_breaches, None),
    ]
    return render(
        "console/dashboard.html",
        queues=queues,
        money_charts=money_charts(weeks),
        rate_charts=rate_charts(weeks),
        pilot_chart=pilot_chart(),
        weeks=weeks,
    )
