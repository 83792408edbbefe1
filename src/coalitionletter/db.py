"""Engine, sessions and schema versions, shared by the CLI and the web app.

This is the only module that knows which database it talks to; everything else
uses `Database.writing()` / `Database.reading()` and portable SQLAlchemy.

SQLite is set up for a CLI and a web server writing at once: WAL, foreign keys,
a busy timeout, and write transactions that take the write lock as they begin
(`BEGIN IMMEDIATE`), so two writers queue instead of failing with "database is
locked" halfway through.

PostgreSQL (psycopg 3) is set up for several web workers:
- `postgresql://` and `postgres://` URLs mean psycopg 3 (`postgresql+psycopg://`),
  because SQLAlchemy would otherwise look for psycopg2, which is not installed;
- READ COMMITTED for writes, stated rather than inherited from the server's
  default, because the state machine's conditional UPDATEs and the event chain's
  `SELECT ... FOR UPDATE` are written for it;
- read sessions are REPEATABLE READ and READ ONLY, so a report that reads several
  tables sees one snapshot, as a read transaction on SQLite does;
- a small pool per process (5 kept, 10 more on demand), checked before use so a
  restarted server costs no failed request, and a 10-second connect timeout so
  an unreachable server gives a clear message instead of a hang.
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Connection,
    Engine,
    Integer,
    Table,
    create_engine,
    event,
    func,
    inspect,
    select,
)
from sqlalchemy import column as sql_column
from sqlalchemy import table as sql_table
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from coalitionletter.errors import DatabaseError, SchemaBehindError
from coalitionletter.faults import explain
from coalitionletter.private_files import create_private_file, tighten

if TYPE_CHECKING:
    from alembic.config import Config

log = logging.getLogger(__name__)

SQLITE_BUSY_TIMEOUT_MS = 30_000
MIGRATIONS_DIR = Path(__file__).parent / "migrations"
POSTGRES_POOL = {"pool_size": 5, "max_overflow": 10, "pool_pre_ping": True, "pool_recycle": 3600}
POSTGRES_CONNECT_TIMEOUT_S = 10
_POSTGRES_ALIASES = {"postgres", "postgresql"}
# Where Alembic keeps the revision a database is at (its default name and column).
_VERSION_TABLE = sql_table("alembic_version", sql_column("version_num"))


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event below issue BEGIN, not the driver.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        read_only = connection.get_execution_options().get("read_only")
        connection.exec_driver_sql("BEGIN DEFERRED" if read_only else "BEGIN IMMEDIATE")


# Page cache for one large write (KiB): an import of 100,000 organisations touches
# ~110 MB of tables and indexes; with SQLite's default 2 MB most index pages are
# evicted and re-read (or spilled to the WAL mid-transaction) many times over.
BULK_WRITE_CACHE_KIB = 256 * 1024


@contextmanager
def bulk_write(session: Session) -> Iterator[None]:
    """Tune the session's connection for one large write while it runs (SQLite only)."""
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        yield
        return
    before = connection.exec_driver_sql("PRAGMA cache_size").scalar_one()
    connection.exec_driver_sql(f"PRAGMA cache_size = -{BULK_WRITE_CACHE_KIB:d}")
    try:
        yield
    finally:
        # The pooled connection goes back to serving small requests with a small cache.
        connection.exec_driver_sql(f"PRAGMA cache_size = {int(before):d}")


def _configure_postgres(engine: Engine) -> None:
    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        if connection.get_execution_options().get("read_only"):
            connection.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")


def normalise_url(url: str) -> str:
    """The URL SQLAlchemy should use: plain PostgreSQL URLs mean psycopg 3."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise DatabaseError(
            f"{url!r} is not a database URL. Give a file path such as signatories.db "
            "or a URL such as postgresql+psycopg://user@host/dbname."
        ) from exc
    if parsed.drivername in _POSTGRES_ALIASES:
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def database_name(url: str) -> str:
    """How to name a database to a person: the SQLite file's path, or the URL without password."""
    try:
        parsed = make_url(normalise_url(url))
    except DatabaseError:
        return display_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database:
        return parsed.database
    return display_url(parsed)


