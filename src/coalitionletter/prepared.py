"""Core statements compiled once per process and run straight on the driver's cursor.

A speed path (CONTRIBUTING.md, "Speed paths"): the answering path spent about a
quarter of a confirmation's CPU in SQLAlchemy's per-statement machinery (execution
context, result set-up, events), not in the database. `DirectConnection` wraps a
SQLAlchemy Connection that is already in a transaction: the statements registered
with `hot` are compiled once per dialect (SQLite and PostgreSQL alike, with their
bind and result type processing) and run on its DBAPI cursor; every other
statement, and savepoints, go through the Connection as usual. The SQL is
SQLAlchemy's own compilation of a fixed Core statement, never text built from
input, and the transaction stays SQLAlchemy's: begun, committed and rolled back by
the Connection. Only documented APIs are used: `compile()`, the compiler's
`string`, `params`, `positiontup`, `binds` and `insert_prefetch`/`update_prefetch`,
and each type's `dialect_impl()`, `bind_processor()` and `result_processor()`.
"""

from __future__ import annotations

import threading
from collections import namedtuple
from collections.abc import Callable, Mapping, Sequence
from operator import itemgetter
from typing import Any, TypeVar

from sqlalchemy import Connection, Insert, Select, Table, exc
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

_HOT: set[int] = set()
_HOT_STATEMENTS: list[ClauseElement] = []  # kept alive: their ids are the keys above
Statement = TypeVar("Statement", bound=ClauseElement)


def hot(statement: Statement) -> Statement:
    """Mark a module-level Core statement as one `DirectConnection` runs on the cursor."""
    _HOT.add(id(statement))
    _HOT_STATEMENTS.append(statement)
    return statement


Processor = Callable[[Any], Any] | None


class _Compiled:
    """One hot statement compiled for one dialect and one set of parameter names."""

    def __init__(
        self, statement: ClauseElement, dialect: Dialect, given: Mapping[str, Any]
    ) -> None:
        if isinstance(statement, Insert):
            # The new row's key, the same way on both databases (SQLite >= 3.35 has RETURNING).
            statement = statement.returning(*_table(statement).primary_key.columns)
        compiled = statement.compile(dialect=dialect, column_keys=list(given))
        if not isinstance(compiled, SQLCompiler):
            raise TypeError(f"a hot statement must be a SQL statement, not {statement!r}")
        if compiled.insert_prefetch or compiled.update_prefetch:
            missing = [c.key for c in (*compiled.insert_prefetch, *compiled.update_prefetch)]
            raise ValueError(f"a hot statement must be given every column: {missing}")
        self.sql = compiled.string
        # Every bind with its value when none is given (a literal's value, such as the 1 of
        # version + 1), so a call only lays the given values over a copy.
        self.defaults = dict(compiled.params)
        self.order = _positional(compiled.positiontup) if dialect.positional else None
        processors = (
            (name, bind.type.dialect_impl(dialect).bind_processor(dialect))
            for name, bind in compiled.binds.items()
        )
        self.processed = [(name, process) for name, process in processors if process is not None]
        self.returns = isinstance(statement, Select | Insert)
        self.results: list[Processor] = []
        self.row: Callable[..., Any] = tuple
        if self.returns:
            self._results(statement, dialect)

    def _results(self, statement: Any, dialect: Dialect) -> None:
        if isinstance(statement, Select):
            columns = list(statement.selected_columns)
            keys = list(map(str, statement.selected_columns.keys()))
        else:
            columns = list(_table(statement).primary_key.columns)
            keys = [str(column.key) for column in columns]
        self.results = [
            column.type.dialect_impl(dialect).result_processor(dialect, None) for column in columns
        ]
        if len(set(keys)) == len(keys):
            self.row = _row_type(keys)._make

    def parameters(self, given: Mapping[str, Any]) -> Any:
        """The driver's parameters: every bind, type-processed, in the driver's style."""
        values = self.defaults.copy()
        for name, value in given.items():
            if name in values:
                values[name] = value
        for name, process in self.processed:
            values[name] = process(values[name])
        if self.order is not None:
            return self.order(values)
        return values

    def row_of(self, raw: Sequence[Any]) -> Any:
        """A fetched row with its columns type-processed (times made aware, and so on)."""
        return self.row(
            [
                value if process is None else process(value)
                for process, value in zip(self.results, raw, strict=True)
            ]
        )


