"""The final list as data: the organisations named in the letter, as CSV or JSON.

Who is named comes from the roster, the same function the letters are built
from, so the export always matches the letter: the same names as printed, in
the same order, the same stale-consent rule. The public list (the default)
leaves out every organisation that asked to be named to governments only and
says how many; the delivered list names everyone and must not be published.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from coalitionletter import events
from coalitionletter.campaigns import roster
from coalitionletter.campaigns.catalogue import campaign_row
from coalitionletter.campaigns.definition import CampaignDefinition
from coalitionletter.campaigns.signatory_rows import COLUMNS, list_rows
from coalitionletter.signon.audit import require_intact
from coalitionletter.spreadsheet_cells import safe_row, spreadsheet_csv

JSON_FORMAT = "coalitionletter.signatories/1"
# The trail's kind for a copy taken that names organisations withheld from the public.
DELIVERED_TAKEN = "delivered_exported"


@dataclass(frozen=True)
class SignatoryList:
    """The organisations one copy of the letter names, and how many it leaves unnamed."""

    campaign_slug: str
    campaign_title: str
    delivered: bool
    signatory_count: int
    rows: tuple[dict[str, Any], ...]
    left_out: int
    stale_included: int
    # (printed, registry) names of the listed organisations printed otherwise than the
    # registry has them, and (proposed, printed) of those whose correction awaits staff.
    renamed: tuple[tuple[str, str], ...] = ()
    pending: tuple[tuple[str, str], ...] = ()


def signatory_list(
    session: Session,
    definition: CampaignDefinition,
    *,
    delivered: bool = False,
    allow_stale: bool = False,
) -> SignatoryList:
    """The organisations named in the public (default) or delivered letter, in print order.

    Refused (TrailError) when a row disagrees with the campaign's trail.
    """
    require_intact(session, definition.slug)
    named = roster.read_roster(session, definition, allow_stale=allow_stale)
    listed = named.named(delivered=delivered)
    return SignatoryList(
        campaign_slug=definition.slug,
        campaign_title=definition.title,
        delivered=delivered,
        signatory_count=named.count,
        rows=tuple(list_rows(named, delivered=delivered, signers=delivered)),
        left_out=named.withheld_count(delivered=delivered),
        stale_included=len(named.stale),
        renamed=tuple((s.name, s.registry_name) for s in listed if s.renamed),
        pending=tuple((s.proposed_name, s.name) for s in listed if s.proposed_name),
    )


def as_csv(listing: SignatoryList) -> str:
    """The list as CSV for spreadsheets: a BOM, a header row, every text cell formula-safe."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    writer.writerows(safe_row([row[column] for column in COLUMNS]) for row in listing.rows)
    return spreadsheet_csv(buffer.getvalue())


def as_json(listing: SignatoryList) -> str:
    """The list in its documented JSON shape (see the README)."""
    document = {
        "format": JSON_FORMAT,
        "campaign": {"slug": listing.campaign_slug, "title": listing.campaign_title},
        "list": "delivered" if listing.delivered else "public",
        "signatory_count": listing.signatory_count,
        "named_count": len(listing.rows),
        "left_out_governments_only": listing.left_out,
        "signatories": list(listing.rows),
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def summary(listing: SignatoryList) -> str:
    """What the export holds, in words, for the person who ran it."""
    named = len(listing.rows)
    lines = [
        f"{named} of {listing.signatory_count} signatories of {listing.campaign_slug} listed "
        f"({'delivered' if listing.delivered else 'public'} list)."
    ]
    if listing.left_out:
        were = "was" if listing.left_out == 1 else "were"
        lines.append(
            f"{listing.left_out} organisation{'s' if listing.left_out != 1 else ''} named to "
            f"governments only {were} left out; say '{listing.signatory_count} organisations "
            "signed' but do not name them."
        )
    if listing.delivered:
        lines.append(
            "WARNING: this is the delivered list. It names organisations that asked to be "
            "named to governments only: do not publish it or send it beyond the recipients. "
            "Taking it is recorded in the campaign's trail."
        )
    if listing.stale_included:
        lines.append(
            f"{listing.stale_included} confirmation(s) given to an earlier text are included "
            "(--allow-stale)."
        )
    if listing.renamed:
        lines.append(
            f"{len(listing.renamed)} name(s) are listed otherwise than the registry has them "
            "(approved corrections); check them before sending:"
        )
        lines.extend(f"  {printed!r} for {registry!r}" for printed, registry in listing.renamed)
    if listing.pending:
        lines.append(
            f"{len(listing.pending)} proposed name(s) await approval and are NOT listed (the "
            f"name listed now is): decide with `coalitionletter names {listing.campaign_slug}`."
        )
        lines.extend(f"  {proposed!r} for {printed!r}" for proposed, printed in listing.pending)
    return "\n".join(lines)


def note_delivered_taken(session: Session, slug: str, *, actor: str, what: dict[str, str]) -> None:
    """Record in the campaign's trail that `actor` took a copy naming withheld organisations.

    `what` says which copy: {"list": "delivered", "format": "csv"} for the delivered
    list (`export --delivered`, or the console's), {"file": NAME} for a built file.
    """
    campaign = campaign_row(session, slug)
    events.record_for(session, campaign, kind=DELIVERED_TAKEN, actor=actor, detail=what)
