"""Engine, sessions and schema versions, shared by the CLI and the web app.

SQLite is set up for a CLI and a web server writing at once: WAL, foreign keys,
a busy timeout, and write transactions that take the write lock as they begin
(`BEGIN IMMEDIATE`), so two writers queue instead of failing with "database is
locked" halfway through.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from coalitionletter.errors import DatabaseError, SchemaBehindError

log = logging.getLogger(__name__)

SQLITE_BUSY_TIMEOUT_MS = 30_000
MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):  # type: ignore[no-untyped-def]
        # Let SQLAlchemy's "begin" event below issue BEGIN, not the driver.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):  # type: ignore[no-untyped-def]
        if connection.get_execution_options().get("read_only"):
            connection.exec_driver_sql("BEGIN DEFERRED")
        else:
            connection.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(url: str) -> Engine:
    """Create the engine for a database URL, with the SQLite set-up where it applies."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise DatabaseError(
            f"{url!r} is not a database URL. Give a file path such as signatories.db "
            "or a URL such as postgresql+psycopg://user@host/dbname."
        ) from exc
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:":
            folder = Path(database).parent
            if not folder.is_dir():
                raise DatabaseError(
                    f"The folder {folder} for the database does not exist. "
                    "Create it or give another --db path."
                )
        engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
        _configure_sqlite(engine)
        return engine
    try:
        return create_engine(url, pool_pre_ping=True)
    except ModuleNotFoundError as exc:
        raise DatabaseError(
            f"The driver for {parsed.drivername} is not installed ({exc.name}). "
            "Install it, e.g. pip install 'coalitionletter[postgres]'."
        ) from exc


class Database:
    """An engine and its session factory; one per process."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def is_sqlite(self) -> bool:
        """True for the embedded SQLite database."""
        return self.engine.dialect.name == "sqlite"

    @contextmanager
    def writing(self) -> Iterator[Session]:
        """A session in one write transaction: committed on success, rolled back on error."""
        with self._sessions.begin() as session:
            yield session

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A session for reads only: on SQLite it does not take the write lock."""
        with self.engine.connect() as raw_connection:
            connection = raw_connection.execution_options(read_only=True)
            with Session(bind=connection, expire_on_commit=False) as session, session.begin():
                yield session

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()


def _alembic_config(url: str):  # type: ignore[no-untyped-def]
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def head_revision() -> str:
    """The newest schema revision this program knows."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_alembic_config("sqlite://")).get_current_head() or ""


def current_revision(database: Database) -> str | None:
    """The schema revision the database is at, or None for an empty database."""
    from alembic.runtime.migration import MigrationContext

    try:
        with database.engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    except OperationalError as exc:
        raise DatabaseError(f"Cannot open the database {database.url}: {exc.orig}") from exc


def upgrade(database: Database, revision: str = "head") -> None:
    """Bring the schema up to a revision (default: the newest), keeping every row."""
    from alembic import command

    config = _alembic_config(database.url)
    with database.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def require_current(database: Database) -> None:
    """Refuse to go on unless the schema is at the newest revision."""
    current = current_revision(database)
    if current is None:
        raise SchemaBehindError(
            f"The database {database.url} has not been set up. Run `coalitionletter init` first."
        )
    if current != head_revision():
        raise SchemaBehindError(
            f"The database {database.url} is at schema {current}, older than this "
            f"program's {head_revision()}. Run `coalitionletter init` to upgrade it "
            "(every row is kept)."
        )


def table_names(database: Database) -> list[str]:
    """The tables present in the database."""
    return inspect(database.engine).get_table_names()
