"""The counts as text: the terminal's tables and CSV."""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Sequence
from typing import Any

from coalitionletter.reports.count_values import (
    KEYS,
    STATUS_LABELS,
    CampaignCounts,
    CampaignInfo,
    Overview,
    StateCounts,
    iso_time,
    percent_of,
)
from coalitionletter.spreadsheet_cells import safe_row, spreadsheet_csv


def deadline_phrase(info: CampaignInfo) -> str:
    """The deadline in words, in the campaign's zone, named:
    'Deadline 31 August 2020, 17:00 (United Kingdom Time): 12 days left'."""
    from coalitionletter.dates import format_deadline

    if info.deadline is None:
        return "No deadline set" + ("" if info.is_open else " (sign-on closed)")
    deadline = f"Deadline {format_deadline(info.deadline, info.time_zone)}"
    left = info.days_left or 0
    if not info.is_open:
        if left > 0:
            return f"{deadline}: sign-on closed early"
        when = "today" if left == 0 else f"{-left} day{'s' if left != -1 else ''} ago"
        return f"{deadline}: closed {when}"
    if left == 0:
        return f"{deadline}: closes today"
    return f"{deadline}: {left} day{'s' if left != 1 else ''} left"


def _width(text: str) -> int:
    """Columns a text takes in a terminal (wide East Asian characters take two)."""
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def text_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A plain-text table: the first column left-aligned, the others right-aligned."""
    widths = [
        max(_width(str(cell)) for cell in column) for column in zip(headers, *rows, strict=True)
    ]

    def line(cells: Sequence[str]) -> str:
        parts = []
        for number, (cell, width) in enumerate(zip(cells, widths, strict=True)):
            pad = " " * (width - _width(cell))
            parts.append(cell + pad if number == 0 else pad + cell)
        return "  ".join(parts).rstrip()

    rule = "  ".join("-" * width for width in widths)
    return "\n".join([line(headers), rule, *(line(row) for row in rows)])


def _heading(counts: CampaignCounts) -> list[str]:
    from coalitionletter.dates import WORDS_LOCALE, format_moment, time_zone

    info = counts.campaign
    counted = format_moment(counts.as_of, time_zone(info.time_zone), WORDS_LOCALE)
    return [f"{info.title} ({info.slug})", deadline_phrase(info), f"Counted {counted}", ""]


# The totals table: (key, indent) in the order the sums read.
TOTALS_LAYOUT = (
    ("invited", 0),
    ("confirmed", 1),
    ("confirmed_current", 2),
    ("confirmed_stale", 2),
    ("confirmed_public", 2),
    ("confirmed_governments_only", 2),
    ("declined", 1),
    ("withdrawn", 1),
    ("not_answered", 1),
    ("viewed", 2),
    ("not_viewed", 2),
    ("email_failed", 2),
)
BREAKDOWN_COLUMNS = (
    "invited",
    "confirmed",
    "confirmed_stale",
    "not_answered",
    "declined",
    "withdrawn",
    "email_failed",
)
COLUMN_TITLES = {
    "invited": "Invited",
    "confirmed": "Confirmed",
    "confirmed_stale": "of which stale",
    "not_answered": "Not answered",
    "declined": "Declined",
    "withdrawn": "Withdrawn",
    "email_failed": "Email failed",
}
BY_TITLES = {"status": "Status", "country": "Country", "type": "Type"}


def _totals_table(totals: StateCounts) -> str:
    percent = totals.percent()
    rows = [
        ["  " * indent + STATUS_LABELS[key], str(getattr(totals, key)), f"{percent[key]:.1f}%"]
        for key, indent in TOTALS_LAYOUT
    ]
    return text_table(["", "count", "of invited"], rows)


def _breakdown_table(counts: CampaignCounts) -> str:
    if counts.by == "status":
        whole = counts.totals.invited
        rows = [
            [row.label, str(row.counts.invited), f"{percent_of(row.counts.invited, whole):.1f}%"]
            for row in counts.rows
        ]
        rows.append(["Total invited", str(whole), f"{percent_of(whole, whole):.1f}%"])
        return text_table(["Status", "count", "of invited"], rows)
    headers = [BY_TITLES[counts.by or ""], *(COLUMN_TITLES[k] for k in BREAKDOWN_COLUMNS)]
    headers.insert(4, "% confirmed")
    table_rows = []
    for label, row_counts in [
        *((r.label, r.counts) for r in counts.rows),
        ("Total", counts.totals),
    ]:
        cells = [label, *(str(getattr(row_counts, k)) for k in BREAKDOWN_COLUMNS)]
        cells.insert(4, f"{row_counts.percent()['confirmed']:.1f}%")
        table_rows.append(cells)
    return text_table(headers, table_rows)


def counts_table(counts: CampaignCounts) -> str:
    """One campaign's counts as the terminal shows them."""
    body = _breakdown_table(counts) if counts.by else _totals_table(counts.totals)
    return "\n".join([*_heading(counts), body])


def _deadline_day(info: CampaignInfo) -> str:
    """The deadline's day in the campaign's zone, as every date is written: '31 August 2020'."""
    from coalitionletter.dates import WORDS_LOCALE, day_in, deadline_zone, format_day

    if info.deadline is None:
        return "none"
    local = day_in(info.deadline, deadline_zone(info.deadline, info.time_zone))
    return format_day(local, WORDS_LOCALE)


def overview_table(summary: Overview) -> str:
    """The all-campaigns overview as the terminal shows it, one line per campaign."""
    if not summary.lines:
        return "No campaigns yet. Run `coalitionletter init` to register those in letters/."
    headers = ["Campaign", "Deadline", "Days left", *(COLUMN_TITLES[k] for k in BREAKDOWN_COLUMNS)]
    headers.insert(6, "% confirmed")
    rows = []
    for info, totals in summary.lines:
        deadline = _deadline_day(info)
        days = "" if info.days_left is None else str(info.days_left)
        if info.deadline is not None and not info.is_open:
            days = "closed"
        cells = [info.slug, deadline, days, *(str(getattr(totals, k)) for k in BREAKDOWN_COLUMNS)]
        cells.insert(6, f"{totals.percent()['confirmed']:.1f}%")
        rows.append(cells)
    return text_table(headers, rows)


def _csv_text(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(safe_row(row) for row in rows)
    return spreadsheet_csv(buffer.getvalue())


def counts_csv(counts: CampaignCounts) -> str:
    """One campaign's counts as CSV: a row per breakdown row, then the total row."""
    rows = [[row.key or "", row.label, *row.counts.as_dict().values()] for row in counts.rows]
    rows.append(["total", "Total", *counts.totals.as_dict().values()])
    return _csv_text(["key", "label", *KEYS], rows)


def overview_csv(summary: Overview) -> str:
    """The all-campaigns overview as CSV, one row per campaign."""
    rows = [
        [
            info.slug,
            info.title,
            iso_time(info.deadline) or "",
            "" if info.days_left is None else info.days_left,
            "yes" if info.is_open else "no",
            *totals.as_dict().values(),
        ]
        for info, totals in summary.lines
    ]
    return _csv_text(["campaign", "title", "deadline", "days_left", "open", *KEYS], rows)
