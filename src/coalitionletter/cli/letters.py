"""Commands for the letters: build."""

from __future__ import annotations

from pathlib import Path

import click

from coalitionletter.cli import AppContext, core_errors, pass_app


@click.command()
@click.argument("campaign", required=False)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for the files (default: letters/CAMPAIGN/out).",
)
@click.option("--recipient", metavar="KEY", help="Build only the letter to this recipient.")
@click.option(
    "--format",
    "formats",
    type=click.Choice(["html", "pdf"]),
    multiple=True,
    help="Build only this format (repeatable; default: both).",
)
@click.option("--force", is_flag=True, help="Rebuild even if nothing changed.")
@click.option(
    "--allow-stale",
    is_flag=True,
    help="List organisations whose confirmation was given to an earlier text.",
)
@click.option(
    "--leave-out-stale",
    is_flag=True,
    help="Leave out (name here, count nowhere) organisations that confirmed an earlier text.",
)
@click.option(
    "--allow-missing-glyphs",
    is_flag=True,
    help="Build even if some characters have no installed font (they print as boxes).",
)
@click.option("--jobs", type=click.IntRange(min=1), help="PDFs rendered at once (default: CPUs).")
@click.option("-q", "--quiet", is_flag=True, help="Print only the summary, no progress.")
@pass_app
def build(
    app: AppContext,
    *,
    campaign: str | None,
    out_dir: Path | None,
    recipient: str | None,
    formats: tuple[str, ...],
    force: bool,
    allow_stale: bool,
    leave_out_stale: bool,
    allow_missing_glyphs: bool,
    jobs: int | None,
    quiet: bool,
) -> None:
    """Write each recipient's letter as HTML and PDF, and the list of who is named.

    Files go to letters/CAMPAIGN/out/: RECIPIENT.html and RECIPIENT.pdf per
    recipient, and signatories.csv and signatories.json. When some signatories
    may be named only to governments, each comes as RECIPIENT.delivered.* (all
    names: send to the government, never publish) and RECIPIENT.public.* (those
    names left out and counted). CAMPAIGN may be left out when letters/ holds
    one campaign. Nothing changed since the last build: nothing is rebuilt.
    Confirmations of an earlier text stop the build, naming them; after the
    sign-on closes, --leave-out-stale prints only those who agreed to this text.
    While another build of the same folder runs (here or in the staff console)
    it refuses at once and writes nothing.

    \b
    Examples:
      coalitionletter build
      coalitionletter build ilp-magnitsky-2020 --recipient uk --format pdf
      coalitionletter build --out /tmp/letters --force
      coalitionletter build ilp-magnitsky-2020 --leave-out-stale
    """
    from datetime import date

    from coalitionletter.build import letters as builder
    from coalitionletter.build import summary

    options = builder.BuildOptions(
        out_dir=out_dir,
        recipient=recipient,
        formats=tuple(dict.fromkeys(formats)) or builder.FORMATS,
        force=force,
        allow_stale=allow_stale,
        leave_out_stale=leave_out_stale,
        allow_missing_glyphs=allow_missing_glyphs,
        jobs=jobs,
        today=date.today(),
        source_date_epoch=app.environ.get("SOURCE_DATE_EPOCH"),
    )
    with (
        core_errors(),
        builder.building(app.settings, app.database, campaign, options, by=app.actor) as plan,
    ):
        note = summary.draft_note(app.settings, plan.definition)
        if note:
            click.echo(str(note), err=True)
        progress = None if quiet else (lambda line: click.echo(line, err=True))
        report = builder.execute(plan, progress)
    for warning in report.warnings:
        click.secho(f"Warning: {warning}", fg="yellow", err=True)
    lines = summary.left_out_lines(report) + summary.summary_lines(report, plan.definition.slug)
    click.echo("\n".join(map(str, lines)))


COMMANDS = [build]
