"""Coordinators' counts: where a campaign's sign-on stands, counted by aggregate SQL.

Every number comes from one GROUP BY query with filtered COUNTs, so a campaign
with 100,000 invitations counts in a fraction of a second; no row is loaded
into Python to be counted.

What the numbers mean (the README's counts section says the same):

- invited: every organisation holding an invitation to the campaign, whatever
  its state now, including signatories loaded from a seed file, who confirmed
  without an email. It is the base of every percentage.
- not_answered: invited, and not (yet) confirmed, declined or withdrawn. It is
  split three ways, for the coordinator who chases:
  - viewed: opened their sign-on link at least once;
  - email_failed: never opened it, and every email sent to them failed;
  - not_viewed: the rest (not opened; no email known to have failed).
- confirmed: said yes; split by how they asked to be named into
  confirmed_governments_only (named only in the copies delivered to governments)
  and confirmed_public (all the others, as the letter's roster decides).
- declined, withdrawn: said no, or took a yes back.

The sums always hold, for the totals and for every row of every breakdown:

    invited      = not_answered + confirmed + declined + withdrawn
    not_answered = viewed + email_failed + not_viewed
    confirmed    = confirmed_public + confirmed_governments_only

and each breakdown's rows add up, key by key, to the totals. The totals of a
breakdown are computed as the sum of its rows, so this holds even while
answers arrive during the count.
"""

from __future__ import annotations

import csv
import io
import json
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.orm import Session

from coalitionletter.errors import CampaignError, CoalitionError
from coalitionletter.models import (
    Campaign,
    Invitation,
    InvitationState,
    Listing,
    MessageState,
    Organisation,
    OutboxMessage,
    utcnow,
)

JSON_FORMAT = "coalitionletter.counts/1"
OVERVIEW_FORMAT = "coalitionletter.counts-overview/1"
BREAKDOWNS = ("status", "country", "type")
# The breakdown by status: the leaves of the sums above, in the order they are shown.
STATUS_ROWS = ("confirmed", "declined", "withdrawn", "viewed", "not_viewed", "email_failed")
STATUS_LABELS = {
    "invited": "Invited",
    "not_answered": "Not yet answered",
    "viewed": "opened the link",
    "not_viewed": "not opened",
    "email_failed": "email failed",
    "confirmed": "Confirmed",
    "confirmed_public": "named publicly",
    "confirmed_governments_only": "named to governments only",
    "declined": "Declined",
    "withdrawn": "Withdrawn",
}
NO_COUNTRY = "(no country given)"
NO_TYPE = "(no type given)"


class ReportError(CoalitionError):
    """A count was refused (unknown breakdown) or the data does not add up."""


@dataclass(frozen=True)
class StateCounts:
    """The counts of one campaign, or of one row of a breakdown (see the module doc)."""

    invited: int = 0
    not_answered: int = 0
    viewed: int = 0
    not_viewed: int = 0
    email_failed: int = 0
    confirmed: int = 0
    confirmed_public: int = 0
    confirmed_governments_only: int = 0
    declined: int = 0
    withdrawn: int = 0

    def __add__(self, other: StateCounts) -> StateCounts:
        return StateCounts(**{k: getattr(self, k) + getattr(other, k) for k in KEYS})

    def as_dict(self) -> dict[str, int]:
        """The counts keyed by their documented names, in documented order."""
        return {key: getattr(self, key) for key in KEYS}

    def percent(self) -> dict[str, float]:
        """Each count as a percentage of those invited, one decimal (0.0 if none invited)."""
        return {key: percent_of(getattr(self, key), self.invited) for key in KEYS}

    def problems(self) -> list[str]:
        """The sums that do not hold (empty when the counts are consistent)."""
        checks = [
            ("invited", ("not_answered", "confirmed", "declined", "withdrawn")),
            ("not_answered", ("viewed", "email_failed", "not_viewed")),
            ("confirmed", ("confirmed_public", "confirmed_governments_only")),
        ]
        found = []
        for whole, parts in checks:
            total = sum(getattr(self, part) for part in parts)
            if total != getattr(self, whole):
                found.append(
                    f"{whole} is {getattr(self, whole)} but {' + '.join(parts)} is {total}"
                )
        return found


