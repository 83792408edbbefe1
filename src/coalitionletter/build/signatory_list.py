"""The list beside the letters: who a variant names, in print order, as CSV and JSON."""

from __future__ import annotations

import csv
import io
import json

from coalitionletter.build.output_files import PUBLIC
from coalitionletter.campaigns.definition import CampaignDefinition
from coalitionletter.campaigns.roster import Roster
from coalitionletter.campaigns.signatory_rows import COLUMNS, list_rows
from coalitionletter.spreadsheet_cells import safe_cell, spreadsheet_csv


def list_csv(names: Roster, *, variant: str) -> bytes:
    """The signatories a variant names, as CSV for spreadsheets (BOM, formula-safe cells)."""
    rows = list_rows(names, delivered=variant != PUBLIC, signers=False)
    buffer = io.StringIO(newline="")
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: safe_cell(str(v)) for k, v in row.items()})
    return spreadsheet_csv(buffer.getvalue()).encode("utf-8")


def list_json(names: Roster, definition: CampaignDefinition, *, variant: str) -> bytes:
    """The signatories a variant names, as JSON, with the count and how many are withheld."""
    delivered = variant != PUBLIC
    document = {
        "campaign": definition.slug,
        "text_hash": definition.text_hash,
        # Every language version's hash: a confirmation of any of them is in this list.
        "text_hashes": {v.language: v.text_hash for v in definition.versions},
        "variant": variant,
        "count": names.count,
        "withheld": names.withheld_count(delivered=delivered),
        "includes_stale_consent": names.includes_stale,
        "signatories": list_rows(names, delivered=delivered, signers=False),
    }
    return (json.dumps(document, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
