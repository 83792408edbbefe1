"""Each speed path against the ordinary public-API way, side by side in one run.

`python -m benchmarks.speed_paths [--rows N] [--repeats N]` prints, per path, the
median time of both ways and their ratio. CONTRIBUTING.md's "Speed paths" section
quotes these figures; a path is kept only where the ordinary way is far slower.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from coalitionletter import bulk_sql, db
from coalitionletter.models import Organisation, utcnow
from coalitionletter.registry.organisations import ORGANISATION_COLUMNS

_ORGANISATIONS = Organisation.__table__


def _rows(count: int) -> list[tuple[Any, ...]]:
    return [
        (f"org-{n}", f"Org {n}", f"org {n}", f"Org {n}", "NO", "ngo", None, None, None)
        for n in range(count)
    ]


def _bulk_sql(database: db.Database, rows: list[tuple[Any, ...]]) -> None:
    now = utcnow()
    with database.writing() as session:
        constants = {"created_at": now, "updated_at": now}
        bulk_sql.insert_rows(session, _ORGANISATIONS, ORGANISATION_COLUMNS, rows, constants)
        session.rollback()


def _core_executemany(database: db.Database, rows: list[tuple[Any, ...]]) -> None:
    now = utcnow()
    with database.writing() as session:
        constants = {"created_at": now, "updated_at": now}
        params = [dict(zip(ORGANISATION_COLUMNS, row, strict=True)) | constants for row in rows]
        session.connection().execute(insert(_ORGANISATIONS), params)
        session.rollback()


def _paired(
    first: Callable[[], object], second: Callable[[], object], repeats: int
) -> tuple[float, float]:
    times: tuple[list[float], list[float]] = ([], [])
    first()
    second()
    for _ in range(repeats):
        for action, into in ((first, times[0]), (second, times[1])):
            start = time.process_time()
            action()
            into.append(time.process_time() - start)
    return statistics.median(times[0]), statistics.median(times[1])


def bulk_insert(rows: int, repeats: int) -> str:
    """`bulk_sql.insert_rows` against Core's executemany, organisations into SQLite."""
    with tempfile.TemporaryDirectory() as folder:
        database = db.Database(f"sqlite:///{Path(folder) / 'bench.db'}")
        db.upgrade(database)
        data = _rows(rows)
        ours, core = _paired(
            lambda: _bulk_sql(database, data), lambda: _core_executemany(database, data), repeats
        )
        database.dispose()
    return (
        f"bulk insert of {rows:,} organisations (CPU): bulk_sql {ours:.3f} s, "
        f"Core executemany {core:.3f} s, Core / bulk_sql {core / ours:.2f}"
    )


def main(argv: list[str] | None = None) -> None:
    """Print each path's figures."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.speed_paths", description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    print(bulk_insert(args.rows, args.repeats))


if __name__ == "__main__":
    main()
