"""A database from before outcomes (0003, with rows and a trail) upgrades to bound rows.

The old entries keep verifying as they were written; the upgrade appends one
chained `trail_snapshot` entry per invitation stating it as found, and from
there on a row changed by hand is caught.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import column, select, table, text, update

from coalitionletter import db, events
from coalitionletter.db import Database
from coalitionletter.models import Event, Invitation, UtcDateTime
from coalitionletter.signon import audit
from coalitionletter.signon import states as signon

BEFORE_OUTCOMES = "0003"
SLUG = "founding"
CHAIN = events.campaign_chain(SLUG)
WRITTEN = datetime(2020, 8, 2, 10, 0, tzinfo=UTC)
# The events table as 0003 has it: no outcome column yet.
EVENTS_AT_0003 = table(
    "events",
    *(column(name) for name in (*events.HASHED, "hash") if name != "created_at"),
    column("created_at", UtcDateTime()),
)

ROWS = [
    "INSERT INTO organisations (id, slug, name, name_key, sort_name, country, created_at,"
    " updated_at) VALUES (1, 'pen-america', 'PEN America', 'penamerica', 'PEN America', 'US',"
    " '2020-08-01 10:00:00', '2020-08-01 10:00:00')",
    "INSERT INTO organisations (id, slug, name, name_key, sort_name, created_at, updated_at)"
    " VALUES (2, 'uran', 'Uyghur Rights Advocacy Network', 'uran', 'Uyghur', "
    " '2020-08-01 10:00:00', '2020-08-01 10:00:00')",
    "INSERT INTO campaigns (id, slug, title, created_at) VALUES"
    " (1, 'founding', 'Founding letter', '2020-08-01 10:00:00')",
    "INSERT INTO invitations (id, campaign_id, organisation_id, state, text_hash, listing,"
    " version, view_count, reminders_sent, created_at, updated_at) VALUES"
    " (1, 1, 1, 'confirmed', 'abc', 'public', 1, 0, 0,"
    " '2020-08-01 10:00:00', '2020-08-02 10:00:00')",
    "INSERT INTO invitations (id, campaign_id, organisation_id, state, listing,"
    " version, view_count, reminders_sent, created_at, updated_at) VALUES"
    " (2, 1, 2, 'invited', 'governments_only', 0, 0, 0,"
    " '2020-08-01 10:00:00', '2020-08-02 10:00:00')",
]


def _old_entry(seq: int, previous: str, kind: str, invitation_id: int) -> dict[str, object]:
    """An entry as the program wrote it before outcomes: its hash over the 0003 fields."""
    entry: dict[str, object] = {
        "chain": CHAIN,
        "seq": seq,
        "kind": kind,
        "campaign_id": 1,
        "organisation_id": invitation_id,
        "invitation_id": invitation_id,
        "actor": "staff: Old Coordinator",
        "ip": None,
        "text_hash": "abc" if kind == "confirmed" else None,
        "detail": "{}",
        "created_at": WRITTEN.isoformat(timespec="microseconds"),
        "prev_hash": previous,
    }
    canonical = json.dumps(entry, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    entry["hash"] = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    entry["created_at"] = WRITTEN
    return entry


def _database_before_outcomes(tmp_path: Path, db_url: str | None) -> Database:
    database = Database(db_url or f"sqlite:///{tmp_path / 'old.db'}")
    db.upgrade(database, BEFORE_OUTCOMES)
    first = _old_entry(1, events.GENESIS, "confirmed", 1)
    second = _old_entry(2, str(first["hash"]), "invited", 2)
    with database.engine.begin() as connection:
        for statement in ROWS:
            connection.execute(text(statement))
        connection.execute(EVENTS_AT_0003.insert(), [first, second])
        connection.execute(
            text("INSERT INTO event_chains (name, head_hash, length) VALUES (:n, :h, 2)"),
            {"n": CHAIN, "h": second["hash"]},
        )
    return database


def test_old_entries_still_verify_and_each_invitation_gets_a_snapshot(
    tmp_path: Path, db_url: str | None
) -> None:
    database = _database_before_outcomes(tmp_path, db_url)
    db.upgrade(database)
    with database.reading() as session:
        found = audit.check(session, SLUG)
        snapshots = session.execute(
            select(Event.seq, Event.invitation_id, Event.outcome)
            .where(Event.kind == "trail_snapshot")
            .order_by(Event.seq)
        ).all()
        states = session.execute(
            select(Invitation.id, Invitation.state, Invitation.listing).order_by(Invitation.id)
        ).all()
    database.dispose()
    assert found.intact, found.descriptions()
    assert found.head.length == 4
    assert [(seq, invitation) for seq, invitation, _ in snapshots] == [(3, 1), (4, 2)]
    assert json.loads(snapshots[1][2])["listing"] == "governments_only"
    assert [tuple(row) for row in states] == [
        (1, "confirmed", "public"),
        (2, "invited", "governments_only"),
    ]


def test_a_row_changed_after_the_upgrade_is_caught_from_the_snapshot_on(
    tmp_path: Path, db_url: str | None
) -> None:
    database = _database_before_outcomes(tmp_path, db_url)
    db.upgrade(database)
    with database.writing() as session:
        session.execute(update(Invitation).where(Invitation.id == 2).values(listing="public"))
    with database.reading() as session:
        found = audit.check(session, SLUG)
    database.dispose()
    assert found.breaks == []
    assert [str(m) for m in found.mismatches] == [
        "Uyghur Rights Advocacy Network (#2): the database has listing public "
        "(trail: governments_only); last entry for it: 4"
    ]


def test_a_change_after_the_upgrade_follows_on_from_the_snapshot(
    tmp_path: Path, db_url: str | None
) -> None:
    database = _database_before_outcomes(tmp_path, db_url)
    db.upgrade(database)
    with database.writing() as session:
        campaign = audit.campaign_id(session, SLUG)
        reference = signon.CampaignRef(campaign, SLUG, None, None)
        signon.transition(session, reference, 2, "decline", actor="staff: New Coordinator")
    with database.reading() as session:
        found = audit.check(session, SLUG)
    database.dispose()
    assert found.intact, found.descriptions()
    assert found.head.length == 5
