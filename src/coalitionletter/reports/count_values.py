"""Coordinators' counts as values: the numbers of one campaign, its rows, its facts.

What each number means, and the sums that always hold, is said in `reports`.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime

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
    "confirmed_current": "to the current text (printed)",
    "confirmed_stale": "to an earlier text (stale: not printed until reconfirmed)",
    "declined": "Declined",
    "withdrawn": "Withdrawn",
}
NO_COUNTRY = "(no country given)"
NO_TYPE = "(no type given)"


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
    confirmed_current: int = 0
    confirmed_stale: int = 0
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
            ("confirmed", ("confirmed_current", "confirmed_stale")),
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
class LetterNow:
    """What a campaign's files say now, which the database's copy may not yet.

    Its title, its deadline (letter.toml's) and the consent hashes that count as
    its current text; counts use them in place of the row `init` last synced.
    """

    title: str
    deadline: datetime | None
    hashes: frozenset[str]
    time_zone: str | None = None  # letter.toml's time_zone: where deadlines are shown


@dataclass(frozen=True)
class CampaignInfo:
    """What a count sheet says about the campaign itself."""

    id: int
    slug: str
    title: str
    deadline: datetime | None
    days_left: int | None
    is_open: bool
    time_zone: str | None = None  # letter.toml's time_zone: where the deadline is shown


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


def days_left(deadline: datetime | None, now: datetime, zone: str | None = None) -> int | None:
    """Calendar days from today to the deadline's day, both in the campaign's zone (UTC
    without one): 0 is today, negative is past."""
    if deadline is None:
        return None
    from coalitionletter.dates import day_in, time_zone

    where = time_zone(zone)
    return (day_in(deadline, where) - day_in(now, where)).days


def iso_time(value: datetime | None) -> str | None:
    """A time as ISO 8601 text, or None."""
    return value.isoformat() if value is not None else None
