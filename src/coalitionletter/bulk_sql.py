"""Many rows into one table through the driver's own executemany.

SQLAlchemy's executemany processes every parameter of every row in Python
(and, asked for RETURNING in parameter order, sends SQLite one INSERT per
row); for an import of 100,000 organisations that costs more than all the
checks. Here the INSERT is compiled once from the Core table, values that
need a type's bind processing (timestamps) are processed once per distinct
value by the caller's choice of constants, and the rows go to the DBAPI
cursor's executemany as they are. Only columns whose type needs no
processing may vary per row; anything else is refused, not silently stored
unconverted.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from operator import itemgetter
from typing import Any

from sqlalchemy import Table, insert
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session


def _bind_processor(table: Table, key: str, dialect: Dialect) -> Callable[[Any], Any] | None:
    """What the dialect does to a column's value before the driver gets it, if anything."""
    return table.c[key].type.dialect_impl(dialect).bind_processor(dialect)


def insert_rows(
    session: Session,
    table: Table,
    keys: Sequence[str],
    rows: Sequence[Sequence[Any]],
    constants: Mapping[str, Any] | None = None,
) -> None:
    """INSERT rows (values in the order of `keys`), plus the same `constants` on each."""
    if not rows:
        return
    constants = dict(constants or {})
    connection = session.connection()
    dialect = connection.dialect
    columns = [*keys, *constants]
    for key in keys:
        if _bind_processor(table, key, dialect) is not None:
            raise ValueError(f"{table.name}.{key} needs bind processing; pass it as a constant")
    fixed = []
    for key, value in constants.items():
        process = _bind_processor(table, key, dialect)
        fixed.append(process(value) if process is not None else value)
    compiled = insert(table).inline().compile(dialect=dialect, column_keys=columns)
    if dialect.positional:
        # The compiled INSERT lists columns in the table's order, not ours.
        wanted = list(compiled.positiontup or ())
        if sorted(wanted) != sorted(columns):
            raise ValueError(f"{table.name}: give every column with a default ({compiled})")
        tail = tuple(fixed)
        params: Sequence[Sequence[Any]] | list[dict[str, Any]] = rows
        if wanted != columns:
            # One pass: each row is built once, already in the INSERT's order.
            reorder = itemgetter(*(columns.index(key) for key in wanted))
            params = [reorder((*row, *tail)) for row in rows]
        elif tail:
            params = [(*row, *tail) for row in rows]
    else:
        if set(compiled.params) != set(columns):
            raise ValueError(f"{table.name}: give every column with a default ({compiled})")
        params = [dict(zip(columns, (*row, *fixed), strict=True)) for row in rows]
    connection.exec_driver_sql(str(compiled), params)
