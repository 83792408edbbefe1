"""Databases for the tests: a throwaway PostgreSQL (or a given one), a fresh database per test.

Activation, by environment variable (read once at start-up, before the tests'
own environment is cleared):

    COALITIONLETTER_TEST_PG=auto                  start a throwaway PostgreSQL 15
    COALITIONLETTER_TEST_PG=postgresql://u:p@h/db use that server (u may CREATE DATABASE)
    (unset)                                       SQLite only, exactly as before

When active, every test that uses the `database` or `invoke` fixture (or asks
for `db_url` itself) runs twice, as [sqlite] and [postgresql]; the PostgreSQL
run gets its own new database, made from a migrated template when the test uses
`database` or `signon_workspace` (CREATE DATABASE ... TEMPLATE is far faster
than migrating) and empty otherwise, so `init` sees what it would see on a new
SQLite file. On SQLite, likewise, `database` and `signon_workspace` copy
`migrated_database`, a file migrated once per session, instead of migrating. Tests
that only make sense on SQLite (they look at the signatories.db file) are
marked `@pytest.mark.sqlite_only`; tests only for PostgreSQL are marked
`@pytest.mark.postgres` and use `pg_url` or `pg_database`; they are skipped when
PostgreSQL is not activated. A fixture that makes its own settings or runs the
command in a subprocess takes `db_url` and passes it on (`load_settings(home,
db=db_url)`, `--db`, or `[database] url`), as signon_workspace does.
"""

from __future__ import annotations

import inspect
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url

from coalitionletter.db import Database, upgrade

PG_ENV = "COALITIONLETTER_TEST_PG"
PG_VERSIONS = Path("/usr/lib/postgresql")  # Debian keeps each major version apart
PREFERRED_VERSION = "15"
DB_FIXTURES = frozenset({"database", "invoke"})
# Fixtures that bring their database to the newest schema: on PostgreSQL theirs
# is made from the migrated template.
MIGRATED_FIXTURES = frozenset({"database", "signon_workspace"})
_SETTING = pytest.StashKey[str]()


def pytest_configure(config: pytest.Config) -> None:
    """Remember the PostgreSQL setting and register the sqlite_only marker."""
    config.stash[_SETTING] = os.environ.get(PG_ENV, "").strip()
    config.addinivalue_line(
        "markers", "sqlite_only: looks at the SQLite file itself; not repeated on PostgreSQL"
    )


def _activated(config: pytest.Config) -> bool:
    return bool(config.stash.get(_SETTING, ""))


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Repeat each database-touching test on PostgreSQL when it is activated."""
    if not _activated(metafunc.config) or "db_url" not in metafunc.fixturenames:
        return
    if metafunc.definition.get_closest_marker("sqlite_only"):
        return
    asks_directly = "db_url" in inspect.signature(metafunc.function).parameters
    if not (DB_FIXTURES & set(metafunc.fixturenames) or asks_directly):
        return
    metafunc.parametrize(
        "db_url",
        ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
        indirect=True,
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip PostgreSQL-only tests when no PostgreSQL server was asked for."""
    if _activated(config):
        return
    skip = pytest.mark.skip(reason=f"PostgreSQL not activated: set {PG_ENV}=auto or a URL")
    for item in items:
        if item.get_closest_marker("postgres"):
            item.add_marker(skip)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _pg_bin() -> Path:
    installed = sorted(
        (folder for folder in PG_VERSIONS.glob("*/bin") if (folder / "initdb").exists()),
        key=lambda folder: (folder.parent.name != PREFERRED_VERSION, -_major(folder)),
    )
    if installed:
        return installed[0]
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    raise RuntimeError(
        f"{PG_ENV}=auto needs PostgreSQL's server programs (initdb, pg_ctl); "
        "install Debian's postgresql package (script/bootstrap does)."
    )


def _major(folder: Path) -> int:
    name = folder.parent.name
    return int(name) if name.isdigit() else 0