def display_url(url: str | URL) -> str:
    """A database URL fit to show or log: the password replaced by ***."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<not a database URL>"


def _keep_private(engine: Engine, database: Path) -> None:
    """Create the database file owner-only before SQLite does, and tighten one already there.

    SQLite creates the -wal and -shm files with the main file's mode, so this
    keeps all three (every organisation and contact) from other users.
    """

    @event.listens_for(engine, "do_connect")
    def _before_connect(*_args: object) -> None:
        for path in (database, *(database.with_name(database.name + c) for c in ("-wal", "-shm"))):
            try:
                if path is database:
                    create_private_file(path)
                elif path.exists():
                    tighten(path)
            except OSError as exc:
                # A file we may read but not change (another owner, a read-only
                # disk): SQLite says what it can and cannot do with it next.
                log.warning("Could not make %s owner-only: %s", path, exc.strerror)


def _sqlite_engine(url: str, database: str | None) -> Engine:
    engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
    if database and database != ":memory:" and not database.startswith("file:"):
        folder = Path(database).parent
        if not folder.is_dir():
            raise DatabaseError(
                f"The folder {folder} for the database does not exist. "
                "Create it or give another --db path."
            )
        _keep_private(engine, Path(database))
    _configure_sqlite(engine)
    return engine


def make_engine(url: str) -> Engine:
    """Create the engine for a database URL, with the SQLite or PostgreSQL set-up."""
    url = normalise_url(url)
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return _sqlite_engine(url, parsed.database)
    if backend != "postgresql":
        raise DatabaseError(
            f"{display_url(parsed)} is neither SQLite nor PostgreSQL, the two databases "
            "coalitionletter works with. Give a SQLite file path or a "
            "postgresql+psycopg://user@host/dbname URL."
        )
    options = {
        **POSTGRES_POOL,
        "isolation_level": "READ COMMITTED",
        "connect_args": {
            "connect_timeout": POSTGRES_CONNECT_TIMEOUT_S,
            "application_name": "coalitionletter",
        },
    }
    try:
        engine = create_engine(url, **options)
    except ModuleNotFoundError as exc:
        raise DatabaseError(
            f"The driver for {parsed.drivername} is not installed ({exc.name}). "
            "Install it, e.g. pip install 'coalitionletter[postgres]' for PostgreSQL "
            "(psycopg 3), and use a postgresql+psycopg:// URL."
        ) from exc
    except NoSuchModuleError as exc:
        raise DatabaseError(
            f"{parsed.drivername!r} in {display_url(parsed)} is not a PostgreSQL driver this "
            "program knows. Use a postgresql+psycopg:// URL."
        ) from exc
    _configure_postgres(engine)
    return engine


class Database:
    """An engine and its session factory; one per process."""

    def __init__(self, url: str) -> None:
        self.engine = make_engine(url)
        self.url = normalise_url(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        # Commands open a Database and let it go; closing its pooled connections
        # then (not whenever the garbage collector gets to them) keeps PostgreSQL
        # from holding idle connections for databases nobody uses any more.
        weakref.finalize(self, self.engine.dispose)

    @property
    def display_url(self) -> str:
        """The URL fit to show: any password replaced by ***."""
        return display_url(self.url)

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
        """A session for reads only, seeing one snapshot; on SQLite it takes no write lock."""
        with self.engine.connect() as raw_connection:
            connection = raw_connection.execution_options(read_only=True)
            with Session(bind=connection, expire_on_commit=False) as session, session.begin():
                yield session

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()


def _alembic_config(url: str) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


# The newest migration, written down so that every command's schema check need not
# load Alembic's script machinery (0.18 to 0.22 s of CPU, about 0.4 of B5's ratio);
# tests/test_schema_head.py fails until it names the head Alembic reads.
SCHEMA_HEAD = "0011"


def head_revision() -> str:
    """The newest schema revision this program knows."""
    return SCHEMA_HEAD


def alembic_head() -> str:
    """The newest schema revision as Alembic reads the migrations folder."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_alembic_config("sqlite://")).get_current_head() or ""


def current_revision(database: Database) -> str | None:
    """The schema revision the database is at, or None for an empty database."""
    try:
        with database.engine.connect() as raw_connection:
            connection = raw_connection.execution_options(read_only=True)
            if not inspect(connection).has_table(_VERSION_TABLE.name):
                return None
            stored = list(connection.scalars(select(_VERSION_TABLE.c.version_num)))
            if len(stored) <= 1:
                return stored[0] if stored else None
            # Several heads stored: Alembic says what is wrong, as it always did.
            from alembic.runtime.migration import MigrationContext

            return MigrationContext.configure(connection).get_current_revision()
    except OperationalError as exc:
        if database.is_sqlite:
            # Damaged, read-only, on a full disk: said the way every command says it.
            explained = explain(exc, database_name(database.url))
            raise (explained or DatabaseError(str(exc.orig))) from exc
        raise DatabaseError(
            f"Cannot open the database {database.display_url}: {exc.orig}. Check that the "
            "server is running and that the host, port, user, password and database name "
            "in the URL are right."
        ) from exc