KEYS = tuple(f.name for f in fields(StateCounts))


def percent_of(part: int, whole: int) -> float:
    """`part` as a percentage of `whole`, rounded to one decimal; 0.0 when whole is 0."""
    return round(100.0 * part / whole, 1) if whole else 0.0


@dataclass(frozen=True)
class Row:
    """One row of a breakdown: a country, a type of organisation or a status."""

    key: str | None
    label: str
    counts: StateCounts


@dataclass(frozen=True)
class CampaignInfo:
    """What a count sheet says about the campaign itself."""

    id: int
    slug: str
    title: str
    deadline: datetime | None
    days_left: int | None
    is_open: bool


@dataclass(frozen=True)
class CampaignCounts:
    """The counts of one campaign, with an optional breakdown."""

    campaign: CampaignInfo
    as_of: datetime
    totals: StateCounts
    by: str | None
    rows: tuple[Row, ...]


@dataclass(frozen=True)
class Overview:
    """One line per campaign."""

    as_of: datetime
    lines: tuple[tuple[CampaignInfo, StateCounts], ...]


def days_left(deadline: datetime | None, now: datetime) -> int | None:
    """Calendar days (UTC) from today to the deadline's day: 0 is today, negative is past."""
    if deadline is None:
        return None
    return (deadline.date() - now.date()).days


def _campaign_info(campaign: Any, now: datetime) -> CampaignInfo:
    """What a count says about a campaign, from its row or any object with its columns."""
    closed = campaign.closed_at is not None and campaign.closed_at <= now
    passed = campaign.deadline is not None and campaign.deadline <= now
    return CampaignInfo(
        id=campaign.id,
        slug=campaign.slug,
        title=campaign.title,
        deadline=campaign.deadline,
        days_left=days_left(campaign.deadline, now),
        is_open=not (closed or passed),
    )


# The columns a count needs of a campaign, read as a plain row rather than an ORM object.
_CAMPAIGN_COLUMNS = (
    Campaign.id,
    Campaign.slug,
    Campaign.title,
    Campaign.deadline,
    Campaign.closed_at,
)


def find_campaign(session: Session, slug: str, now: datetime | None = None) -> CampaignInfo:
    """The campaign registered under `slug`, or a CampaignError naming those that exist."""
    row = session.execute(select(*_CAMPAIGN_COLUMNS).where(Campaign.slug == slug)).one_or_none()
    if row is not None:
        return _campaign_info(row, now or utcnow())
    known = session.scalars(select(Campaign.slug).order_by(Campaign.slug)).all()
    listing = ", ".join(known) if known else "none yet"
    raise CampaignError(
        f"There is no campaign {slug!r} in the database (campaigns: {listing}). "
        "Check the name, or run `coalitionletter init` to register the campaigns in letters/."
    )


def all_emails_failed() -> ColumnElement[bool]:
    """True for an invitation with at least one email, every one of which failed."""
    failed = OutboxMessage.state == MessageState.FAILED.value
    emails = select(OutboxMessage.id).where(OutboxMessage.invitation_id == Invitation.id)
    # Correlated EXISTS on ix_outbox_invitation_id: SQLite evaluates them only for the
    # rows the conditions before them leave (unanswered, unopened), which beat a
    # GROUP BY over the whole outbox fivefold at 100,000 invitations.
    return and_(emails.where(failed).exists(), ~emails.where(~failed).exists())


