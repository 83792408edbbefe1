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
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from coalitionletter.campaigns import roster
from coalitionletter.campaigns.definition import CampaignDefinition
from coalitionletter.registry.countries import country_name
from coalitionletter.spreadsheet_cells import safe_row

JSON_FORMAT = "coalitionletter.signatories/1"
CSV_COLUMNS = (
    "name",
    "country",
    "country_code",
    "type",
    "signer_name",
    "signer_title",
    "confirmed_on",
    "listing",
)


@dataclass(frozen=True)
class Entry:
    """One organisation as the export lists it."""

    name: str
    country: str
    country_code: str
    org_type: str
    signer_name: str
    signer_title: str
    confirmed_on: date | None
    listing: str

    def values(self) -> list[Any]:
        """The entry's values in CSV_COLUMNS order."""
        confirmed = self.confirmed_on.isoformat() if self.confirmed_on else ""
        return [
            self.name,
            self.country,
            self.country_code,
            self.org_type,
            self.signer_name,
            self.signer_title,
            confirmed,
            self.listing,
        ]


@dataclass(frozen=True)
class SignatoryList:
    """The organisations one copy of the letter names, and how many it leaves unnamed."""

    campaign_slug: str
    campaign_title: str
    delivered: bool
    signatory_count: int
    entries: tuple[Entry, ...]
    left_out: int
    stale_included: int


def _entry(signatory: roster.Signatory) -> Entry:
    return Entry(
        name=signatory.name,
        country=country_name(signatory.country),
        country_code=signatory.country or "",
        org_type=signatory.org_type or "",
        signer_name=signatory.signer_name or "",
        signer_title=signatory.signer_title or "",
        confirmed_on=signatory.confirmed_at.date() if signatory.confirmed_at else None,
        listing=signatory.listing,
    )


def signatory_list(
    session: Session,
    definition: CampaignDefinition,
    *,
    delivered: bool = False,
    allow_stale: bool = False,
) -> SignatoryList:
    """The organisations named in the public (default) or delivered letter, in print order."""
    named = roster.read_roster(session, definition, allow_stale=allow_stale)
    return SignatoryList(
        campaign_slug=definition.slug,
        campaign_title=definition.title,
        delivered=delivered,
        signatory_count=named.count,
        entries=tuple(_entry(s) for s in named.named(delivered=delivered)),
        left_out=named.withheld_count(delivered=delivered),
        stale_included=len(named.stale),
    )


def as_csv(listing: SignatoryList) -> str:
    """The list as CSV with a header row; every text cell is formula-safe."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    writer.writerows(safe_row(entry.values()) for entry in listing.entries)
    return buffer.getvalue()


def as_json(listing: SignatoryList) -> str:
    """The list in its documented JSON shape (see the README)."""
    document = {
        "format": JSON_FORMAT,
        "campaign": {"slug": listing.campaign_slug, "title": listing.campaign_title},
        "list": "delivered" if listing.delivered else "public",
        "signatory_count": listing.signatory_count,
        "named_count": len(listing.entries),
        "left_out_governments_only": listing.left_out,
        "signatories": [
            dict(zip(CSV_COLUMNS, entry.values(), strict=True)) for entry in listing.entries
        ],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def summary(listing: SignatoryList) -> str:
    """What the export holds, in words, for the person who ran it."""
    named = len(listing.entries)
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
            "named to governments only: do not publish it or send it beyond the recipients."
        )
    if listing.stale_included:
        lines.append(
            f"{listing.stale_included} confirmation(s) given to an earlier text are included "
            "(--allow-stale)."
        )
    return "\n".join(lines)
