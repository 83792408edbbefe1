"""The campaign's trail as staff read it, and the check that the records still match it.

`check` recomputes the chain, replays the outcome of every entry that changed an
invitation and compares the last one with each invitation row: a state, listing,
agreed text or organisation changed by hand, a row added or deleted by hand, or
a transition missing from between two others (its version skipped) is named by
organisation. The chain's head is shown as an anchor (`12:3fa9...`); kept outside
the database and given back with `--expect`, it shows a chain rewound or rewritten
as a whole, which nothing inside the database can.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from coalitionletter import events
from coalitionletter.campaigns.catalogue import not_registered
from coalitionletter.catalogs import N_
from coalitionletter.errors import CampaignError, SignOnError, TrailError
from coalitionletter.models import Campaign, Event, Invitation, Organisation


def _organisation_names(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = session.execute(
        select(Organisation.id, Organisation.name).where(Organisation.id.in_(ids))
    )
    return {organisation_id: name for organisation_id, name in rows}


_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]")


def _visible(value: str) -> str:
    """A value on one line with its control characters shown, not obeyed."""
    return _CONTROL.sub(lambda m: m.group(0).encode("unicode_escape").decode("ascii"), value)


def _detail(raw: str) -> str:
    try:
        values = json.loads(raw)
    except ValueError:
        return raw
    return ", ".join(f"{key}={value}" for key, value in sorted(values.items()))


@dataclass(frozen=True)
class Entry:
    """One event of the trail, as the CLI prints it and the console shows it."""

    seq: int
    created_at: datetime
    kind: str
    organisation_id: int | None
    organisation: str  # the name, or "-" for an event about no organisation
    actor: str
    ip: str | None
    text_hash: str | None
    detail: str


@dataclass(frozen=True)
class Filters:
    """Which events to show: all of them when every field is empty."""

    organisation: str = ""  # part of the organisation's name, any case
    kind: str = ""
    since: date | None = None  # from the start of this day (UTC)
    until: date | None = None  # to the end of this day (UTC)


def _query(slug: str, filters: Filters) -> Select[Event]:
    query = select(Event).where(Event.chain == events.campaign_chain(slug))
    if filters.kind:
        query = query.where(Event.kind == filters.kind)
    if filters.since is not None:
        query = query.where(Event.created_at >= datetime.combine(filters.since, time(), UTC))
    if filters.until is not None:
        end = datetime.combine(filters.until + timedelta(days=1), time(), UTC)
        query = query.where(Event.created_at < end)
    return query.order_by(Event.seq)


def entries(session: Session, slug: str, filters: Filters | None = None) -> list[Entry]:
    """The events of a campaign that pass the filters, oldest first; unknown campaign: error."""
    campaign_id(session, slug)
    filters = filters or Filters()
    rows = list(session.scalars(_query(slug, filters)))
    names = _organisation_names(session, {e.organisation_id for e in rows if e.organisation_id})
    wanted = filters.organisation.strip().casefold()
    found = []
    for event in rows:
        who = "-"
        if event.organisation_id:
            who = names.get(event.organisation_id, f"organisation #{event.organisation_id}")
        if wanted and (not event.organisation_id or wanted not in who.casefold()):
            continue
        found.append(
            Entry(
                seq=event.seq,
                created_at=event.created_at,
                kind=event.kind,
                organisation_id=event.organisation_id,
                organisation=who,
                actor=event.actor,
                ip=event.ip,
                text_hash=event.text_hash,
                detail=_detail(event.detail),
            )
        )
    return found


def kinds(session: Session, slug: str) -> list[str]:
    """The kinds of event a campaign's trail holds, for choosing one."""
    query = select(Event.kind).where(Event.chain == events.campaign_chain(slug)).distinct()
    return sorted(session.scalars(query))


def line(entry: Entry) -> str:
    """One event on one line, control characters shown rather than obeyed."""
    parts = [
        f"{entry.seq:>5}",
        entry.created_at.strftime("%Y-%m-%d %H:%M:%S UTC"),
        f"{entry.kind:<22}",
        entry.organisation,
        f"by {entry.actor}",
    ]
    if entry.ip:
        parts.append(f"from {entry.ip}")
    if entry.text_hash:
        parts.append(f"text {entry.text_hash[:12]}")
    if entry.detail:
        parts.append(f"({entry.detail})")
    return _visible("  ".join(parts))


