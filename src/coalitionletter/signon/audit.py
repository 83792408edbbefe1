"""The campaign's trail as staff read it: every event, its actor, address and text."""

from __future__ import annotations

import json
import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from coalitionletter import events
from coalitionletter.models import Event, Organisation


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


def lines(session: Session, slug: str) -> list[str]:
    """One line per event of a campaign, oldest first."""
    chain = events.campaign_chain(slug)
    rows = list(session.scalars(select(Event).where(Event.chain == chain).order_by(Event.seq)))
    names = _organisation_names(session, {e.organisation_id for e in rows if e.organisation_id})
    out = []
    for event in rows:
        who = names.get(event.organisation_id or 0, f"organisation #{event.organisation_id}")
        parts = [
            f"{event.seq:>5}",
            event.created_at.strftime("%Y-%m-%d %H:%M:%S UTC"),
            f"{event.kind:<22}",
            who if event.organisation_id else "-",
            f"by {event.actor}",
        ]
        if event.ip:
            parts.append(f"from {event.ip}")
        if event.text_hash:
            parts.append(f"text {event.text_hash[:12]}")
        detail = _detail(event.detail)
        if detail:
            parts.append(f"({detail})")
        out.append(_visible("  ".join(parts)))
    return out


def problems(session: Session, slug: str) -> list[events.ChainProblem]:
    """Every break in a campaign's chain (an edited, removed or reordered entry)."""
    return events.verify(session, events.campaign_chain(slug))
