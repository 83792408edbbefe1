"""The command line: one click group of thin commands over the core library.

Command modules import only click at the top; each command imports the core it
needs when it runs, so `coalitionletter --help` starts about as fast as click.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from coalitionletter.db import Database
    from coalitionletter.settings import Settings

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


class AppContext:
    """What every command gets: the flags, and settings and database made on first use."""

    # A plain class, not a dataclass: importing dataclasses costs a tenth of
    # `--help`'s start-up, which is measured against click's own (benchmark B9).
    def __init__(self, home: str | None, db: str | None, environ: dict[str, str] | None = None):
        self.home = home
        self.db = db
        self.environ = environ or {}
        self._settings: Settings | None = None
        self._database: Database | None = None

    @property
    def settings(self) -> Settings:
        """The resolved settings (flags, environment, coalitionletter.toml)."""
        if self._settings is None:
            from coalitionletter.settings import load_settings

            with core_errors():
                self._settings = load_settings(self.home, self.db, self.environ)
        return self._settings

    @property
    def actor(self) -> str:
        """Who the trail records as doing what this command does: `staff: NAME`."""
        from coalitionletter.signon.states import staff_actor

        return staff_actor(self.settings.staff_name)

    @property
    def database(self) -> Database:
        """The database, checked to be at the newest schema."""
        database = self.open_database()
        from coalitionletter.db import require_current

        with core_errors():
            require_current(database)
        return database

    @property
    def database_name(self) -> str | None:
        """The SQLite file or the database URL (password hidden), once the settings are read."""
        if self._settings is None:
            return None
        from coalitionletter.db import database_name

        return database_name(self._settings.db_url)

    def open_database(self) -> Database:
        """The database as it is, without checking its schema (for init and backup)."""
        if self._database is None:
            from coalitionletter.db import Database

            with core_errors():
                self._database = Database(self.settings.db_url)
        return self._database


class core_errors:
    """Turn the core's domain errors into click errors that print cleanly."""

    def __enter__(self) -> None:
        return None

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, _tb: Any
    ) -> None:
        from coalitionletter.errors import CoalitionError

        if exc is not None and isinstance(exc, CoalitionError):
            raise click.ClickException(str(exc)) from exc


pass_app = click.make_pass_decorator(AppContext)


def ask_or_abort(question: str) -> None:
    """Ask staff to confirm; stop when they say no, and say how when nobody can answer."""
    try:
        agreed = click.confirm(question, default=False)
    except click.Abort:
        # click answers end of input (a script, cron, a pipe) with a bare "Aborted!".
        raise click.UsageError(
            f"{question} No answer could be read (no terminal?). "
            "Pass --yes to go ahead without being asked."
        ) from None
    if not agreed:
        raise click.Abort


class Commands(click.Group):
    """The command group, whose commands all say a disk or database fault in one line."""

    def invoke(self, ctx: click.Context) -> Any:
        """Run the command; a damaged database, full disk or read-only folder ends it cleanly."""
        try:
            return super().invoke(ctx)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except Exception as exc:
            from coalitionletter.faults import explain

            app = ctx.find_object(AppContext)
            error = explain(exc, app.database_name if app is not None else None)
            if error is None:
                raise
            raise click.ClickException(str(error)) from exc


@click.group(cls=Commands, context_settings=CONTEXT_SETTINGS)
@click.version_option(package_name="coalitionletter")
@click.option(
    "--home",
    type=click.Path(file_okay=False),
    help="Workspace folder (default: current folder, or $COALITIONLETTER_HOME).",
)
@click.option(
    "--db",
    help="Database file or SQLAlchemy URL (default: signatories.db in the workspace, "
    "or $COALITIONLETTER_DB).",
)
@click.pass_context
def cli(ctx: click.Context, home: str | None, db: str | None) -> None:
    """Joint advocacy letters and the organisations who sign them.

    \b
    A campaign's journey:
      coalitionletter init                       create or upgrade signatories.db
      coalitionletter org import orgs.csv        fill the registry
      coalitionletter invite CAMPAIGN --all      email each organisation its link
      coalitionletter serve                      the sign-on pages
      coalitionletter counts CAMPAIGN            where the sign-on stands
      coalitionletter build CAMPAIGN             the letters, as PDF and HTML
    """
    ctx.obj = AppContext(home=home, db=db, environ=dict(os.environ))


def _register() -> None:
    from coalitionletter.cli import letters, migrate, names, org, reports, signon, staff, workspace

    for module in (workspace, org, letters, signon, names, reports, migrate, staff):
        for command in module.COMMANDS:
            cli.add_command(command)


_register()


def main() -> None:
    """Entry point of the console script."""
    cli(prog_name="coalitionletter")
