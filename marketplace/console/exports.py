"""Lists as CSV files: every console list offers its rows as `?format=csv`."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from flask import Response, request

#: A cell starting with one of these is read as a formula by spreadsheets: it is prefixed
#: with a quote, so a user's text cannot run in a moderator's spreadsheet.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def wants_csv() -> bool:
    """Whether the request asks for the list as CSV (`?format=csv`)."""
    return request.args.get("format") == "csv"


def cell(value: Any) -> str:
    """One value as CSV text: dates in ISO 8601 (UTC), None as empty, formulas defused."""
    if value is None:
        return ""
    text = value.astimezone(UTC).isoformat() if isinstance(value, datetime) else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_response(name: str, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Response:
    """A CSV download named `<name>-<date>.csv` with a header row."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows([cell(value) for value in row] for row in rows)
    stamp = datetime.now(UTC).strftime("%Y-%m-%d")
    return Response(
        buffer.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}-{stamp}.csv"'},
    )
