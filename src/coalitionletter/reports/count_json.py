"""The documented JSON shapes of the counts (the README shows them)."""

from __future__ import annotations

from typing import Any

from coalitionletter.reports.count_values import (
    CampaignCounts,
    CampaignInfo,
    Overview,
    iso_time,
    percent_of,
)

JSON_FORMAT = "coalitionletter.counts/1"
OVERVIEW_FORMAT = "coalitionletter.counts-overview/1"


def campaign_json(info: CampaignInfo) -> dict[str, Any]:
    """The `campaign` object of the JSON shape."""
    return {
        "slug": info.slug,
        "title": info.title,
        "deadline": iso_time(info.deadline),
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
        "as_of": iso_time(counts.as_of),
        "campaign": campaign_json(counts.campaign),
        "totals": counts.totals.as_dict(),
        "percent": counts.totals.percent(),
        "breakdown": breakdown,
    }


def overview_json(summary: Overview) -> dict[str, Any]:
    """The documented JSON shape of the all-campaigns overview (see the README)."""
    return {
        "format": OVERVIEW_FORMAT,
        "as_of": iso_time(summary.as_of),
        "campaigns": [
            {
                "campaign": campaign_json(info),
                "totals": totals.as_dict(),
                "percent": totals.percent(),
            }
            for info, totals in summary.lines
        ],
    }
