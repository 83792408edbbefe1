"""The `org` commands: keep the registry of organisations (add, list, show, edit, ...)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from coalitionletter.cli import CONTEXT_SETTINGS, AppContext, ask_or_abort, core_errors, pass_app

FORMATS = ("table", "csv", "json")


@click.group(context_settings=CONTEXT_SETTINGS)
def org() -> None:
    """Keep the registry of organisations who may sign a letter.

    \b
    Example:
      coalitionletter org import coalition.csv --dry-run
      coalitionletter org list --country GB
    """


def _fields_option(function: Any) -> Any:
    options = [
        click.option("--country", help="ISO 3166-1 code or English name (GB, United Kingdom)."),
        click.option("--type", "org_type", help="Kind of organisation (e.g. national NGO)."),
        click.option("--website", help="Website, e.g. example.org."),
        click.option("--contact", "contact_name", help="Contact person's name."),
        click.option("--title", "contact_title", help="Contact person's title."),
        click.option("--email", help="Contact person's email address."),
        click.option("--language", help="Contact's language: ISO 639 code or English name."),
        click.option("--sort-name", help='Name to file under (default: without a leading "The").'),
        click.option("--notes", help="Free notes for staff (never printed in a letter)."),
    ]
    for option in reversed(options):
        function = option(function)
    return function


FIELD_NAMES = (
    "country",
    "org_type",
    "website",
    "contact_name",
    "contact_title",
    "email",
    "language",
    "sort_name",
    "notes",
)


@org.command()
@click.argument("name")
@_fields_option
@pass_app
def add(app: AppContext, name: str, **options: str | None) -> None:
    """Add one organisation, named exactly as it must appear in a letter.

    A name, email or website domain already in the registry is refused, and
    the existing organisation is named.

    \b
    Example:
      coalitionletter org add "Human Rights First" --country US --type "international NGO"
      coalitionletter org add "PEN America" --country US --contact "A. Person" --email a@pen.example
    """
    from coalitionletter.registry import duplicates
    from coalitionletter.registry import organisations as registry

    raw = {"name": name, **{key: value for key, value in options.items() if value is not None}}
    with core_errors(), app.database.writing() as session:
        organisation = registry.add(session, raw, actor=app.actor)
        summary = duplicates.label(organisation)
    click.echo(f"Added {summary}.")


def _display_width(text: str) -> int:
    import unicodedata

    width = 0
    for char in text:
        if unicodedata.combining(char) or unicodedata.category(char) in {"Cf", "Mn"}:
            continue
        width += 2 if unicodedata.east_asian_width(char) in {"W", "F"} else 1
    return width


def _pad(text: str, width: int) -> str:
    return text + " " * max(0, width - _display_width(text))


def _table(rows: list[list[str]]) -> str:
    widths = [max(_display_width(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [
        "  ".join(_pad(cell, widths[i]) for i, cell in enumerate(row)).rstrip() for row in rows
    ]
    return "\n".join(lines)


@org.command(name="list")
@click.option("--country", help="Only this country (code or English name).")
@click.option("--type", "org_type", help="Only this type (case ignored).")
@click.option("--search", help="Only names, slugs, contacts or emails containing this.")
@click.option("--all", "include_merged", is_flag=True, help="Include organisations merged away.")
@click.option("--format", "output", type=click.Choice(FORMATS), default="table", show_default=True)
@pass_app
def list_(
    app: AppContext,
    *,
    country: str | None,
    org_type: str | None,
    search: str | None,
    include_merged: bool,
    output: str,
) -> None:
    """List the registry's organisations, in sort-name order.

    JSON output is a list of objects with name, sort_name, slug, country,
    country_name, type, website, notes and contacts.

    \b
    Example:
      coalitionletter org list --country GB --type "Uyghur diaspora group"
      coalitionletter org list --search pen --format json
    """
    import sys

    from coalitionletter.registry import countries
    from coalitionletter.registry import importing as registry_import
    from coalitionletter.registry import organisations as registry
    from coalitionletter.spreadsheet_cells import SPREADSHEET_BOM

    filters = registry.Filters(country, org_type, search, include_merged)
    with core_errors(), app.database.reading() as session:
        found = registry.list_organisations(session, filters)
        if output == "json":
            registry_import.write_json(found, sys.stdout)
            return
        if output == "csv":
            sys.stdout.write(SPREADSHEET_BOM)
            registry_import.write_csv(found, sys.stdout)
            return
        rows = [["ID", "NAME", "COUNTRY", "TYPE", "CONTACTS", "SLUG"]]
        for organisation in found:
            merged = organisation.merged_into_id
            rows.append(
                [
                    str(organisation.id),
                    f"{organisation.name} [merged into #{merged}]" if merged else organisation.name,
                    countries.country_name(organisation.country),
                    organisation.org_type or "",
                    str(len(organisation.contacts)),
                    organisation.slug,
                ]
            )
    if len(rows) == 1:
        click.echo("No organisations match.")
        return
    click.echo(_table(rows))
    click.echo(f"{len(rows) - 1} organisation(s).")


@org.command()
@click.argument("ref")
@click.option("--format", "output", type=click.Choice(["text", "json"]), default="text")
@pass_app
def show(app: AppContext, ref: str, output: str) -> None:
    """Show one organisation (by id, slug or exact name) with contacts and answers.

    \b
    Example:
      coalitionletter org show pen-america
      coalitionletter org show "Human Rights First" --format json
    """
    import json

    from coalitionletter.registry import organisations as registry

    with core_errors(), app.database.reading() as session:
        details = registry.show(session, ref)
        numbers = [c.id for c in registry.find_organisation(session, ref).contacts]
    if output == "json":
        click.echo(json.dumps(details, ensure_ascii=False, indent=2))
        return
    click.echo(f"#{details['id']} {details['name']}")
    lines = [
        ("Slug", details["slug"]),
        ("Sort name", details["sort_name"]),
        (
            "Country",
            f"{details['country_name']} ({details['country']})" if details["country"] else "",
        ),
        ("Type", details["type"] or ""),
        ("Website", details["website"] or ""),
        ("Notes", details["notes"] or ""),
    ]
    if details["merged_into"]:
        lines.append(("Merged into", f"#{details['merged_into']} {details['merged_into_name']}"))
    for label, value in lines:
        if value:
            click.echo(f"  {label}: {value}")
    for number, contact in zip(numbers, details["contacts"], strict=True):
        parts = [contact["name"], contact["title"], contact["email"], contact["language"]]
        click.echo(f"  Contact: {', '.join(part for part in parts if part)} (contact #{number})")
    for answer in details["campaigns"]:
        click.echo(f"  Campaign {answer['campaign']}: {answer['state']}")


@org.command()
@click.argument("ref")
@click.option("--name", help="New name, exactly as it must appear in a letter.")
@click.option("--slug", help="New slug (lowercase letters, digits, hyphens).")
@_fields_option
@pass_app
def edit(app: AppContext, ref: str, **options: str | None) -> None:
    """Change an organisation's fields; an empty value ("") clears an optional field.

    Contact options change the first contact (and create one if there is none).

    \b
    Example:
      coalitionletter org edit pen-america --website pen.example --country US
      coalitionletter org edit 12 --notes ""
    """
    from coalitionletter.registry import duplicates
    from coalitionletter.registry import organisations as registry

    raw = {key: value for key, value in options.items() if value is not None}
    if not raw:
        raise click.UsageError("Give at least one field to change, e.g. --country GB.")
    with core_errors(), app.database.writing() as session:
        organisation, changed = registry.edit(session, ref, raw, actor=app.actor)
        summary = duplicates.label(organisation)
    if changed:
        click.echo(f"Changed {', '.join(changed)} of {summary}.")
    else:
        click.echo(f"Nothing to change: {summary} already has those values.")


@org.command()
@click.argument("ref")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@click.option("--force", is_flag=True, help="Remove even an organisation that has signed.")
@pass_app
def remove(app: AppContext, ref: str, yes: bool, force: bool) -> None:
    """Remove an organisation with its contacts and invitations (asks first).

    An organisation that has signed (confirmed) a campaign is refused unless
    --force is given: removing it takes its signature off the letter.

    \b
    Example:
      coalitionletter org remove test-organisation
      coalitionletter org remove 12 --yes
    """
    from coalitionletter.registry import removal as registry_removal

    database = app.database
    with core_errors(), database.reading() as session:
        plan = registry_removal.removal_plan(session, ref)
    answers = ", ".join(f"{slug}: {state}" for slug, state in plan.answers) or "none"
    with core_errors():
        refusal = plan.refusal(force)
        if refusal is not None:
            raise refusal
    if not yes:
        ask_or_abort(f"Remove {plan.label} (answers to campaigns: {answers})?")
    with core_errors(), database.writing() as session:
        summary = registry_removal.remove(
            session, str(plan.organisation_id), force=force, actor=app.actor
        )
    click.echo(summary)


@org.command()
@click.argument("keep")
@click.argument("other")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@pass_app
def merge(app: AppContext, keep: str, other: str, yes: bool) -> None:
    """Merge OTHER into KEEP: KEEP takes OTHER's contacts and answers; history is kept.

    OTHER stays in the database, marked as merged into KEEP, so old links and
    the event log still make sense; it no longer appears in lists.

    \b
    Example:
      coalitionletter org merge human-rights-first hrf-duplicate
    """
    from coalitionletter.registry import duplicates
    from coalitionletter.registry import organisations as registry
    from coalitionletter.registry import removal as registry_removal

    database = app.database
    with core_errors(), database.reading() as session:
        kept = duplicates.label(registry.find_organisation(session, keep))
        merged = duplicates.label(registry.find_organisation(session, other))
    if not yes:
        ask_or_abort(f"Merge {merged} into {kept}?")
    with core_errors(), database.writing() as session:
        result = registry_removal.merge(session, keep, other, actor=app.actor)
    click.echo(f"Merged {result.merged} into {result.kept}.")
    click.echo(f"  Contacts moved: {result.contacts_moved}")
    if result.invitations_moved:
        click.echo(f"  Answers moved: {', '.join(result.invitations_moved)}")
    if result.invitations_left:
        click.echo(f"  Answers left with the merged one: {', '.join(result.invitations_left)}")


@org.command()
@pass_app
def duplicates(app: AppContext) -> None:
    """List pairs of organisations that look like one, the most certain first.

    A pair shares a name, a contact's email or a website domain (rows from
    before these were refused), or has names much alike (one holds the other,
    or 85% alike). Merge a pair with `org merge`.

    \b
    Example:
      coalitionletter org duplicates
      coalitionletter org merge pen-america pen-america-center
    """
    from coalitionletter.registry import duplicates as registry_duplicates

    with core_errors(), app.database.reading() as session:
        pairs = registry_duplicates.likely_duplicates(session)
        lines = [
            f"{registry_duplicates.label(pair.first)} and "
            f"{registry_duplicates.label(pair.second)}: {'; '.join(pair.reasons)}"
            for pair in pairs
        ]
    if not lines:
        click.echo("No likely duplicates.")
        return
    for line in lines:
        click.echo(line)
    click.echo(f"{len(lines)} likely duplicate pair(s).")


def _contact_options(function: Any) -> Any:
    options = [
        click.option("--name", "contact_name", help="The person's name."),
        click.option("--title", "contact_title", help="The person's title."),
        click.option("--email", help="The person's email address."),
        click.option("--language", help="The person's language: ISO 639 code or English name."),
    ]
    for option in reversed(options):
        function = option(function)
    return function


@org.group(context_settings=CONTEXT_SETTINGS)
def contact() -> None:
    """Add, change or remove one of an organisation's contacts (by its number).

    `org show` gives each contact's number. `org edit --contact ... --email ...`
    changes the first contact; these commands change any of them.

    \b
    Example:
      coalitionletter org contact add pen-america --name "B. Person" --email b@pen.example
      coalitionletter org contact remove pen-america 3
    """


@contact.command(name="add")
@click.argument("ref")
@_contact_options
@pass_app
def contact_add(app: AppContext, ref: str, **options: str | None) -> None:
    """Add a person to an organisation (REF: id, slug or exact name).

    An email another organisation has is refused, naming it; so is a person
    the organisation already has (the same email, or name and title).

    \b
    Example:
      coalitionletter org contact add pen-america --name "B. Person" --email b@pen.example
    """
    from coalitionletter.registry import contacts, duplicates
    from coalitionletter.registry import organisations as registry

    raw = {key: value for key, value in options.items() if value is not None}
    with core_errors(), app.database.writing() as session:
        added = contacts.add_contact(session, ref, raw, actor=app.actor)
        summary = duplicates.label(registry.find_organisation(session, ref))
    click.echo(f"Added contact #{added.id} to {summary}.")


@contact.command(name="edit")
@click.argument("ref")
@click.argument("number", type=int)
@_contact_options
@pass_app
def contact_edit(app: AppContext, ref: str, number: int, **options: str | None) -> None:
    """Change contact NUMBER of an organisation; an empty value ("") clears a field.

    \b
    Example:
      coalitionletter org contact edit pen-america 3 --title "Director" --email ""
    """
    from coalitionletter.registry import contacts, duplicates
    from coalitionletter.registry import organisations as registry

    raw = {key: value for key, value in options.items() if value is not None}
    if not raw:
        raise click.UsageError("Give at least one field to change, e.g. --email b@pen.example.")
    with core_errors(), app.database.writing() as session:
        changed = contacts.edit_contact(session, ref, number, raw, actor=app.actor)
        summary = duplicates.label(registry.find_organisation(session, ref))
    if changed:
        click.echo(f"Changed {', '.join(changed)} of contact #{number} of {summary}.")
    else:
        click.echo(f"Nothing to change: contact #{number} of {summary} already has those values.")


@contact.command(name="remove")
@click.argument("ref")
@click.argument("number", type=int)
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@pass_app
def contact_remove(app: AppContext, ref: str, number: int, yes: bool) -> None:
    """Take contact NUMBER off an organisation (asks first).

    \b
    Example:
      coalitionletter org contact remove pen-america 3
    """
    from coalitionletter.registry import contacts, duplicates
    from coalitionletter.registry import organisations as registry

    if not yes:
        with core_errors(), app.database.reading() as session:
            summary = duplicates.label(registry.find_organisation(session, ref))
        ask_or_abort(f"Remove contact #{number} of {summary}?")
    with core_errors(), app.database.writing() as session:
        named = contacts.remove_contact(session, ref, number, actor=app.actor)
        summary = duplicates.label(registry.find_organisation(session, ref))
    click.echo(f"Removed contact #{number} ({named}) from {summary}.")


@org.command(name="import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Report every problem and change; write nothing.")
@click.option("--update", is_flag=True, help="Update organisations already in the registry.")
@click.option(
    "--overwrite-names",
    is_flag=True,
    help="With --update, replace registry names with the file's (they are kept otherwise).",
)
@click.option(
    "--quiet", "-q", is_flag=True, help="Print only the summary and skipped lines, not every add."
)
@pass_app
def import_(
    app: AppContext,
    file: Path,
    *,
    dry_run: bool,
    update: bool,
    overwrite_names: bool,
    quiet: bool,
) -> None:
    """Import organisations from a spreadsheet saved as CSV (all or nothing).

    Reads UTF-8 (with or without BOM), Excel's Windows-1252 and UTF-16;
    `,` `;` or tab between cells; headers in any case (Organisation,
    Organization or Name; Email or E-mail; Country as code or English name;
    Website; Type; Contact; Title; Language; Notes; Sort name). Lines for an
    organisation already in the registry are skipped, or updated with
    --update (running it again changes nothing; a name staff corrected is
    kept unless --overwrite-names). One bad line and nothing is imported:
    every problem is listed with its line and column.

    \b
    Example:
      coalitionletter org import coalition.csv --dry-run
      coalitionletter org import coalition.csv
    """
    from coalitionletter.registry import importing as registry_import

    with core_errors():
        database = app.database
        # Read and check the file first: the write lock is then held only while writing.
        prepared = registry_import.prepare(file)
        with database.writing() as session:
            report = registry_import.import_prepared(
                session,
                prepared,
                update=update,
                dry_run=dry_run,
                actor=app.actor,
                overwrite_names=overwrite_names,
            )
    for row in report.rows:
        # A skipped line is something staff must see even when asking for quiet.
        if not quiet or row.action == "skip":
            click.echo(f"  line {row.line}: {row.action:<6} {row.name} ({row.reason})")
    if report.ignored_columns:
        click.echo(f"Ignored columns: {', '.join(report.ignored_columns)}")
    click.echo(str(report.summary()))
    _warn_about_guessed_letters(file, report.names_to_check())
    if dry_run:
        click.echo("Dry run: nothing was written.")


def _warn_about_guessed_letters(file: Path, rows: list) -> None:
    if not rows:
        return
    click.echo(
        f"Check these names: {file.name} is not UTF-8, so it was read as Windows-1252 "
        "(Western European). If any name below is misspelt, the file was saved in another "
        "encoding: save it from the spreadsheet as 'CSV UTF-8' and import it again "
        "(with --update --overwrite-names for names already imported).",
        err=True,
    )
    for row in rows:
        click.echo(f"  line {row.line}: {row.name}", err=True)


@org.command()
@click.argument("destination")
@click.option(
    "--format", "output", type=click.Choice(["csv", "json"]), default="csv", show_default=True
)
@click.option("--force", is_flag=True, help="Replace DESTINATION if it exists.")
@pass_app
def export(app: AppContext, destination: str, output: str, force: bool) -> None:
    """Write the registry to DESTINATION (a file, or - for standard output).

    CSV has one line per contact, with the columns import reads, in UTF-8
    with a BOM so that Excel opens it correctly; a cell a spreadsheet would
    run as a formula (starting with = + - @) gets a leading '. Importing an
    export gives back the same registry.

    \b
    Example:
      coalitionletter org export registry.csv
      coalitionletter org export - --format json
    """
    import sys

    from coalitionletter.private_files import replacing_text
    from coalitionletter.registry import importing as registry_import
    from coalitionletter.registry import organisations as registry
    from coalitionletter.spreadsheet_cells import SPREADSHEET_BOM

    write = registry_import.write_json if output == "json" else registry_import.write_csv
    path = Path(destination)
    if destination != "-" and path.exists() and not force:
        raise click.ClickException(f"{path} already exists. Choose another name or pass --force.")
    with core_errors(), app.database.reading() as session:
        found = registry.list_organisations(session)
        if destination == "-":
            if output == "csv":
                sys.stdout.write(SPREADSHEET_BOM)
            count = write(found, sys.stdout)
        else:
            encoding = "utf-8-sig" if output == "csv" else "utf-8"
            # Contacts' names and addresses: readable by the owner only, written whole.
            with replacing_text(path, encoding=encoding) as handle:
                count = write(found, handle)
    if destination != "-":
        click.echo(f"Wrote {count} {'rows' if output == 'csv' else 'organisations'} to {path}.")


COMMANDS: list[click.Command] = [org]