def lines(session: Session, slug: str) -> list[str]:
    """One line per event of a campaign, oldest first; an unknown campaign is an error."""
    return [line(entry) for entry in entries(session, slug)]


def campaign_id(session: Session, slug: str) -> int:
    """The id of the campaign with this slug, or a CampaignError naming the ones there are."""
    found = session.scalar(select(Campaign.id).where(Campaign.slug == slug))
    if found is not None:
        return found
    known = ", ".join(session.scalars(select(Campaign.slug).order_by(Campaign.slug))) or "none"
    raise CampaignError(
        f"There is no campaign {slug} in the database (campaigns there: {known}). "
        "Check the name; a new campaign is registered by `coalitionletter init`."
    )


@dataclass(frozen=True)
class Mismatch:
    """An invitation row that disagrees with its trail, named by organisation."""

    organisation: str
    reason: str

    def __str__(self) -> str:
        return f"{self.organisation}: {self.reason}"


@dataclass
class TrailCheck:
    """What `check` found: the chain's breaks, the rows that disagree, and the head."""

    slug: str
    head: events.Head
    breaks: list[events.ChainProblem] = field(default_factory=list)
    mismatches: list[Mismatch] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        """True when the chain is unbroken and every row matches it."""
        return not self.breaks and not self.mismatches

    def descriptions(self) -> list[str]:
        """Every problem on one line each, chain breaks first."""
        found = [f"Broken at entry {p.seq}: {p.reason}" for p in self.breaks]
        return found + [f"Disagrees with the trail: {m}" for m in self.mismatches]


# The fields an outcome binds, as a staff member reads them.
_BOUND = (("state", "state"), ("listing", "listing"), ("text_hash", "agreed text"))
# Bound since 0009, so compared only where the trail's entry binds it.
_BOUND_SINCE = (("signer_public", "signer on the public list"),)


def _short(value: Any) -> str:
    if value is None:
        return "none"
    text = str(value)
    return text[:12] if len(text) == 64 else text


def _differences(actual: Mapping[Any, Any], trail: Mapping[str, Any]) -> list[str]:
    """How an invitation's bound fields differ from the trail's, in words."""
    differences = [
        f"{label} {_short(actual.get(key))} (trail: {_short(trail.get(key))})"
        for key, label in _BOUND
        if actual.get(key) != trail.get(key)
    ]
    differences.extend(
        f"{label} {_short(actual.get(key))} (trail: {_short(trail.get(key))})"
        for key, label in _BOUND_SINCE
        if key in trail and key in actual and bool(actual[key]) != bool(trail[key])
    )
    if actual.get("organisation_id") != trail.get("organisation_id"):
        differences.append(
            f"organisation #{actual.get('organisation_id')} "
            f"(trail: #{trail.get('organisation_id')})"
        )
    if not differences and actual.get("version") != trail.get("version"):
        differences.append(f"version {actual.get('version')} (trail: {trail.get('version')})")
    return differences


def _row_mismatch(row: Mapping[Any, Any], seq: int, trail: Mapping[str, Any]) -> str | None:
    if trail.get("state") is None:
        return (
            f"the trail (entry {seq}) says its invitation was removed, but the database "
            f"still has it, {row['state']}"
        )
    differences = _differences(row, trail)
    if not differences:
        return None
    return f"the database has {', '.join(differences)}; last entry for it: {seq}"


def _replay(
    outcomes: Iterable[events.BoundOutcome],
) -> tuple[dict[int, events.BoundOutcome], list[tuple[int, str]]]:
    """The last outcome per invitation, and (organisation id, reason) for every entry that
    found its invitation otherwise than the entry before it had left it."""
    last: dict[int, events.BoundOutcome] = {}
    gaps: list[tuple[int, str]] = []
    for outcome in outcomes:
        before = last.get(outcome.invitation_id)
        found = outcome.fields.get("found")
        if before is not None and isinstance(found, dict):
            differences = _differences(found, before.fields)
            if differences:
                gaps.append(
                    (
                        found.get("organisation_id") or 0,
                        f"entry {outcome.seq} found {', '.join(differences)} as left by "
                        f"entry {before.seq}: it was changed behind the program's back "
                        "in between, or a change is missing from the trail",
                    )
                )
        last[outcome.invitation_id] = outcome
    return last, gaps