def _count_columns() -> list[ColumnElement[int]]:
    """The counts SQL computes; `_state_counts` derives the two others from them.

    not_viewed (not_answered - viewed - email_failed) and confirmed_public
    (confirmed - confirmed_governments_only) are left to subtraction because
    viewed_at is either set or not and the listing either is governments-only or
    not: the same numbers, with one of the two all-failed probes per unanswered
    row and two filtered COUNTs fewer (the count over 100,000 invitations
    took a quarter longer with them). The states are still counted one by one, so
    a state this version does not know still fails the invited sum.
    """
    unanswered = Invitation.state == InvitationState.INVITED.value
    confirmed = Invitation.state == InvitationState.CONFIRMED.value
    governments_only = func.coalesce(Invitation.listing, "") == Listing.GOVERNMENTS_ONLY.value
    conditions = {
        "not_answered": unanswered,
        "viewed": and_(unanswered, Invitation.viewed_at.is_not(None)),
        "email_failed": and_(unanswered, Invitation.viewed_at.is_(None), all_emails_failed()),
        "confirmed": confirmed,
        "confirmed_governments_only": and_(confirmed, governments_only),
        "declined": Invitation.state == InvitationState.DECLINED.value,
        "withdrawn": Invitation.state == InvitationState.WITHDRAWN.value,
    }
    # COUNT(id): an outer-joined campaign with no invitation counts 0, not 1. The
    # filtered ones count rows (a NULL row never passes a filter), which SQLite
    # does without reading a column.
    columns = [func.count(Invitation.id).label("invited")]
    columns += [func.count().filter(condition).label(key) for key, condition in conditions.items()]
    return columns


def _state_counts(row: Any) -> StateCounts:
    counts = {key: int(getattr(row, key)) for key in SQL_KEYS}
    counts["not_viewed"] = counts["not_answered"] - counts["viewed"] - counts["email_failed"]
    counts["confirmed_public"] = counts["confirmed"] - counts["confirmed_governments_only"]
    return StateCounts(**counts)


SQL_KEYS = (
    "invited",
    "not_answered",
    "viewed",
    "email_failed",
    "confirmed",
    "confirmed_governments_only",
    "declined",
    "withdrawn",
)


def _checked(counts: StateCounts, where: str) -> StateCounts:
    problems = counts.problems()
    if problems:
        raise ReportError(
            f"The counts for {where} do not add up ({'; '.join(problems)}): some invitations "
            "are in a state or listing this version does not know. Upgrade coalitionletter "
            "or report this; nothing was changed."
        )
    return counts


def _totals(session: Session, campaign: CampaignInfo) -> StateCounts:
    query = select(*_count_columns()).where(Invitation.campaign_id == campaign.id)
    return _checked(_state_counts(session.execute(query).one()), campaign.slug)


def _grouped(session: Session, campaign: CampaignInfo, column: Any) -> list[tuple[str | None, Any]]:
    query = (
        select(column.label("key"), *_count_columns())
        .join(Organisation, Organisation.id == Invitation.organisation_id)
        .where(Invitation.campaign_id == campaign.id)
        .group_by(column)
    )
    return [(row.key, _state_counts(row)) for row in session.execute(query)]


def _country_label(code: str | None) -> str:
    if code is None:
        return NO_COUNTRY
    from coalitionletter.countries import country_name

    return country_name(code)


def _ordered(rows: list[Row]) -> tuple[Row, ...]:
    # Alphabetical by what is printed, the rows without a value last: a stable order.
    return tuple(sorted(rows, key=lambda row: (row.key is None, row.label.casefold())))


def _status_rows(totals: StateCounts) -> tuple[Row, ...]:
    rows = []
    for key in STATUS_ROWS:
        value = getattr(totals, key)
        parts: dict[str, int] = {"invited": value, key: value}
        if key in {"viewed", "not_viewed", "email_failed"}:
            parts["not_answered"] = value
        if key == "confirmed":
            parts["confirmed_public"] = totals.confirmed_public
            parts["confirmed_governments_only"] = totals.confirmed_governments_only
        label = STATUS_LABELS[key]
        if key in {"viewed", "not_viewed", "email_failed"}:
            label = f"Not yet answered, {label}"
        rows.append(Row(key=key, label=label, counts=StateCounts(**parts)))
    return tuple(rows)


def _breakdown(session: Session, campaign: CampaignInfo, by: str) -> tuple[Row, ...]:
    if by == "country":
        grouped = _grouped(session, campaign, Organisation.country)
        return _ordered([Row(key, _country_label(key), counts) for key, counts in grouped])
    grouped = _grouped(session, campaign, Organisation.org_type)
    return _ordered([Row(key, key if key else NO_TYPE, counts) for key, counts in grouped])


