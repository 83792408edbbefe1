"""The signatory list's one description: its columns, and one row per organisation named.

The build's `signatories.csv`/`.json` beside the letters and `export` both write
these rows, so the two lists have the same columns, in the same order, with the
same values, and both follow the letter's print order (headings included).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from coalitionletter.campaigns.roster import Roster, Signatory

# The columns of every signatory list, in order (the README lists them).
COLUMNS: tuple[str, ...] = (
    "position",
    "name",
    "group",
    "country",
    "country_code",
    "type",
    "signer_name",
    "signer_title",
    "confirmed_on",
    "listing",
)

CountryNamer = Callable[[str | None], str]


def _row(
    position: int,
    heading: str | None,
    signatory: Signatory,
    country_name: Callable[[str | None], str],
    signers: bool,
) -> dict[str, Any]:
    confirmed = signatory.confirmed_at
    shown = signers or signatory.signer_public
    row = {
        "position": position,
        "name": signatory.name,
        "group": heading or "",
        "country": country_name(signatory.country),
        "country_code": signatory.country or "",
        "type": signatory.org_type or "",
        "signer_name": (signatory.signer_name or "") if shown else "",
        "signer_title": (signatory.signer_title or "") if shown else "",
        "confirmed_on": confirmed.date().isoformat() if confirmed else "",
        "listing": signatory.listing,
    }
    return {column: row[column] for column in COLUMNS}


def list_rows(names: Roster, *, delivered: bool, signers: bool) -> list[dict[str, Any]]:
    """The organisations a delivered (all) or public copy names, as rows in print order.

    The signer's name and title are people's names at organisations some of
    which are at risk: every list fills them in where the signer agreed to the
    public list (`signer_public`, asked on the sign-on form, no by default), and
    `signers` fills in every other one too (the delivered export for the
    recipients); elsewhere they are left empty.
    """
    # Imported here: pycountry's tables load only when a list is actually written.
    from coalitionletter.registry.countries import country_name

    rows: list[dict[str, Any]] = []
    for group in names.groups(delivered=delivered):
        for signatory in group.signatories:
            rows.append(_row(len(rows) + 1, group.heading, signatory, country_name, signers))
    return rows
