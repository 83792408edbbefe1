"""Commands that set up and safeguard the workspace: init, backup."""

from __future__ import annotations

from pathlib import Path

import click

from coalitionletter.cli import AppContext, core_errors, pass_app


@click.command()
@pass_app
def init(app: AppContext) -> None:
    """Create or upgrade the database and load each campaign's seed.

    Safe to run again: an existing database is upgraded in place, every row
    kept, and seeds already loaded are not loaded twice.

    \b
    Example:
      coalitionletter init
      coalitionletter --db postgresql+psycopg://coalition@db/letters init
    """
    from coalitionletter.workspace import setup as workspace

    with core_errors():
        report = workspace.initialise(app.settings, app.open_database())
    for line in report:
        click.echo(line)


@click.command()
@click.argument("destination", type=click.Path(dir_okay=False, writable=True))
@click.option("--force", is_flag=True, help="Replace DESTINATION if it exists.")
@pass_app
def backup(app: AppContext, destination: str, force: bool) -> None:
    """Write a consistent copy of the database to DESTINATION.

    Safe while the web server or another command is writing. The copy is
    checked with SQLite's integrity check before the command reports success.

    \b
    Example:
      coalitionletter backup backups/signatories-2020-08-18.db
    """
    from coalitionletter.workspace import setup as workspace

    with core_errors():
        summary = workspace.backup(app.open_database(), Path(destination), overwrite=force)
    click.echo(summary)


COMMANDS = [init, backup]
