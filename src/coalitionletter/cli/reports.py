"""Commands for coordinators: counts (terminal, CSV, JSON, printable sheet) and export."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from coalitionletter.cli import AppContext, core_errors, pass_app

if TYPE_CHECKING:
    from coalitionletter.reports.count_values import LetterNow
    from coalitionletter.reports.countsheet import Sheet

BY_CHOICES = ("status", "country", "type")
PAPER_CHOICES = ("a4", "letter")


def _write_text(target: str, text: str) -> None:
    if target == "-":
        click.echo(text, nl=False)
        return
    from coalitionletter.reports.counts import write_output

    with core_errors():
        write_output(Path(target), text.encode("utf-8"))


@click.command()
@click.argument("campaign", required=False)
@click.option(
    "--by", type=click.Choice(BY_CHOICES), help="Break the counts down by status, country or type."
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(("table", "csv", "json")),
    default="table",
    show_default=True,
    help="How to print the counts.",
)
@click.option(
    "--pdf",
    "pdf_path",
    type=click.Path(dir_okay=False),
    help="Also write the printable count sheet as PDF to this file.",
)
@click.option(
    "--html",
    "html_path",
    type=click.Path(dir_okay=False),
    help="Also write the count sheet as HTML to this file.",
)
@click.option(
    "--paper",
    type=click.Choice(PAPER_CHOICES, case_sensitive=False),
    default="a4",
    show_default=True,
    help="Paper size of the count sheet.",
)
@pass_app
def counts(
    app: AppContext,
    *,
    campaign: str | None,
    by: str | None,
    output_format: str,
    pdf_path: str | None,
    html_path: str | None,
    paper: str,
) -> None:
    """Show where the sign-on stands: invited, answered, confirmed, and whom to chase.

    Without CAMPAIGN, one line per campaign. Percentages are of those invited.
    The count sheet (--pdf, --html) lists the contact person of each
    organisation that has not answered: treat it as confidential.

    \b
    Example:
      coalitionletter counts
      coalitionletter counts ilp-magnitsky-2020 --by country
      coalitionletter counts ilp-magnitsky-2020 --format json > counts.json
      coalitionletter counts ilp-magnitsky-2020 --pdf sheet.pdf --paper letter
    """
    if campaign is None and (by or pdf_path or html_path):
        raise click.UsageError(
            "--by, --pdf and --html need a CAMPAIGN; name one, e.g. "
            "`coalitionletter counts ilp-magnitsky-2020 --by country`."
        )
    from coalitionletter.reports import counts as reports

    with core_errors():
        for target in (pdf_path, html_path):
            if target:
                reports.check_output_path(Path(target))
    database = app.database
    sheet = None
    with core_errors(), database.reading() as session:
        letters = _letters_now(app, session, campaign)
        if campaign is None:
            summary = reports.overview(session, letters=letters)
            text = reports.overview_text(summary, output_format)
        else:
            counted = reports.campaign_counts(
                session, campaign, by=by, letter=letters.get(campaign)
            )
            text = reports.counts_text(counted, output_format)
            if pdf_path or html_path:
                from coalitionletter.reports import countsheet

                # Read in the same session, so the sheet and the screen show one moment.
                sheet = countsheet.build_sheet(app.settings, session, campaign, paper=paper.lower())
    if sheet is not None:
        _write_sheet(sheet, pdf_path, html_path)
    click.echo(text, nl=False)


def _letters_now(app: AppContext, session: Any, slug: str | None) -> dict[str, LetterNow]:
    """What the named campaign's files say now, or every readable one's in letters/.

    A campaign whose files cannot be read is left out, and said so: none of its
    confirmations can be counted as stale, and its title and deadline are the
    database's copy.
    """
    from coalitionletter.campaigns import catalogue as campaigns
    from coalitionletter.reports.counts import letters_now

    with core_errors():
        slugs = [slug] if slug is not None else campaigns.discover(app.settings)
    found, unreadable = letters_now(app.settings, session, slugs)
    for name, problem in unreadable.items():
        click.echo(
            f"Warning: the letter of {name} cannot be read, so its confirmations are not "
            f"checked against the current text (none is counted as stale): {problem}",
            err=True,
        )
    return found


def _write_sheet(sheet: Sheet, pdf_path: str | None, html_path: str | None) -> None:
    from coalitionletter.reports import countsheet
    from coalitionletter.reports.counts import write_output

    with core_errors():
        if html_path:
            write_output(Path(html_path), countsheet.render_html(sheet).encode("utf-8"))
            click.echo(f"Wrote the count sheet to {html_path}.", err=True)
        if pdf_path:
            write_output(Path(pdf_path), countsheet.render_pdf(sheet))
            click.echo(f"Wrote the count sheet to {pdf_path}.", err=True)
    click.echo(
        "The sheet lists contact people: keep it within the coalition and shred it after use.",
        err=True,
    )


@click.command()
@click.argument("campaign")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(("csv", "json")),
    default="csv",
    show_default=True,
    help="CSV (formula-safe) or JSON.",
)
@click.option(
    "--output",
    "-o",
    metavar="FILE",
    default="-",
    show_default=True,
    help="File to write, or - for standard output.",
)
@click.option(
    "--delivered",
    is_flag=True,
    help="Every signatory, including those named to governments only. Never publish it.",
)
@click.option(
    "--allow-stale",
    is_flag=True,
    help="Include confirmations given to an earlier text of the letter (as build does).",
)
@click.option("--force", is_flag=True, help="Replace the --output file if it exists.")
@pass_app
def export(
    app: AppContext,
    *,
    campaign: str,
    output_format: str,
    output: str,
    delivered: bool,
    allow_stale: bool,
    force: bool,
) -> None:
    """Write the organisations named in the letter as CSV or JSON, for press and partners.

    The public list (the default) leaves out organisations that asked to be
    named to governments only, and says how many. --delivered gives the list
    as delivered to governments: it must not be published; each such export is
    recorded in the campaign's trail, with who took it.

    \b
    Example:
      coalitionletter export ilp-magnitsky-2020 > signatories.csv
      coalitionletter export ilp-magnitsky-2020 --format json --output signatories.json
      coalitionletter export ilp-magnitsky-2020 --delivered --output for-governments.csv
    """
    from coalitionletter.campaigns import catalogue as campaigns
    from coalitionletter.reports import export as exporting
    from coalitionletter.reports.counts import check_output_path

    database = app.database
    with core_errors():
        if output != "-":
            check_output_path(Path(output), overwrite=force)
        with database.reading() as session:
            definition = campaigns.load_current(app.settings, session, campaign)
            listing = exporting.signatory_list(
                session, definition, delivered=delivered, allow_stale=allow_stale
            )
    text = exporting.as_csv(listing) if output_format == "csv" else exporting.as_json(listing)
    _write_text(output, text)
    if delivered:
        with core_errors(), database.writing() as session:
            what = {"list": "delivered", "format": output_format}
            exporting.note_delivered_taken(session, campaign, actor=app.actor, what=what)
    click.echo(exporting.summary(listing), err=True)


COMMANDS = [counts, export]
