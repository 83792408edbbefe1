"""Commands for the letters: build."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from coalitionletter.cli import AppContext, core_errors, pass_app

if TYPE_CHECKING:
    from coalitionletter.build.letters import BuildReport


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

    \b
    Examples:
      coalitionletter build
      coalitionletter build ilp-magnitsky-2020 --recipient uk --format pdf
      coalitionletter build --out /tmp/letters --force
      coalitionletter build ilp-magnitsky-2020 --leave-out-stale
    """
    from datetime import date

    from coalitionletter.build import letters as builder
    from coalitionletter.campaigns import catalogue as campaigns

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
    with core_errors():
        slug = campaigns.resolve_slug(app.settings, campaign)
        with app.database.reading() as session:
            definition = campaigns.load_current(app.settings, session, slug)
            plan = builder.plan(session, app.settings, definition, options)
        _say_if_draft_differs(app, definition)
        progress = None if quiet else (lambda line: click.echo(line, err=True))
        report = builder.execute(plan, progress)
    for warning in report.warnings:
        click.secho(f"Warning: {warning}", fg="yellow", err=True)
    _left_out(report)
    _summary(report, definition.slug)


def _say_if_draft_differs(app: AppContext, definition: Any) -> None:
    """Tell staff when body.md holds edits the build does not print (they are not published)."""
    from coalitionletter.campaigns import catalogue as campaigns
    from coalitionletter.errors import CampaignError

    if not definition.published:
        return
    try:
        draft = campaigns.load(app.settings, definition.slug)
    except CampaignError as problem:
        click.echo(
            f"Note: the draft in letters/{definition.slug}/ has an error: {problem}", err=True
        )
        return
    if {v.language: v.text_hash for v in draft.versions} != {
        v.language: v.text_hash for v in definition.versions
    }:
        click.echo(
            f"Note: letters/{definition.slug}/ holds changes to the text that are not published; "
            "this build prints the published text. See them with: coalitionletter publish "
            f"{definition.slug} --diff",
            err=True,
        )


def _left_out(report: BuildReport) -> None:
    if not report.left_out:
        return
    count = len(report.left_out)
    click.echo(
        f"Left out {count} organisation{'s' if count != 1 else ''} that confirmed an earlier "
        "text and not this one (--leave-out-stale); not named and not counted in any file:"
    )
    for name in report.left_out:
        click.echo(f"  - {name}")


def _summary(report: BuildReport, slug: str) -> None:
    named = f"{report.count} signatories"
    if report.withheld:
        named += f" ({report.withheld} named only in the delivered copies)"
    click.echo(f"The trail of {slug} verified; its anchor: {report.trail_head}")
    if not report.written:
        click.echo(f"Nothing changed for {slug}; the files in {report.out_dir} are current.")
        return
    click.echo(f"Built {len(report.written)} file(s) for {slug} in {report.out_dir}: {named}.")
    for path in report.written:
        click.echo(f"  {path.name}")
    if report.unchanged:
        click.echo(f"{len(report.unchanged)} file(s) unchanged.")
    for path in report.removed:
        click.echo(f"Removed superseded {path.name}")


COMMANDS = [build]
