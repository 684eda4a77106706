"""The console's server-drawn SVG charts."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from marketplace.console.charts import Chart, Series, nice_ceiling, svg

SVG = "{http://www.w3.org/2000/svg}"


@pytest.mark.parametrize(
    ("value", "top"),
    [(0, 1), (0.3, 0.4), (1, 1), (3, 4), (4, 4), (5, 8), (9, 10), (400, 400), (401, 800)],
)
def test_the_axis_ends_on_a_round_number(value, top):
    assert nice_ceiling(value) == pytest.approx(top)


def test_a_bar_chart_is_an_accessible_image_with_one_bar_per_value():
    chart = Chart(
        title="Gross <volume>",
        description="Paid in & earned.",
        labels=["Feb 2", "Feb 9", "Feb 16"],
        series=[Series("Gross", [100, 0, 300]), Series("Fees", [10, None, 30])],
        floor=4,
    )
    root = ET.fromstring(str(svg(chart)))
    assert root.get("role") == "img"
    title, desc = root.find(f"{SVG}title"), root.find(f"{SVG}desc")
    assert title is not None and title.text == "Gross <volume>"
    assert desc is not None and desc.text == "Paid in & earned."
    assert root.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
    bars = root.findall(f"{SVG}rect")
    assert len(bars) == 5  # the gap (None) draws nothing
    tips = [bar.find(f"{SVG}title").text for bar in bars]  # type: ignore[union-attr]
    assert "Gross, Feb 16: 300" in tips and "Fees, Feb 2: 10" in tips
    labels = [text.text for text in root.findall(f"{SVG}text")]
    assert labels[:5] == ["0", "100", "200", "300", "400"]  # the y axis, up to 400
    assert labels[5:] == ["Feb 2", "Feb 9", "Feb 16"]
    assert chart.rows() == [
        ("Feb 2", ["100", "10"]),
        ("Feb 9", ["0", ""]),
        ("Feb 16", ["300", "30"]),
    ]


def test_a_line_chart_joins_its_points():
    chart = Chart(
        title="Escrow",
        description="Held.",
        labels=["a", "b", "c"],
        series=[Series("Held", [1, 2, 3])],
        kind="line",
    )
    root = ET.fromstring(str(svg(chart)))
    assert len(root.findall(f"{SVG}circle")) == 3
    assert len(root.findall(f"{SVG}polyline")) == 1