def upgrade(database: Database, revision: str = "head") -> None:
    """Bring the schema up to a revision (default: the newest), keeping every row."""
    from alembic import command

    with _schema_change(database) as config:
        command.upgrade(config, revision)


def downgrade(database: Database, revision: str) -> None:
    """Take the schema back to an earlier revision, keeping every row the older schema holds."""
    from alembic import command

    with _schema_change(database) as config:
        command.downgrade(config, revision)


@contextmanager
def _schema_change(database: Database) -> Iterator[Any]:
    """One transaction for a migration, with SQLite's foreign keys held off while it runs.

    SQLite changes a table by building a new one and dropping the old; with
    foreign keys on, dropping `campaigns` would delete every invitation with
    it. This is SQLite's own procedure for schema changes: keys off (outside
    the transaction), change, check every key, commit, keys on.
    """
    config = _alembic_config(database.url)
    with database.engine.connect() as connection:
        # On the driver's connection: through SQLAlchemy it would open a transaction
        # first (our "begin" hook), inside which SQLite ignores the pragma.
        driver = connection.connection.dbapi_connection
        if database.is_sqlite and driver is not None:
            driver.execute("PRAGMA foreign_keys = OFF")
        try:
            with connection.begin():
                config.attributes["connection"] = connection
                yield config
                if database.is_sqlite:
                    _check_foreign_keys(connection)
        finally:
            if database.is_sqlite and driver is not None:
                driver.execute("PRAGMA foreign_keys = ON")


def _check_foreign_keys(connection: Connection) -> None:
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if broken:
        tables = ", ".join(sorted({str(row[0]) for row in broken}))
        raise DatabaseError(
            f"The migration would leave rows in {tables} pointing at rows that are gone, so "
            "nothing was changed. Restore from a backup or report this as a bug."
        )


def require_exists(database: Database) -> None:
    """Refuse a SQLite file that is not there, since opening it would create an empty one."""
    if not database.is_sqlite:
        return  # a missing PostgreSQL database fails to connect, with its own message
    path = make_url(database.url).database
    if path and path != ":memory:" and not Path(path).exists():
        raise DatabaseError(
            f"There is no database at {path}. Check the path; a relative path is "
            "read from the workspace folder (--home)."
        )


def require_current(database: Database) -> None:
    """Refuse to go on unless the schema is at the newest revision."""
    not_set_up = SchemaBehindError(
        f"The database {database.display_url} has not been set up. "
        "Run `coalitionletter init` first."
    )
    try:
        require_exists(database)  # opening a missing SQLite file would create an empty one
    except DatabaseError as exc:
        raise not_set_up from exc
    current = current_revision(database)
    if current is None:
        raise not_set_up
    head = head_revision()
    if current == head:
        return
    if not _known_revision(current):
        raise DatabaseError(
            f"The database {database.display_url} is at schema {current}, which this "
            f"program (schema {head}) does not know: a newer version of coalitionletter "
            "made it. Install that version (or a later one) to use this database."
        )
    raise SchemaBehindError(
        f"The database {database.display_url} is at schema {current}, older than this "
        f"program's {head}. Run `coalitionletter init` to upgrade it (every row is kept)."
    )


def _known_revision(revision: str) -> bool:
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    scripts = ScriptDirectory.from_config(_alembic_config("sqlite://"))
    try:
        return scripts.get_revision(revision) is not None
    except CommandError:
        return False


def table_names(database: Database) -> list[str]:
    """The tables present in the database."""
    return inspect(database.engine).get_table_names()


def reset_sequences(connection: Connection, tables: Iterable[Table]) -> None:
    """After rows were copied with their ids, make new ids start past the largest one.

    SQLite picks max(id) + 1 by itself; PostgreSQL's id sequences do not know
    about rows inserted with explicit ids, so each is moved past the table's
    largest id.
    """
    if connection.dialect.name != "postgresql":
        return
    for table in tables:
        for column in table.primary_key.columns:
            if not isinstance(column.type, Integer):
                continue
            sequence = connection.scalar(
                select(func.pg_get_serial_sequence(table.name, column.name))
            )
            if sequence is None:
                continue
            next_id = select(func.coalesce(func.max(column), 0) + 1).scalar_subquery()
            connection.execute(select(func.setval(sequence, next_id, False)))