def _row_type(keys: list[str]) -> Any:
    """A named tuple class for a statement's rows (its fields are known once it is compiled)."""
    return namedtuple("Row", keys)


def _table(statement: Any) -> Table:
    """The table an INSERT writes to (every model here maps one Table)."""
    table = statement.table
    if not isinstance(table, Table):
        raise TypeError(f"a hot INSERT must write to a Table, not {table!r}")
    return table


def _wrapped(error: Exception, sql: str, parameters: Any) -> exc.DBAPIError:
    """The driver's error as SQLAlchemy raises it: the class of the same name in sqlalchemy.exc.

    SQLAlchemy's documented rule for DBAPI errors (IntegrityError for a unique
    violation, OperationalError for a lock, ...), applied along the error's bases.
    """
    for base in type(error).__mro__:
        wrapper = getattr(exc, base.__name__, None)
        if isinstance(wrapper, type) and issubclass(wrapper, exc.DBAPIError):
            return wrapper(sql, parameters, error)
    return exc.DBAPIError(sql, parameters, error)


def _positional(names: Sequence[str] | None) -> Callable[[Mapping[str, Any]], tuple[Any, ...]]:
    """The driver's positional parameters from the named ones, in one C call where it can."""
    if not names:
        return lambda _values: ()
    get = itemgetter(*names)
    return get if len(names) > 1 else lambda values: (get(values),)


class DirectResult:
    """What `DirectConnection.execute` gives back: the parts of a Result the callers use."""

    def __init__(self, rows: list[Any], rowcount: int) -> None:
        self._rows = rows
        self.rowcount = rowcount

    def all(self) -> list[Any]:
        """Every row."""
        return list(self._rows)

    def one_or_none(self) -> Any:
        """The one row, or None; more than one is a programming error."""
        if len(self._rows) > 1:
            raise ValueError("more than one row where at most one was expected")
        return self._rows[0] if self._rows else None

    def one(self) -> Any:
        """The one row."""
        row = self.one_or_none()
        if row is None:
            raise ValueError("no row where one was expected")
        return row

    @property
    def inserted_primary_key(self) -> tuple[Any, ...]:
        """The new row's primary key (an INSERT's RETURNING)."""
        return tuple(self.one())


_CACHE: dict[tuple[str, int, frozenset[str]], _Compiled] = {}
_CACHE_LOCK = threading.Lock()


def _compiled(statement: ClauseElement, dialect: Dialect, keys: Mapping[str, Any]) -> _Compiled:
    key = (dialect.name, id(statement), frozenset(keys))
    found = _CACHE.get(key)
    if found is None:
        with _CACHE_LOCK:
            found = _CACHE.get(key) or _Compiled(statement, dialect, keys)
            _CACHE[key] = found
    return found


class DirectConnection:
    """A Connection in a transaction whose hot statements skip SQLAlchemy's execution layer."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.dialect = connection.dialect
        self._cursor: Any = None

    def execute(self, statement: Any, parameters: Mapping[str, Any] | None = None) -> Any:
        """Run a statement in the transaction: hot ones on the cursor, others as usual."""
        parameters = parameters or {}
        if id(statement) not in _HOT:
            return self.connection.execute(statement, parameters)
        compiled = _compiled(statement, self.dialect, parameters)
        driver_parameters = compiled.parameters(parameters)
        if self._cursor is None:
            self._cursor = self.connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        cursor = self._cursor
        try:
            cursor.execute(compiled.sql, driver_parameters)
            rows = [compiled.row_of(raw) for raw in cursor.fetchall()] if compiled.returns else []
        except self.dialect.loaded_dbapi.Error as error:
            raise _wrapped(error, compiled.sql, driver_parameters) from error
        return DirectResult(rows, cursor.rowcount)

    def begin_nested(self) -> Any:
        """A savepoint, through the Connection."""
        return self.connection.begin_nested()

    def close(self) -> None:
        """Let go of the cursor (the Connection and its transaction are the caller's)."""
        if self._cursor is not None:
            self._cursor.close()
            self._cursor = None