def _names(session: Session, ids: set[int]) -> dict[int, str]:
    found = _organisation_names(session, ids)
    return {i: _visible(f"{found[i]} (#{i})" if i in found else f"organisation #{i}") for i in ids}


def _mismatches(
    session: Session, campaign: int, outcomes: list[events.BoundOutcome]
) -> list[Mismatch]:
    last, gaps = _replay(outcomes)
    columns = (
        Invitation.id,
        Invitation.organisation_id,
        Invitation.state,
        Invitation.listing,
        Invitation.text_hash,
        Invitation.version,
        Invitation.signer_public,
    )
    rows = session.execute(
        select(*columns).where(Invitation.campaign_id == campaign).order_by(Invitation.id)
    ).mappings()
    found: list[tuple[int, str]] = list(gaps)
    for row in rows:
        trail = last.pop(row["id"], None)
        if trail is None:
            found.append(
                (
                    row["organisation_id"],
                    f"its invitation is {row['state']} in the database, but no entry of the "
                    "trail made or changed it",
                )
            )
            continue
        reason = _row_mismatch(row, trail.seq, trail.fields)
        if reason is not None:
            found.append((row["organisation_id"], reason))
    for outcome in last.values():
        if outcome.fields.get("state") is not None:
            found.append(
                (
                    outcome.fields.get("organisation_id") or 0,
                    f"the trail (entry {outcome.seq}) says it is {outcome.fields['state']}, but "
                    "its invitation is missing from the database",
                )
            )
    names = _names(session, {organisation for organisation, _ in found})
    return [Mismatch(names[organisation], reason) for organisation, reason in found]


ANCHOR = re.compile(r"^\s*(\d+):([0-9a-f]{16,64})\s*$")


def parse_anchor(text: str) -> events.Head:
    """An anchor as staff noted it: `SEQ:HASH` (the hash whole or its first 16+ characters)."""
    match = ANCHOR.match(text.lower())
    if match is None:
        raise SignOnError(
            f"{text!r} is not a trail anchor. Give it as `audit --verify` printed it: the "
            "entry number, a colon and the hash (at least its first 16 characters), "
            "for example 12:3fa94c0d5e6b7a81."
        )
    return events.Head(int(match.group(1)), match.group(2))


def _anchor_break(reading: events.ChainReading, anchor: events.Head) -> list[events.ChainProblem]:
    if anchor.length > reading.head.length:
        return [
            events.ChainProblem(
                anchor.length,
                f"the trail ends at entry {reading.head.length}, before the anchor you kept "
                f"({anchor}): entries were removed and the chain rewound",
            )
        ]
    if not reading.holds(anchor):
        return [
            events.ChainProblem(
                anchor.length,
                f"is not the entry your anchor names ({anchor}): the trail was rewritten",
            )
        ]
    return []


def check(session: Session, slug: str, expect: events.Head | None = None) -> TrailCheck:
    """Recompute a campaign's chain and compare every invitation row with its trail."""
    campaign = campaign_id(session, slug)
    reading = events.read_chain(session, events.campaign_chain(slug))
    result = TrailCheck(slug, reading.head, list(reading.problems))
    if expect is not None:
        result.breaks.extend(_anchor_break(reading, expect))
    result.mismatches = _mismatches(session, campaign, reading.outcomes)
    return result


def require_intact(session: Session, slug: str) -> events.Head:
    """The campaign's trail head; a TrailError naming what disagrees if anything does."""
    if session.scalar(select(Campaign.id).where(Campaign.slug == slug)) is None:
        raise not_registered(slug)  # its folder exists (build, export): say to run init
    found = check(session, slug)
    if found.intact:
        return found.head
    problems = found.descriptions()
    shown = problems[:5] + ([f"... and {len(problems) - 5} more"] if len(problems) > 5 else [])
    # The problems' own descriptions are English (the CLI's audit prints the same).
    raise TrailError(
        N_(
            "The sign-on records of %(slug)s disagree with their trail; nothing was produced:\n"
            "%(problems)s\nRun `coalitionletter audit %(slug)s --verify` to see every problem, "
            "and restore the database from a backup taken before the change.",
            slug=slug,
            problems="\n".join(f"  {line}" for line in shown),
        )
    )


def problems(session: Session, slug: str) -> list[events.ChainProblem]:
    """Every break in a campaign's chain (an edited, removed or reordered entry)."""
    return events.verify(session, events.campaign_chain(slug))
