"""The `staff` commands: accounts for the staff console (add, list, disable, reset)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from coalitionletter.cli import CONTEXT_SETTINGS, AppContext, core_errors, pass_app

if TYPE_CHECKING:
    from coalitionletter.staff.accounts import IssuedLink

ROLES = ("staff", "coordinator")


@click.group(context_settings=CONTEXT_SETTINGS)
def staff() -> None:
    """Keep the accounts that sign in to the staff console (/staff of `serve`).

    \b
    Example:
      coalitionletter staff add "Ana Lima" --email ana@example.org
      coalitionletter staff list
    """


def _hand_over(app: AppContext, issued: IssuedLink) -> None:
    click.echo(
        f"One-time link for {issued.account.name} <{issued.account.email}> "
        f"({issued.account.role}), usable once until "
        f"{issued.expires_at:%Y-%m-%d %H:%M} UTC:"
    )
    click.echo(f"  {issued.url}")
    click.echo(
        "Give it to them yourself, over a channel you trust: it sets the password. "
        "It is shown only now and cannot be shown again."
    )
    if not app.settings.base_url_configured and not app.settings.console.base_url:
        click.echo(
            f"Note: the link uses {app.settings.base_url}, the default address, because "
            "[web] base_url is not set in coalitionletter.toml.",
            err=True,
        )


@staff.command()
@click.argument("name")
@click.option("--email", required=True, help="The address they sign in with.")
@click.option(
    "--role",
    type=click.Choice(ROLES),
    default="staff",
    show_default=True,
    help="coordinator: counts, count sheet and public export only; staff: everything.",
)
@pass_app
def add(app: AppContext, name: str, email: str, role: str) -> None:
    """Add a console account and print its one-time link to set a password.

    The link expires after [console] link_hours (default 48) and works once.

    \b
    Example:
      coalitionletter staff add "Ana Lima" --email ana@example.org
      coalitionletter staff add "Sam Okafor" --email sam@example.org --role coordinator
    """
    from coalitionletter.staff import accounts

    settings = app.settings
    with core_errors(), app.database.writing() as session:
        issued = accounts.add(
            session,
            name,
            email,
            role,
            actor=app.actor,
            base_url=settings.console_url,
            link_hours=settings.console.link_hours,
        )
    _hand_over(app, issued)


@staff.command(name="list")
@pass_app
def list_(app: AppContext) -> None:
    """List the console accounts: name, email, role, state and last sign-in.

    \b
    Example:
      coalitionletter staff list
    """
    from coalitionletter.reports.count_text import text_table
    from coalitionletter.staff import accounts

    with core_errors(), app.database.reading() as session:
        found = accounts.list_accounts(session)
    if not found:
        click.echo("No staff accounts yet. Add one: coalitionletter staff add NAME --email E")
        return
    rows = [
        [
            a.name,
            a.email,
            a.role,
            a.state,
            f"{a.last_login_at:%Y-%m-%d %H:%M} UTC" if a.last_login_at else "never",
        ]
        for a in found
    ]
    click.echo(text_table(["Name", "Email", "Role", "State", "Last sign-in"], rows))


@staff.command()
@click.argument("email")
@pass_app
def disable(app: AppContext, email: str) -> None:
    """Disable an account: it cannot sign in, and its open sessions end at once.

    \b
    Example:
      coalitionletter staff disable ana@example.org
    """
    from coalitionletter.staff import accounts

    with core_errors(), app.database.writing() as session:
        view = accounts.disable(session, email, actor=app.actor)
    click.echo(f"Disabled {view.name} <{view.email}>: signed out everywhere, cannot sign in.")


@staff.command()
@click.argument("email")
@pass_app
def reset(app: AppContext, email: str) -> None:
    """Give an account a new one-time link; its password and open sessions stop working.

    Use it when someone forgot their password, or it may be known to others.

    \b
    Example:
      coalitionletter staff reset ana@example.org
    """
    from coalitionletter.staff import accounts

    settings = app.settings
    with core_errors(), app.database.writing() as session:
        issued = accounts.reset(
            session,
            email,
            actor=app.actor,
            base_url=settings.console_url,
            link_hours=settings.console.link_hours,
        )
    _hand_over(app, issued)


COMMANDS: list[click.Command] = [staff]