def campaign_counts(
    session: Session, slug: str, by: str | None = None, now: datetime | None = None
) -> CampaignCounts:
    """Count one campaign's invitations by state, optionally broken down (status, country, type)."""
    if by is not None and by not in BREAKDOWNS:
        raise ReportError(
            f"Cannot break the counts down by {by!r}; use one of: {', '.join(BREAKDOWNS)}."
        )
    now = now or utcnow()
    info = find_campaign(session, slug, now)
    if by in {"country", "type"}:
        rows = _breakdown(session, info, by)
        totals = _checked(sum((row.counts for row in rows), StateCounts()), slug)
    else:
        totals = _totals(session, info)
        rows = _status_rows(totals) if by == "status" else ()
    return CampaignCounts(campaign=info, as_of=now, totals=totals, by=by, rows=rows)


def overview(session: Session, now: datetime | None = None) -> Overview:
    """One line of counts per campaign, from one grouped query."""
    now = now or utcnow()
    query = (
        select(Campaign, *_count_columns())
        .select_from(Campaign)
        .outerjoin(Invitation, Invitation.campaign_id == Campaign.id)
        .group_by(Campaign.id)
        .order_by(Campaign.slug)
    )
    lines = []
    for row in session.execute(query):
        campaign: Campaign = row[0]
        counts = _checked(_state_counts(row), campaign.slug)
        lines.append((_campaign_info(campaign, now), counts))
    return Overview(as_of=now, lines=tuple(lines))


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def campaign_json(info: CampaignInfo) -> dict[str, Any]:
    """The `campaign` object of the JSON shape."""
    return {
        "slug": info.slug,
        "title": info.title,
        "deadline": _iso(info.deadline),
        "days_left": info.days_left,
        "open": info.is_open,
    }


def counts_json(counts: CampaignCounts) -> dict[str, Any]:
    """The documented JSON shape of one campaign's counts (see the README)."""
    breakdown = None
    if counts.by is not None:
        whole = counts.totals.invited
        breakdown = {
            "by": counts.by,
            "rows": [
                {
                    "key": row.key,
                    "label": row.label,
                    "share": percent_of(row.counts.invited, whole),
                    "counts": row.counts.as_dict(),
                    "percent": row.counts.percent(),
                }
                for row in counts.rows
            ],
        }
    return {
        "format": JSON_FORMAT,
        "as_of": _iso(counts.as_of),
        "campaign": campaign_json(counts.campaign),
        "totals": counts.totals.as_dict(),
        "percent": counts.totals.percent(),
        "breakdown": breakdown,
    }


def overview_json(summary: Overview) -> dict[str, Any]:
    """The documented JSON shape of the all-campaigns overview (see the README)."""
    return {
        "format": OVERVIEW_FORMAT,
        "as_of": _iso(summary.as_of),
        "campaigns": [
            {
                "campaign": campaign_json(info),
                "totals": totals.as_dict(),
                "percent": totals.percent(),
            }
            for info, totals in summary.lines
        ],
    }


def deadline_phrase(info: CampaignInfo) -> str:
    """The deadline in words: 'Deadline 31 August 2020 (12 days left)'."""
    if info.deadline is None:
        return "No deadline set" + ("" if info.is_open else " (sign-on closed)")
    day = f"{info.deadline.day} {info.deadline:%B %Y}"
    left = info.days_left or 0
    if not info.is_open:
        if left > 0:
            return f"Deadline {day} (sign-on closed early)"
        when = "today" if left == 0 else f"{-left} day{'s' if left != -1 else ''} ago"
        return f"Deadline {day} (closed {when})"
    if left == 0:
        return f"Deadline {day} (closes today, {info.deadline:%H:%M} UTC)"
    return f"Deadline {day} ({left} day{'s' if left != 1 else ''} left)"


def safe_cell(value: Any) -> str:
    """A CSV cell that a spreadsheet will not run as a formula (OWASP's leading quote)."""
    if isinstance(value, int | float):
        return str(value)  # numbers, negative ones too, are data, not formulas
    text = "" if value is None else str(value)
    if text and text[0] in FORMULA_STARTS:
        return "'" + text
    return text


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_row(values: Sequence[Any]) -> list[str]:
    """Every cell of a CSV row made formula-safe."""
    return [safe_cell(value) for value in values]


