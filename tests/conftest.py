"""Shared fixtures: a temporary workspace and database per test, the CLI runner, the app."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy.engine import make_url

from coalitionletter.cli import cli
from coalitionletter.db import Database
from coalitionletter.settings import Settings, load_settings

# One fixture plugin per area keeps shared fixtures together without every
# area editing this file at once.
pytest_plugins = [
    "fixtures_registry",
    "fixtures_letters",
    "fixtures_signon",
    "fixtures_counts",
    "fixtures_postgres",
    "fixtures_browser",
    "fixtures_console",
]

REPO = Path(__file__).resolve().parent.parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the files that hold slow tests first, each file's tests still together.

    With `-n 2` a test of half a minute started last keeps one core busy while
    the other has nothing left to do; started first, the quick tests fill in
    around it. A file's tests stay together so its module fixtures are made once.
    """
    slow_files = {item.path for item in items if item.get_closest_marker("slow")}
    items.sort(key=lambda item: item.path not in slow_files)  # stable: order kept within


FOUNDING_SLUG = "ilp-magnitsky-2020"


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test sees the developer's own COALITIONLETTER_* settings."""
    import os

    for name in list(os.environ):
        if name.startswith("COALITIONLETTER_"):
            monkeypatch.delenv(name)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """An empty workspace folder."""
    path = tmp_path / "workspace"
    path.mkdir()
    return path


@pytest.fixture
def founding_home(home: Path) -> Path:
    """A workspace holding a copy of the founding campaign from letters/."""
    # Imported here, not at the top: fixtures_letters is a plugin this file
    # registers, and importing it first would skip pytest's assertion rewriting.
    from fixtures_letters import copy_campaign

    copy_campaign(home, FOUNDING_SLUG)
    return home


@pytest.fixture
def settings(home: Path, db_url: str | None) -> Settings:
    """Settings for the empty workspace (db_url: see fixtures_postgres.py)."""
    return load_settings(home, db=db_url, environ={})


@pytest.fixture
def database(settings: Settings, migrated_database: Path) -> Iterator[Database]:
    """The workspace's database, at the newest schema.

    On SQLite a copy of `migrated_database`, on PostgreSQL a database made from
    the server's migrated template (both in fixtures_postgres.py): migrating
    per test cost about 0.1 s of CPU, a copy costs a few ms.
    """
    # Imported here, not at the top, for the reason founding_home gives.
    from fixtures_postgres import copy_migrated

    url = make_url(settings.db_url)
    if url.get_backend_name() == "sqlite" and url.database:
        copy_migrated(migrated_database, Path(url.database))
    db = Database(settings.db_url)
    yield db
    db.dispose()


@pytest.fixture
def runner() -> CliRunner:
    """Click's test runner."""
    return CliRunner()


CliInvoke = Callable[..., Result]


@pytest.fixture
def invoke(runner: CliRunner, home: Path, db_url: str | None) -> CliInvoke:
    """Run `coalitionletter --home <workspace> ARGS...` and return click's Result."""

    def run(*args: str, input: str | None = None, env: dict[str, str] | None = None) -> Result:
        # On the PostgreSQL run, point at its database unless the test sets its own.
        use_pg = db_url and "COALITIONLETTER_DB" not in (env or {})
        db_args = ["--db", db_url] if use_pg else []
        return runner.invoke(
            cli,
            ["--home", str(home), *db_args, *args],
            input=input,
            env=env,
            catch_exceptions=False,
        )

    return run


@pytest.fixture
def signed_in(
    console_client: Callable[[], Any], staff_login: Callable[..., Any]
) -> Callable[[str], Any]:
    """A new console client (a separate browser) signed in as EMAIL, the sign-in checked."""

    def run(email: str) -> Any:
        client = console_client()
        staff_login(client, email)
        return client

    return run
