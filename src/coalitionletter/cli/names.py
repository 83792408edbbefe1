"""Corrected names: list the proposals organisations made, approve or reject them."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from coalitionletter.cli import AppContext, core_errors, pass_app

if TYPE_CHECKING:
    from coalitionletter.signon.corrections import Pending


def _describe(proposal: Pending) -> list[str]:
    from datetime import UTC

    from coalitionletter.dates import WORDS_LOCALE, format_moment

    when = format_moment(proposal.proposed_at, UTC, WORDS_LOCALE) if proposal.proposed_at else "?"
    lines = [
        f"#{proposal.organisation_id} {proposal.slug} ({proposal.state})",
        f"  registry name: {proposal.registry_name}",
    ]
    if proposal.printed_name != proposal.registry_name:
        lines.append(f"  printed now:   {proposal.printed_name}")
    lines.append(f"  proposed name: {proposal.proposed_name}")
    if not proposal.proposed_name.isascii():
        # Every code point written out, so nothing in it can hide or reorder the text.
        lines.append(f"  as written:    {proposal.proposed_name!a}")
    lines.append(f"  proposed by {proposal.proposed_by or 'unknown'} on {when}")
    return lines


@click.command()
@click.argument("campaign")
@click.option("--approve", "approve", metavar="ORG", help="Print this organisation's proposal.")
@click.option("--reject", "reject", metavar="ORG", help="Drop this organisation's proposal.")
@click.option("--reason", help="Why (kept in the trail with the decision).")
@click.option("--yes", is_flag=True, help="Do not ask before approving or rejecting.")
@pass_app
def names(
    app: AppContext,
    *,
    campaign: str,
    approve: str | None,
    reject: str | None,
    reason: str | None,
    yes: bool,
) -> None:
    """List the corrected names organisations proposed; approve or reject one.

    A name typed on the sign-on form is printed only once staff approve it;
    until then the registry name is printed. Without --approve or --reject,
    lists every pending proposal beside the registry name, with who proposed
    it and when. Approving asks first, showing the name exactly as written,
    and fails if the proposal changed meanwhile. Both are in the trail, with
    the --reason if given.

    \b
    Example:
      coalitionletter names ilp-magnitsky-2020
      coalitionletter names ilp-magnitsky-2020 --approve pen-america
      coalitionletter names ilp-magnitsky-2020 --reject 12 --reason "not its name" --yes
    """
    from coalitionletter.campaigns import catalogue as campaigns
    from coalitionletter.signon import corrections

    if approve and reject:
        raise click.UsageError("Give --approve ORG or --reject ORG, not both.")
    with core_errors():
        definition = campaigns.load(app.settings, campaign)
    ref = approve or reject
    if ref is None:
        with core_errors(), app.database.reading() as session:
            pending = corrections.pending(session, definition)
        if not pending:
            click.echo(f"No proposed names await a decision in {campaign}.")
            return
        click.echo(f"{len(pending)} proposed name(s) await a decision in {campaign}:")
        for proposal in pending:
            click.echo("\n".join(_describe(proposal)))
        return
    with core_errors(), app.database.reading() as session:
        seen = corrections.pending_for(session, definition, ref)
    verb = "Approve" if approve else "Reject"
    click.echo("\n".join(_describe(seen)))
    if not yes:
        click.confirm(f"{verb} {seen.proposed_name!r} for {seen.registry_name!r}?", abort=True)
    with core_errors(), app.database.writing() as session:
        corrections.decide(
            session,
            definition,
            ref,
            approve=bool(approve),
            expected=seen.proposed_name,
            actor=app.actor,
            reason=reason,
        )
    if approve:
        click.echo(f"Approved: {seen.proposed_name} is printed for #{seen.organisation_id}.")
    else:
        click.echo(
            f"Rejected: {seen.proposed_name!r} is dropped; #{seen.organisation_id} is printed "
            f"as {seen.printed_name}."
        )


COMMANDS = [names]