# --- text renderings: the terminal table and CSV ------------------------------------


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
    info = counts.campaign
    return [
        f"{info.title} ({info.slug})",
        deadline_phrase(info),
        f"Counted {counts.as_of:%d %B %Y %H:%M} UTC",
        "",
    ]


# The totals table: (key, indent) in the order the sums read.
TOTALS_LAYOUT = (
    ("invited", 0),
    ("confirmed", 1),
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
    "not_answered",
    "declined",
    "withdrawn",
    "email_failed",
)
COLUMN_TITLES = {
    "invited": "Invited",
    "confirmed": "Confirmed",
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
    headers.insert(3, "% confirmed")
    table_rows = []
    for label, row_counts in [
        *((r.label, r.counts) for r in counts.rows),
        ("Total", counts.totals),
    ]:
        cells = [label, *(str(getattr(row_counts, k)) for k in BREAKDOWN_COLUMNS)]
        cells.insert(3, f"{row_counts.percent()['confirmed']:.1f}%")
        table_rows.append(cells)
    return text_table(headers, table_rows)


def counts_table(counts: CampaignCounts) -> str:
    """One campaign's counts as the terminal shows them."""
    body = _breakdown_table(counts) if counts.by else _totals_table(counts.totals)
    return "\n".join([*_heading(counts), body])


def overview_table(summary: Overview) -> str:
    """The all-campaigns overview as the terminal shows it, one line per campaign."""
    if not summary.lines:
        return "No campaigns yet. Run `coalitionletter init` to register those in letters/."
    headers = ["Campaign", "Deadline", "Days left", *(COLUMN_TITLES[k] for k in BREAKDOWN_COLUMNS)]
    headers.insert(5, "% confirmed")
    rows = []
    for info, totals in summary.lines:
        deadline = f"{info.deadline:%Y-%m-%d}" if info.deadline else "none"
        days = "" if info.days_left is None else str(info.days_left)
        if info.deadline is not None and not info.is_open:
            days = "closed"
        cells = [info.slug, deadline, days, *(str(getattr(totals, k)) for k in BREAKDOWN_COLUMNS)]
        cells.insert(5, f"{totals.percent()['confirmed']:.1f}%")
        rows.append(cells)
    return text_table(headers, rows)


def _csv_text(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(safe_row(row) for row in rows)
    return buffer.getvalue()


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
            _iso(info.deadline) or "",
            "" if info.days_left is None else info.days_left,
            "yes" if info.is_open else "no",
            *totals.as_dict().values(),
        ]
        for info, totals in summary.lines
    ]
    return _csv_text(["campaign", "title", "deadline", "days_left", "open", *KEYS], rows)


def counts_text(counts: CampaignCounts, output_format: str) -> str:
    """One campaign's counts as `table`, `csv` or `json` text."""
    if output_format == "json":
        return json.dumps(counts_json(counts), indent=2, ensure_ascii=False) + "\n"
    return counts_csv(counts) if output_format == "csv" else counts_table(counts) + "\n"


def overview_text(summary: Overview, output_format: str) -> str:
    """The all-campaigns overview as `table`, `csv` or `json` text."""
    if output_format == "json":
        return json.dumps(overview_json(summary), indent=2, ensure_ascii=False) + "\n"
    return overview_csv(summary) if output_format == "csv" else overview_table(summary) + "\n"


def check_output_path(path: Path) -> None:
    """Refuse, before any work, a path that cannot be written: a missing folder, a folder."""
    if not path.parent.is_dir():
        raise ReportError(
            f"The folder {path.parent} does not exist. Create it or choose another path; "
            "nothing was written."
        )
    if path.is_dir():
        raise ReportError(f"{path} is a folder. Give a file name; nothing was written.")


def write_output(path: Path, data: bytes) -> None:
    """Write a file whole or not at all (a half-written sheet is worse than none)."""
    check_output_path(path)
    partial = path.with_name(f".{path.name}.partial")
    partial.write_bytes(data)
    partial.replace(path)