class ThrowawayServer:
    """A PostgreSQL cluster in a temporary folder on 127.0.0.1, for one test session."""

    def __init__(self) -> None:
        self.bin = _pg_bin()
        self.folder = Path(tempfile.mkdtemp(prefix="coalitionletter-pg-"))
        self.data = self.folder / "data"
        self.password = secrets.token_urlsafe(18)
        # initdb refuses to run as root, so the cluster belongs to `postgres`.
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        self.port = 0

    def _run(self, *args: str) -> None:
        result = subprocess.run(
            [*self.as_user, *args], capture_output=True, text=True, check=False, timeout=120
        )
        if result.returncode != 0:
            log = self.folder / "server.log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise RuntimeError(f"{args[0]} failed:\n{result.stdout}{result.stderr}{tail}")

    def start(self) -> URL:
        """Initialise the cluster, start it, and return the superuser URL."""
        password_file = self.folder / "password"
        password_file.write_text(self.password + "\n")
        if self.as_user:
            owner = pwd.getpwnam("postgres")
            for path in (self.folder, password_file):
                os.chown(path, owner.pw_uid, owner.pw_gid)
        self.folder.chmod(0o700)
        # ICU's root collation sorts text as a production server would (not
        # byte by byte, as SQLite does), so an ORDER BY that only works on
        # SQLite shows up here; ICU as the default arrived in PostgreSQL 15.
        collation = ["--locale-provider=icu", "--icu-locale=und"] if _major(self.bin) >= 15 else []
        self._run(
            str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres",
            "--auth=scram-sha-256", f"--pwfile={password_file}", "--encoding=UTF8",
            "--locale=C.UTF-8", *collation, "--no-sync", "--no-instructions",
        )  # fmt: skip
        password_file.unlink()
        for attempt in range(3):
            self.port = _free_port()
            options = (
                f"-c listen_addresses=127.0.0.1 -c port={self.port} "
                f"-c unix_socket_directories={self.folder} -c max_connections=200 "
                "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
            )
            try:
                self._run(
                    str(self.bin / "pg_ctl"), "-D", str(self.data), "-l",
                    str(self.folder / "server.log"), "-w", "-t", "60", "-o", options, "start",
                )  # fmt: skip
                break
            except RuntimeError:
                if attempt == 2:
                    raise  # the free port was taken between probing and starting
        return URL.create(
            "postgresql+psycopg",
            username="postgres",
            password=self.password,
            host="127.0.0.1",
            port=self.port,
            database="postgres",
        )

    def stop(self) -> None:
        """Stop the server at once and remove its folder."""
        if self.port:
            self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop")
        shutil.rmtree(self.folder, ignore_errors=True)


class PostgresServer:
    """A PostgreSQL server on which tests make and drop their own databases."""

    def __init__(self, admin_url: URL) -> None:
        self.admin_url = admin_url
        self.admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        self.prefix = f"cl_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}_{uuid.uuid4().hex[:6]}"
        self._template: str | None = None
        self._count = 0

    def url_for(self, name: str) -> str:
        """The psycopg 3 URL of one database on this server."""
        return self.admin_url.set(database=name).render_as_string(hide_password=False)

    def _create(self, name: str, template: str = "template0") -> None:
        # Names are made here from a counter, never from input.
        with self.admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))

    def drop(self, name: str) -> None:
        """Drop a database, cutting off any connection a test left open."""
        with self.admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    def _migrated_template(self) -> str:
        if self._template is None:
            name = f"{self.prefix}_template"
            self._create(name)
            database = Database(self.url_for(name))
            upgrade(database)
            database.dispose()
            self._template = name
        return self._template

    def new_database(self, *, migrated: bool) -> str:
        """Make a new database (empty, or migrated to the newest schema); return its name."""
        self._count += 1
        name = f"{self.prefix}_{self._count}"
        self._create(name, self._migrated_template() if migrated else "template0")
        return name

    def close(self) -> None:
        """Drop the template and let go of the admin connection."""
        if self._template:
            self.drop(self._template)
        self.admin.dispose()


@pytest.fixture(scope="session")
def postgres_server(request: pytest.FixtureRequest) -> Iterator[PostgresServer]:
    """The PostgreSQL server for this session (skips when not activated)."""
    setting = request.config.stash.get(_SETTING, "")
    if not setting:
        pytest.skip(f"PostgreSQL not activated: set {PG_ENV}=auto or a URL")
    throwaway = ThrowawayServer() if setting == "auto" else None
    try:
        admin_url = throwaway.start() if throwaway else make_url(setting)
        if admin_url.drivername in {"postgresql", "postgres"}:
            admin_url = admin_url.set(drivername="postgresql+psycopg")
        server = PostgresServer(admin_url)
        yield server
        server.close()
    finally:
        if throwaway:
            throwaway.stop()


def _fresh_database(request: pytest.FixtureRequest, *, migrated: bool) -> str:
    server: PostgresServer = request.getfixturevalue("postgres_server")
    name = server.new_database(migrated=migrated)
    request.addfinalizer(lambda: server.drop(name))
    return server.url_for(name)


@pytest.fixture
def db_url(request: pytest.FixtureRequest) -> str | None:
    """The database the test runs on: None is the workspace's SQLite file, as always."""
    if getattr(request, "param", "sqlite") == "sqlite":
        return None
    return _fresh_database(request, migrated=bool(MIGRATED_FIXTURES & set(request.fixturenames)))


@pytest.fixture(scope="session")
def migrated_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty SQLite database at the newest schema, made once and copied per test."""
    path = tmp_path_factory.mktemp("migrated-template") / "signatories.db"
    database = Database(f"sqlite:///{path}")
    upgrade(database)
    database.dispose()  # the last connection folds the WAL into the file that is copied
    return path


def copy_migrated(template: Path, database_file: Path) -> None:
    """Put a copy of the migrated template where a workspace keeps its SQLite database."""
    shutil.copy(template, database_file)  # with its owner-only mode, as `init` makes it


@pytest.fixture
def pg_url(request: pytest.FixtureRequest) -> str:
    """A new, empty PostgreSQL database's URL (for @pytest.mark.postgres tests)."""
    return _fresh_database(request, migrated=False)


@pytest.fixture
def pg_database(request: pytest.FixtureRequest) -> Iterator[Database]:
    """A new PostgreSQL database at the newest schema (for @pytest.mark.postgres tests)."""
    database = Database(_fresh_database(request, migrated=True))
    yield database
    database.dispose()
