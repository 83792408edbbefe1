"""Building a campaign's letters: one HTML and one PDF per recipient, and the list beside them.

The work is split so that the database is read once and closed before any
rendering: `plan` reads the campaign, its signatories and the template folders
into plain values and decides which files are out of date; `execute` renders
what is needed (PDFs in parallel processes) and writes it through a guard that
cannot leave the output folder.

Output files, in `letters/<slug>/out/` or `--out DIR`:
  <recipient>.html, <recipient>.pdf     the letter to each recipient (every language it
                                        receives, one after the other: bilingual = "one-pdf")
  <recipient>.<lang>.html, .pdf         one file per language instead (bilingual = "separate",
                                        for a recipient receiving several languages)
  signatories.csv, signatories.json     who is named, in print order
When some signatories may be named only to governments, there is no plain
`<recipient>.*`; instead every file comes in two clearly named variants:
  <recipient>.delivered.{html,pdf}, signatories.delivered.{csv,json}
      every name: for the governments only, never to be published
  <recipient>.public.{html,pdf}, signatories.public.{csv,json}
      the withheld names left out entirely and counted ("and N organisations ...")

A skip-if-unchanged manifest (`.coalitionletter-build.json`) keys every file by
a hash of the templates, the campaign files, the list and the options; an
unchanged rebuild imports neither Jinja nor WeasyPrint.

This module plans and runs a build; the pieces it uses, lowest first:
`output_files` (names, the path guard, writing whole), `build_manifest` (keys
and the manifest), `letter_content` (what a letter says), `signatory_list`
(the list beside the letters) and `pdf_jobs` (PDFs in worker processes).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from coalitionletter.build import lock as build_lock
from coalitionletter.build.content import check_glyphs, letter_context
from coalitionletter.build.manifest import (
    Output,
    common_key,
    input_digests,
    is_fresh,
    load_manifest,
    output_key,
    record,
    record_inputs,
    save_manifest,
)
from coalitionletter.build.output_files import (
    ALL,
    DELIVERED,
    PUBLIC,
    file_name,
    output_dir,
    safe_join,
    write_whole,
)
from coalitionletter.build.pdf_jobs import render_pdfs
from coalitionletter.build.signatory_list import list_csv, list_json
from coalitionletter.campaigns import roster
from coalitionletter.campaigns.definition import CampaignDefinition, Recipient
from coalitionletter.campaigns.roster import Roster
from coalitionletter.catalogs import N_, N_plural, Words
from coalitionletter.db import Database
from coalitionletter.errors import CampaignError, RenderError
from coalitionletter.settings import Settings
from coalitionletter.signon.audit import require_intact

FORMATS = ("html", "pdf")

Progress = Callable[[str], None]


@dataclass(frozen=True)
class BuildOptions:
    """What the person building asked for."""

    out_dir: Path | None = None
    recipient: str | None = None
    formats: tuple[str, ...] = FORMATS
    force: bool = False
    allow_stale: bool = False
    leave_out_stale: bool = False
    allow_missing_glyphs: bool = False
    jobs: int | None = None
    today: date | None = None
    source_date_epoch: str | None = None


@dataclass
class Plan:
    """Everything needed to render, read from the database and the files; no session."""

    definition: CampaignDefinition
    roster: Roster
    out_dir: Path
    options: BuildOptions
    letter_date: date
    created: str
    workspace_templates: Path
    template_dirs: list[Path]
    roots: list[Path]
    outputs: list[Output]
    stale_outputs: list[str]
    manifest: dict[str, Any]
    inputs: dict[str, str] = field(default_factory=dict)  # manifest.input_digests
    trail_head: str = ""  # the anchor of the campaign's trail, verified when planning

    def variants(self) -> list[str]:
        """The copies this build makes of each letter: all, or delivered and public."""
        return list(dict.fromkeys(o.variant for o in self.outputs))

    def letters_to(self, recipient: str) -> list[Output]:
        """The HTML letters this build writes to a recipient (a file per copy and language)."""
        return [o for o in self.outputs if o.recipient == recipient and o.kind == "html"]

    def due(self) -> list[Output]:
        """The outputs to (re)write: changed since the last build, missing, or forced."""
        if self.options.force:
            return list(self.outputs)
        return [o for o in self.outputs if not is_fresh(self.manifest, self.out_dir, o)]


@dataclass
class BuildReport:
    """What a build did, for the CLI to print."""

    out_dir: Path
    # Rendered by this build; one whose bytes came out as before is left untouched on disk.
    written: list[Path] = field(default_factory=list)
    unchanged: list[Path] = field(default_factory=list)
    removed: list[Path] = field(default_factory=list)
    # Words: the CLI prints their English, the console translates them.
    warnings: list[Words] = field(default_factory=list)
    count: int = 0
    withheld: int = 0
    trail_head: str = ""
    # Stale confirmations left out (--leave-out-stale): named here, counted nowhere.
    left_out: list[str] = field(default_factory=list)


def _source_date(source_date_epoch: str | None) -> datetime | None:
    """SOURCE_DATE_EPOCH as a UTC time, or None when it is not set."""
    if not source_date_epoch:
        return None
    try:
        return datetime.fromtimestamp(int(source_date_epoch), UTC)
    except (ValueError, OverflowError, OSError) as exc:
        raise RenderError(
            f"SOURCE_DATE_EPOCH={source_date_epoch!r} is not a number of seconds since "
            "1970; unset it or give e.g. 1597708800."
        ) from exc


def _dates(definition: CampaignDefinition, options: BuildOptions) -> tuple[date, str]:
    """The letter's date and the fixed creation time stamped into the files.

    A "build date" letter takes its date from SOURCE_DATE_EPOCH when set (so a
    reproducible build does not depend on the day), else from today.
    """
    source = _source_date(options.source_date_epoch)
    letter_date = definition.letter_date or (
        source.date() if source else options.today or date.today()
    )
    moment = source or datetime(letter_date.year, letter_date.month, letter_date.day, tzinfo=UTC)
    return letter_date, moment.strftime("%Y-%m-%dT%H:%M:%S+00:00")


def _selected_recipients(definition: CampaignDefinition, key: str | None) -> list[Recipient]:
    if key is None:
        return list(definition.recipients)
    return [definition.recipient(key)]


def plan(
    session: Session,
    settings: Settings,
    definition: CampaignDefinition,
    options: BuildOptions,
) -> Plan:
    """Read what a build needs and decide its outputs; raises before anything is written."""
    from coalitionletter.render import allowed_roots, template_dirs

    layers = template_dirs(settings.templates_dir, definition.directory)
    for kind in options.formats:
        if kind not in FORMATS:
            raise RenderError(f"Unknown format {kind!r}; use html or pdf.")
    recipients = _selected_recipients(definition, options.recipient)
    # A signature the trail does not back (a row changed by hand) must never be printed.
    trail_head = require_intact(session, definition.slug)
    names = roster.read_roster(
        session,
        definition,
        allow_stale=options.allow_stale,
        leave_out_stale=options.leave_out_stale,
        locale=recipients[0].locale,
        ordered=False,  # ordered only if something is rendered
    )
    letter_date, created = _dates(definition, options)
    out_dir = output_dir(definition, options.out_dir)
    inputs = input_digests(layers, definition, names, [letter_date.isoformat(), created])
    common = common_key(inputs)
    variants = [DELIVERED, PUBLIC] if names.has_withheld else [ALL]
    wanted = [(r.key, kind) for r in recipients for kind in options.formats]
    wanted += [("*", "csv"), ("*", "json")]
    outputs = [
        Output(
            name=file_name(key, variant, kind, language),
            recipient=key,
            kind=kind,
            variant=variant,
            key=output_key(common, key, variant, kind, language),
            language=language,
        )
        for key, kind in wanted
        for language in _file_languages(definition, key)
        for variant in variants
    ]
    for output in outputs:
        safe_join(out_dir, output.name)
    manifest = load_manifest(out_dir)
    planned = {o.name for o in outputs}
    scope = set(wanted)
    stale_outputs = [
        name
        for name, entry in manifest["files"].items()
        if name not in planned and (entry.get("recipient"), entry.get("kind")) in scope
    ]
    return Plan(
        definition=definition,
        roster=names,
        out_dir=out_dir,
        options=options,
        letter_date=letter_date,
        created=created,
        workspace_templates=settings.templates_dir,
        template_dirs=layers,
        roots=allowed_roots(settings.templates_dir, definition.directory),
        outputs=outputs,
        stale_outputs=stale_outputs,
        manifest=manifest,
        inputs=inputs,
        trail_head=str(trail_head),
    )


def _file_languages(definition: CampaignDefinition, key: str) -> tuple[str, ...]:
    """The language of each file made for a recipient: ("",) for one file holding them all."""
    if key == "*" or definition.bilingual != "separate":
        return ("",)
    languages = definition.recipient(key).languages
    return languages if len(languages) > 1 else ("",)


def plan_campaign(
    settings: Settings, database: Database, slug: str | None, options: BuildOptions
) -> Plan:
    """Read the campaign (the only one when `slug` is None) and plan its build, as `build` does."""
    from coalitionletter.campaigns import catalogue as campaigns

    slug = campaigns.resolve_slug(settings, slug)
    with database.reading() as session:
        definition = campaigns.load_current(settings, session, slug)
        return plan(session, settings, definition, options)


@contextmanager
def building(
    settings: Settings, database: Database, slug: str | None, options: BuildOptions, *, by: str
) -> Iterator[Plan]:
    """Plan a campaign's build holding its output folder's build lock; execute it in the block.

    A second build of the same folder meanwhile (another process, staff member or
    thread) is refused at once with BuildRunningError, before it reads or writes
    anything; `by` (who builds) is named in that refusal.
    """
    from coalitionletter.campaigns import catalogue as campaigns

    slug = campaigns.resolve_slug(settings, slug)
    with database.reading() as session:
        definition = campaigns.load_current(settings, session, slug)
    out_dir = output_dir(definition, options.out_dir)
    with build_lock.held(out_dir, slug, by=by, time_zone=definition.time_zone):
        with database.reading() as session:
            # Planned under the lock: the manifest read is the one this build replaces.
            found = plan(session, settings, definition, options)
        yield found


def _base_url(template_dirs: list[Path]) -> str:
    return template_dirs[0].resolve().as_uri() + "/"


def _render_html(build: Plan, output: Output, environment: Any) -> str:
    recipient = build.definition.recipient(output.recipient)
    template = environment.get_template("letter.html")
    context = letter_context(
        build.definition,
        build.roster,
        recipient,
        variant=output.variant,
        letter_date=build.letter_date,
        created=build.created,
        languages=(output.language,) if output.language else None,
    )
    return template.render(**context)


def preview_html(build: Plan, name: str) -> str:
    """The letter the build would write now as the HTML file `name`; writes nothing."""
    from coalitionletter.render import check_references

    found = [o for o in build.outputs if o.name == name and o.kind == "html"]
    if not found:
        made = ", ".join(o.name for o in build.outputs if o.kind == "html")
        raise CampaignError(f"This build writes no letter {name!r}; it writes {made}.")
    ordered = replace(build, roster=roster.in_print_order(build.roster, build.definition))
    environment = _environment(
        build.workspace_templates, build.definition.directory, tuple(build.template_dirs)
    )
    html = _render_html(ordered, found[0], environment)
    check_references(html, build.roots, _base_url(build.template_dirs), f"The letter {name}")
    return html


def _list_bytes(build: Plan, output: Output) -> bytes:
    if output.kind == "csv":
        return list_csv(build.roster, variant=output.variant)
    return list_json(build.roster, build.definition, variant=output.variant)


def execute(build: Plan, progress: Progress | None = None) -> BuildReport:
    """Render and write the outputs that are due; keep the others; drop superseded ones."""
    progress = progress or (lambda _message: None)
    report = BuildReport(
        out_dir=build.out_dir,
        count=build.roster.count,
        trail_head=build.trail_head,
        withheld=build.roster.withheld_count(delivered=False),
        left_out=sorted((s.name for s in build.roster.left_out), key=roster.collation_key),
    )
    report.warnings.extend(_roster_warnings(build))
    due = build.due()
    report.unchanged = [build.out_dir / o.name for o in build.outputs if o not in due]
    if due:
        build.roster = roster.in_print_order(build.roster, build.definition)
        allowed = build.options.allow_missing_glyphs
        report.warnings.extend(check_glyphs(build.definition, build.roster, allow_missing=allowed))
        _render_due(build, due, progress)
        record_inputs(build.manifest, build.inputs)
        report.written = [build.out_dir / o.name for o in due]
    report.removed = _remove_superseded(build)
    if due or build.stale_outputs:
        save_manifest(build.out_dir, build.manifest)  # else it says what it would say
    return report


@cache
def _environment(workspace_templates: Path, campaign_dir: Path, _layers: tuple[Path, ...]) -> Any:
    """One Jinja environment per template layering, kept so its compiled templates are
    reused by later builds in the same process (Jinja reloads a template that changed;
    a template folder added or removed changes `_layers` and so the environment)."""
    from coalitionletter.render import make_environment

    return make_environment(workspace_templates, campaign_dir)


def _render_due(build: Plan, due: list[Output], progress: Progress) -> None:
    from coalitionletter.render import check_references

    environment = _environment(
        build.workspace_templates, build.definition.directory, tuple(build.template_dirs)
    )

    total, finished = len(due), [0]

    def done() -> str:
        finished[0] += 1
        return f"[{finished[0]}/{total}]"

    contents: dict[str, bytes] = {}
    pdf_jobs: list[tuple[str, str]] = []
    html_cache: dict[tuple[str, str, str], str] = {}
    roots, base_url = build.roots, _base_url(build.template_dirs)
    for output in due:
        if output.kind in ("csv", "json"):
            contents[output.name] = _list_bytes(build, output)
            progress(f"{done()} {output.name}")
            continue
        cache_key = (output.recipient, output.variant, output.language)
        if cache_key not in html_cache:
            html = _render_html(build, output, environment)
            check_references(html, roots, base_url, f"The letter {output.name}")
            html_cache[cache_key] = html
        if output.kind == "html":
            contents[output.name] = html_cache[cache_key].encode("utf-8")
            progress(f"{done()} {output.name}")
        else:
            pdf_jobs.append((output.name, html_cache[cache_key]))
    if pdf_jobs:
        rendered = render_pdfs(
            pdf_jobs,
            base_url=base_url,
            roots=roots,
            requested_workers=build.options.jobs,
            finished=lambda name: progress(f"{done()} {name}"),
        )
        contents.update(rendered)
    # Written only once everything rendered: a failure leaves the previous files intact.
    build.out_dir.mkdir(parents=True, exist_ok=True)
    for output in due:
        data = contents[output.name]
        path = safe_join(build.out_dir, output.name)
        write_whole(path, data, private=output.variant == DELIVERED)
        record(build.manifest, output, data)


def _remove_superseded(build: Plan) -> list[Path]:
    removed = []
    files = build.manifest.setdefault("files", {})
    for name in build.stale_outputs:
        path = safe_join(build.out_dir, name)
        if path.is_file():
            path.unlink()
            removed.append(path)
        files.pop(name, None)
    return removed


def _roster_warnings(build: Plan) -> list[Words]:
    # English msgid = msgid_plural where the CLI says "(s)": its words stay (build/summary.py).
    warnings: list[Words] = []
    names = build.roster
    if names.includes_stale:
        warnings.append(
            N_plural(
                "Listed %(count)s organisation(s) whose confirmation was given to an "
                "earlier text (--allow-stale): %(names)s.",
                "Listed %(count)s organisation(s) whose confirmation was given to an "
                "earlier text (--allow-stale): %(names)s.",
                len(names.stale),
                names="; ".join(s.name for s in names.stale),
            )
        )
    if not names.lead_listed() and names.count:
        warnings.append(
            N_(
                "The lead organisation %(name)s is not a confirmed signatory, so it is not in "
                "the list.",
                name=build.definition.lead.name,
            )
        )
    if names.count == 0:
        warnings.append(N_("No organisation has confirmed yet: the letters list no signatories."))
    for language in build.definition.unpublished:
        warnings.append(
            N_(
                "The %(quoted)s version (body.%(language)s.md) is not published, so no letter "
                "is printed in it; publish it with `coalitionletter publish %(slug)s`.",
                quoted=repr(language),
                language=language,
                slug=build.definition.slug,
            )
        )
    return warnings + name_warnings(names, build.definition.slug)


def name_warnings(names: Roster, slug: str) -> list[Words]:
    """What staff must see before sending: names printed otherwise than the registry has them."""
    warnings: list[Words] = []
    renamed = names.renamed()
    if renamed:
        listed = "; ".join(f"{s.name!r} for {s.registry_name!r}" for s in renamed)
        warnings.append(
            N_plural(
                "%(count)s organisation(s) are printed under a name other than the "
                "registry's (approved corrections): %(names)s. Check them before sending.",
                "%(count)s organisation(s) are printed under a name other than the "
                "registry's (approved corrections): %(names)s. Check them before sending.",
                len(renamed),
                names=listed,
            )
        )
    pending = names.proposals_pending()
    if pending:
        listed = "; ".join(f"{s.proposed_name!r} for {s.name!r}" for s in pending)
        warnings.append(
            N_plural(
                "%(count)s proposed name(s) await approval and are NOT printed (the name "
                "shown now is): %(names)s. Decide with `coalitionletter names %(slug)s`.",
                "%(count)s proposed name(s) await approval and are NOT printed (the name "
                "shown now is): %(names)s. Decide with `coalitionletter names %(slug)s`.",
                len(pending),
                names=listed,
                slug=slug,
            )
        )
    return warnings
