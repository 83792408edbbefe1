"""Moving all the data from one database to another (SQLite to PostgreSQL, or any pair).

Every row of every table is copied with its id, in dependency order, in one
transaction on the target: either everything arrives and adds up, or nothing
is written. The source is only read, in one snapshot. Before the target
commits, each table's row count is compared with the source's and every event
chain is verified again on the target, so a campaign cannot arrive with an
organisation, an invitation or an event missing or altered.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Table, bindparam, delete, func, insert, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from coalitionletter import db, events
from coalitionletter.db import Database
from coalitionletter.errors import TransferError
from coalitionletter.models import Base, Campaign, Event, EventChain
from coalitionletter.signon import audit

BATCH_ROWS = 1000
# Alembic's own bookkeeping: each side keeps its own, written by its migrations.
NOT_COPIED = frozenset({"alembic_version"})


@dataclass(frozen=True)
class TableCount:
    """How many rows one table holds in the source and, after copying, in the target."""

    name: str
    source: int
    target: int


@dataclass(frozen=True)
class TransferReport:
    """What a migration copied and checked."""

    source: str
    target: str
    tables: list[TableCount]
    chains: int
    events: int
    warnings: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        """The report as lines for a terminal."""
        total = sum(table.target for table in self.tables)
        width = max(len(table.name) for table in self.tables)
        return [
            f"Copied {total:,} rows from {self.source} to {self.target}.",
            *(f"  {t.name:<{width}}  {t.target:>9,}" for t in self.tables),
            "Every table holds as many rows as in the source (rows per table above).",
            f"{self.chains} event chain{'s' if self.chains != 1 else ''} "
            f"({self.events:,} events) verified on the target.",
            *self.warnings,
        ]


def tables() -> list[Table]:
    """The tables this program keeps, parents before the tables that refer to them."""
    return [table for table in Base.metadata.sorted_tables if table.name not in NOT_COPIED]


def copy_all(source: Database, target: Database, *, replace: bool = False) -> TransferReport:
    """Copy every row of every table from source to target, then check counts and chains."""
    if source.url == target.url:
        raise TransferError(
            f"The source and the target are the same database ({source.display_url}). "
            "Give a different --to."
        )
    db.require_exists(source)
    db.require_current(source)
    _refuse_unknown_tables(source)
    db.upgrade(target)
    known = tables()
    with source.reading() as reader, target.writing() as writer:
        from_connection, to_connection = reader.connection(), writer.connection()
        _make_room(to_connection, known, replace=replace, where=target.display_url)
        for table in known:
            _copy_table(from_connection, to_connection, table)
        db.reset_sequences(to_connection, known)
        counts = _compare_counts(from_connection, to_connection, known)
        chains, warnings = _compare_chains(reader, writer)
        event_count = next(c.target for c in counts if c.name == Event.__tablename__)
    return TransferReport(
        source.display_url, target.display_url, counts, chains, event_count, warnings
    )


def _refuse_unknown_tables(source: Database) -> None:
    unknown = sorted(set(db.table_names(source)) - NOT_COPIED - {t.name for t in tables()})
    if unknown:
        raise TransferError(
            f"The source {source.display_url} holds tables this version of coalitionletter "
            f"does not know ({', '.join(unknown)}), so it cannot copy every row. "
            "Use the version of coalitionletter that made them."
        )


def _count(connection: Connection, table: Table) -> int:
    return connection.scalar(select(func.count()).select_from(table)) or 0


def _make_room(connection: Connection, known: list[Table], *, replace: bool, where: str) -> None:
    held = [(table.name, _count(connection, table)) for table in known]
    held = [(name, rows) for name, rows in held if rows]
    if not held:
        return
    if not replace:
        listing = ", ".join(f"{name}: {rows:,} rows" for name, rows in held)
        raise TransferError(
            f"The target {where} already holds data ({listing}); nothing was copied. "
            "Give an empty database, or pass --replace to delete what it holds first."
        )
    for table in reversed(known):
        connection.execute(delete(table))


def _self_references(table: Table) -> list[str]:
    return [
        column.name
        for column in table.columns
        if any(key.column.table is table for key in column.foreign_keys)
    ]


def _copy_table(source: Connection, target: Connection, table: Table) -> None:
    # A row may point at a later row of its own table (an organisation merged
    # into one registered after it): insert those links empty, fill them after.
    linked = _self_references(table)
    later: list[dict[str, Any]] = []
    query = select(table).order_by(*table.primary_key.columns)
    result = source.execute(query, execution_options={"yield_per": BATCH_ROWS})
    try:
        for batch in result.partitions():
            rows = [dict(row._mapping) for row in batch]
            for row in rows:
                later.extend(_detach(row, linked, table))
            target.execute(insert(table), rows)
        if later:
            _relink(target, table, later)
    except DBAPIError as exc:
        raise TransferError(
            f"Copying table {table.name} failed: {exc.orig}. Nothing was written to the "
            "target. Correct the row in the source and run migrate-data again."
        ) from exc


def _detach(row: dict[str, Any], linked: Iterable[str], table: Table) -> list[dict[str, Any]]:
    keys = {f"key_{column.name}": row[column.name] for column in table.primary_key.columns}
    # The UPDATE that restores a link would stamp columns such as updated_at
    # with the time of the copy; give them back their copied values.
    stamped = {
        f"keep_{column.name}": row[column.name]
        for column in table.columns
        if column.onupdate is not None
    }
    detached = []
    for name in linked:
        if row[name] is not None:
            detached.append({**keys, **stamped, "column": name, "value": row[name]})
            row[name] = None
    return detached


def _relink(target: Connection, table: Table, links: list[dict[str, Any]]) -> None:
    match = [column == bindparam(f"key_{column.name}") for column in table.primary_key.columns]
    kept: dict[str, Any] = {
        c.name: bindparam(f"keep_{c.name}") for c in table.columns if c.onupdate is not None
    }
    for name in {link["column"] for link in links}:
        statement = update(table).where(*match).values({name: bindparam("value"), **kept})
        rows = [
            {key: value for key, value in link.items() if key != "column"}
            for link in links
            if link["column"] == name
        ]
        target.execute(statement, rows)


def _compare_counts(source: Connection, target: Connection, known: list[Table]) -> list[TableCount]:
    counts = [TableCount(t.name, _count(source, t), _count(target, t)) for t in known]
    wrong = [c for c in counts if c.source != c.target]
    if wrong:
        listing = ", ".join(f"{c.name}: {c.target:,} of {c.source:,}" for c in wrong)
        raise TransferError(
            f"The copy does not match the source ({listing}); nothing was written. "
            "Stop anything writing to the source and run migrate-data again."
        )
    return counts


def _chain_names(session: Session) -> list[str]:
    names = set(session.scalars(select(EventChain.name)))
    names.update(session.scalars(select(Event.chain).distinct()))
    return sorted(names)


def _trail_problems(session: Session, name: str) -> list[str]:
    """A chain's breaks and, for a campaign still registered, its rows that disagree with it."""
    slug = name.removeprefix("campaign:") if name.startswith("campaign:") else None
    if slug is not None and session.scalar(select(Campaign.id).where(Campaign.slug == slug)):
        return audit.check(session, slug).descriptions()
    return [f"Broken at entry {p.seq}: {p.reason}" for p in events.verify(session, name)]


def _compare_chains(reader: Session, writer: Session) -> tuple[int, list[str]]:
    names = _chain_names(reader)
    warnings = []
    for name in names:
        before = _trail_problems(reader, name)
        after = _trail_problems(writer, name)
        if after != before:
            first = (after or before)[0]
            raise TransferError(
                f"The event chain {name} does not verify on the target as on the source "
                f"({first}); nothing was written. Report this: the copy changed an event "
                "or a row it binds."
            )
        if before:
            warnings.append(
                f"Warning: the event chain {name} was already broken in the source "
                f"({before[0]}); it was copied as it is."
            )
    return len(names), warnings
