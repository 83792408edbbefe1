"""Command that moves a workspace's data to another database: migrate-data."""

from __future__ import annotations

import click

from coalitionletter.cli import AppContext, core_errors, pass_app


@click.command("migrate-data")
@click.option(
    "--from",
    "source",
    required=True,
    metavar="DB",
    help="Database to copy from: a SQLite file (relative to the workspace) or a URL.",
)
@click.option(
    "--to",
    "target",
    required=True,
    metavar="DB",
    help="Database to copy into, e.g. postgresql+psycopg://user@host/dbname.",
)
@click.option("--replace", is_flag=True, help="Delete everything the target holds first.")
@pass_app
def migrate_data(app: AppContext, source: str, target: str, replace: bool) -> None:
    """Copy every row from one database into another, e.g. signatories.db into PostgreSQL.

    The target's schema is created (or upgraded) first. Every organisation,
    contact, campaign, invitation, email and event keeps its id; the copy is one
    transaction, and it is kept only if every table holds as many rows as the
    source and every event chain verifies on the target. A target that already
    holds data is refused unless --replace is given. The source is only read.
    Stop the web server while copying: answers given after the copy began
    would not be copied.

    \b
    Example:
      coalitionletter migrate-data --from signatories.db \\
          --to postgresql+psycopg://coalition@db.example.org/letters
      export COALITIONLETTER_DB=postgresql+psycopg://coalition@db.example.org/letters
    """
    from coalitionletter.db import Database
    from coalitionletter.settings import database_url
    from coalitionletter.workspace import transfer

    home = app.settings.home
    with core_errors():
        report = transfer.copy_all(
            Database(database_url(source, home)),
            Database(database_url(target, home)),
            replace=replace,
        )
    for line in report.lines():
        click.echo(line)
    click.echo(
        "Point coalitionletter at the new database: --db, COALITIONLETTER_DB, or "
        "[database] url in coalitionletter.toml."
    )


COMMANDS = [migrate_data]
