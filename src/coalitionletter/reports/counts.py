"""Coordinators' counts: where a campaign's sign-on stands, counted by aggregate SQL.

Every number comes from one GROUP BY query with filtered COUNTs (two of them
by subtracting counted ones), so a campaign with 100,000 invitations counts in
a fraction of a second; no row is loaded into Python to be counted.

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
  and confirmed_public (all the others, as the letter's roster decides); and
  split again by the text they agreed to into confirmed_current (the current
  text: what a build prints) and confirmed_stale (an earlier text: not printed
  until they reconfirm).
- declined, withdrawn: said no, or took a yes back.

The sums always hold, for the totals and for every row of every breakdown:

    invited      = not_answered + confirmed + declined + withdrawn
    not_answered = viewed + email_failed + not_viewed
    confirmed    = confirmed_public + confirmed_governments_only
    confirmed    = confirmed_current + confirmed_stale

and each breakdown's rows add up, key by key, to the totals. The totals of a
breakdown are computed as the sum of its rows, so this holds even while
answers arrive during the count.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Mapping
from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session

from coalitionletter.campaigns.definition import CampaignDefinition
from coalitionletter.errors import CampaignError, ReportError
from coalitionletter.models import Organisation, utcnow
from coalitionletter.private_files import write_private
from coalitionletter.reports import count_queries
from coalitionletter.reports.count_json import (
    counts_json,
    overview_json,
)
from coalitionletter.reports.count_queries import find_campaign
from coalitionletter.reports.count_text import (
    counts_csv,
    counts_table,
    overview_csv,
    overview_table,
)
from coalitionletter.reports.count_values import (
    BREAKDOWNS,
    NO_COUNTRY,
    NO_TYPE,
    STATUS_LABELS,
    STATUS_ROWS,
    CampaignCounts,
    CampaignInfo,
    LetterNow,
    Overview,
    Row,
    StateCounts,
)
from coalitionletter.settings import Settings


def _country_label(code: str | None) -> str:
    if code is None:
        return NO_COUNTRY
    from coalitionletter.registry.countries import country_name

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
            for part in (
                "confirmed_public",
                "confirmed_governments_only",
                "confirmed_current",
                "confirmed_stale",
            ):
                parts[part] = getattr(totals, part)
        label = STATUS_LABELS[key]
        if key in {"viewed", "not_viewed", "email_failed"}:
            label = f"Not yet answered, {label}"
        rows.append(Row(key=key, label=label, counts=StateCounts(**parts)))
    return tuple(rows)


def _breakdown(
    session: Session, campaign: CampaignInfo, by: str, current: Collection[str]
) -> tuple[Row, ...]:
    if by == "country":
        grouped = count_queries.grouped(session, campaign, Organisation.country, current)
        return _ordered([Row(key, _country_label(key), counts) for key, counts in grouped])
    grouped = count_queries.grouped(session, campaign, Organisation.org_type, current)
    return _ordered([Row(key, key if key else NO_TYPE, counts) for key, counts in grouped])


def letter_now(session: Session, definition: CampaignDefinition) -> LetterNow:
    """What a campaign's files say now, for counting: title, deadline, zone, current text."""
    from coalitionletter.signon.consent import current_hashes

    return LetterNow(
        definition.title,
        definition.deadline,
        current_hashes(session, definition),
        definition.time_zone,
    )


def letters_now(
    settings: Settings, session: Session, slugs: Iterable[str]
) -> tuple[dict[str, LetterNow], dict[str, CampaignError]]:
    """What each campaign's files say now, by slug, and why those that cannot be read cannot.

    The one way the CLI's `counts` and the console's list and dashboard learn a
    campaign's title, deadline, time zone and current text: days left are then
    counted in the campaign's own zone everywhere. A campaign whose files cannot be
    read is left out (its database copy of the title and deadline is shown, in UTC).
    """
    from coalitionletter.campaigns import catalogue

    found: dict[str, LetterNow] = {}
    unreadable: dict[str, CampaignError] = {}
    for slug in slugs:
        try:
            found[slug] = letter_now(session, catalogue.load_current(settings, session, slug))
        except CampaignError as problem:
            unreadable[slug] = problem
    return found, unreadable


def campaign_counts(
    session: Session,
    slug: str,
    by: str | None = None,
    now: datetime | None = None,
    *,
    letter: LetterNow | None = None,
) -> CampaignCounts:
    """Count one campaign's invitations by state, optionally broken down (status, country, type).

    `letter` is what the campaign's files say now: its title and deadline, and the
    hashes of the text organisations sign now; confirmations of any other text count
    as stale. Without it the database's copy of the title and deadline is shown and
    none is counted stale.
    """
    current = letter.hashes if letter is not None else frozenset()
    if by is not None and by not in BREAKDOWNS:
        raise ReportError(
            f"Cannot break the counts down by {by!r}; use one of: {', '.join(BREAKDOWNS)}."
        )
    now = now or utcnow()
    info = find_campaign(session, slug, now, letter)
    if by in {"country", "type"}:
        rows = _breakdown(session, info, by, current)
        totals = count_queries.checked(sum((row.counts for row in rows), StateCounts()), slug)
    else:
        totals = count_queries.totals(session, info, current)
        rows = _status_rows(totals) if by == "status" else ()
    return CampaignCounts(campaign=info, as_of=now, totals=totals, by=by, rows=rows)


def overview(
    session: Session,
    now: datetime | None = None,
    *,
    letters: Mapping[str, LetterNow] | None = None,
) -> Overview:
    """One line of counts per campaign, from one grouped query (`letters`: see campaign_counts)."""
    now = now or utcnow()
    lines = count_queries.per_campaign(session, now, letters or {})
    return Overview(as_of=now, lines=tuple(lines))


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


def check_output_path(path: Path, *, overwrite: bool = True) -> None:
    """Refuse, before any work, a path that cannot be written (or, unless asked, replaced)."""
    if not overwrite and path.is_file():
        raise ReportError(
            f"{path} already exists. Pass --force to replace it, or choose another file; "
            "nothing was written."
        )
    if not path.parent.is_dir():
        raise ReportError(
            f"The folder {path.parent} does not exist. Create it or choose another path; "
            "nothing was written."
        )
    if path.is_dir():
        raise ReportError(f"{path} is a folder. Give a file name; nothing was written.")


def write_output(path: Path, data: bytes) -> None:
    """Write a file whole or not at all (a half-written sheet is worse than none), owner-only.

    Every report names organisations, some of whom asked not to be named in public.
    """
    check_output_path(path)
    write_private(path, data)
