"""The list beside the letters: who a variant names, in print order, as CSV and JSON."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from coalitionletter.build.output_files import PUBLIC
from coalitionletter.campaigns.definition import CampaignDefinition
from coalitionletter.campaigns.roster import Roster, Signatory
from coalitionletter.spreadsheet_cells import safe_cell


def _list_rows(names: Roster, *, delivered: bool) -> list[dict[str, Any]]:
    rows = []
    position = 0
    for group in names.groups(delivered=delivered):
        for signatory in group.signatories:
            position += 1
            rows.append(_list_row(position, group.heading, signatory))
    return rows


def _list_row(position: int, heading: str | None, s: Signatory) -> dict[str, Any]:
    return {
        "position": position,
        "name": s.name,
        "group": heading or "",
        "country": s.country or "",
        "type": s.org_type or "",
        "listing": s.listing,
        "confirmed_on": s.confirmed_at.date().isoformat() if s.confirmed_at else "",
    }


def list_csv(names: Roster, *, variant: str) -> bytes:
    """The signatories a variant names, as CSV, every cell safe from spreadsheet formulas."""
    rows = _list_rows(names, delivered=variant != PUBLIC)
    buffer = io.StringIO(newline="")
    columns = ["position", "name", "group", "country", "type", "listing", "confirmed_on"]
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: safe_cell(str(v)) for k, v in row.items()})
    return buffer.getvalue().encode("utf-8")


def list_json(names: Roster, definition: CampaignDefinition, *, variant: str) -> bytes:
    """The signatories a variant names, as JSON, with the count and how many are withheld."""
    delivered = variant != PUBLIC
    document = {
        "campaign": definition.slug,
        "text_hash": definition.text_hash,
        "variant": variant,
        "count": names.count,
        "withheld": names.withheld_count(delivered=delivered),
        "includes_stale_consent": names.includes_stale,
        "signatories": _list_rows(names, delivered=delivered),
    }
    return (json.dumps(document, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
