"""Building a campaign's letters: one HTML and one PDF per recipient, and the list beside them.

The work is split so that the database is read once and closed before any
rendering: `plan` reads the campaign, its signatories and the template folders
into plain values and decides which files are out of date; `execute` renders
what is needed (PDFs in parallel processes) and writes it through a guard that
cannot leave the output folder.

Output files, in `letters/<slug>/out/` or `--out DIR`:
  <recipient>.html, <recipient>.pdf     the letter to each recipient
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
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import os
import re
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from coalitionletter import campaigns, roster
from coalitionletter.campaigns import CampaignDefinition, Recipient
from coalitionletter.errors import RenderError
from coalitionletter.roster import Roster, Signatory
from coalitionletter.settings import Settings

log = logging.getLogger(__name__)

OUT_DIR = "out"
MANIFEST = ".coalitionletter-build.json"
FORMATS = ("html", "pdf")
DELIVERED = "delivered"
PUBLIC = "public"
ALL = "all"  # the single variant when nobody is withheld
LIST_NAME = "signatories"
# Template folders of the emails, web pages and count sheet: editing them never changes a letter.
OTHER_FACES = frozenset({"email", "web", "counts"})
SHORT_LIST = 8  # up to this many names print in one column
SAFE_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{0,150}$")
# A cell starting with one of these is read as a formula by spreadsheets.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

Progress = Callable[[str], None]


class OutputPathError(RenderError):
    """An output file name would leave the output folder."""


@dataclass(frozen=True)
class BuildOptions:
    """What the person building asked for."""

    out_dir: Path | None = None
    recipient: str | None = None
    formats: tuple[str, ...] = FORMATS
    force: bool = False
    allow_stale: bool = False
    allow_missing_glyphs: bool = False
    jobs: int | None = None
    today: date | None = None
    source_date_epoch: str | None = None


@dataclass(frozen=True)
class Output:
    """One file the build is responsible for."""

    name: str
    recipient: str  # a recipient key, or "*" for the list files
    kind: str  # html, pdf, csv, json
    variant: str  # all, public, delivered
    key: str


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

    def due(self) -> list[Output]:
        """The outputs to (re)write: changed since the last build, missing, or forced."""
        files = self.manifest.get("files", {})
        due = []
        for output in self.outputs:
            entry = files.get(output.name)
            path = self.out_dir / output.name
            fresh = (
                not self.options.force
                and entry is not None
                and entry.get("key") == output.key
                and path.is_file()
                and _sha256(path.read_bytes()) == entry.get("sha256")
            )
            if not fresh:
                due.append(output)
        return due


@dataclass
class BuildReport:
    """What a build did, for the CLI to print."""

    out_dir: Path
    written: list[Path] = field(default_factory=list)
    unchanged: list[Path] = field(default_factory=list)
    removed: list[Path] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    count: int = 0
    withheld: int = 0


# --- paths ----------------------------------------------------------------------------------


def safe_join(base: Path, name: str) -> Path:
    """`base / name`, refusing any name that is not a plain file name inside `base`."""
    if not SAFE_NAME.match(name) or ".." in name:
        raise OutputPathError(
            f"{name!r} is not a safe output file name (lower-case letters, digits, '.' and '-')."
        )
    root = base.resolve()
    path = (root / name).resolve()
    if path.parent != root:
        raise OutputPathError(f"{name!r} would be written outside {root}; refused.")
    return path


def output_dir(definition: CampaignDefinition, requested: Path | None) -> Path:
    """The folder the files go to: --out, or letters/<slug>/out."""
    folder = requested if requested is not None else definition.directory / OUT_DIR
    if folder.exists() and not folder.is_dir():
        raise OutputPathError(f"{folder} exists and is not a folder; choose another --out.")
    return folder


def file_name(recipient: str, variant: str, kind: str) -> str:
    """The output file name for a recipient (or the list) in a variant."""
    stem = LIST_NAME if recipient == "*" else recipient
    return f"{stem}.{kind}" if variant == ALL else f"{stem}.{variant}.{kind}"


# --- keys -----------------------------------------------------------------------------------


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _templates_digest(dirs: Iterable[Path]) -> str:
    digest = hashlib.sha256()
    for index, folder in enumerate(dirs):
        for relative in _letter_template_files(folder):
            digest.update(f"{index}:{'/'.join(relative)}\0".encode())
            digest.update(_sha256(folder.joinpath(*relative).read_bytes()).encode())
    return digest.hexdigest()


def _letter_template_files(folder: Path) -> list[tuple[str, ...]]:
    """Every file under a template folder as path parts, sorted, the other faces left out.

    The other faces' folders are not walked at all: an unchanged build spends its
    time here.
    """
    files = []
    for root, subfolders, names in os.walk(folder):
        parts = Path(root).relative_to(folder).parts
        if not parts:
            subfolders[:] = [d for d in subfolders if d not in OTHER_FACES]
        files.extend((*parts, n) for n in names if os.path.isfile(os.path.join(root, n)))
    return sorted(files)


def _campaign_digest(definition: CampaignDefinition) -> str:
    digest = hashlib.sha256()
    for name in (campaigns.LETTER_FILE, campaigns.BODY_FILE):
        digest.update((definition.directory / name).read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()


def _roster_digest(names: Roster) -> str:
    rows = [
        [s.organisation_id, s.name, s.listing, s.country, s.org_type, s.is_lead, s.stale]
        for s in names.signatories
    ]
    payload = {"group_by": names.group_by, "rows": rows}
    return _sha256(json.dumps(payload, ensure_ascii=False, sort_keys=True).encode())


@cache
def _versions() -> str:
    return ",".join(metadata.version(name) for name in ("coalitionletter", "weasyprint"))


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


# --- planning -------------------------------------------------------------------------------


def _load_manifest(out_dir: Path) -> dict[str, Any]:
    path = out_dir / MANIFEST
    try:
        data = json.loads(path.read_text("utf-8"))
    except (FileNotFoundError, ValueError):
        return {"files": {}}
    return data if isinstance(data.get("files"), dict) else {"files": {}}


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
    names = roster.read_roster(
        session,
        definition,
        allow_stale=options.allow_stale,
        locale=recipients[0].locale,
        ordered=False,  # ordered only if something is rendered
    )
    letter_date, created = _dates(definition, options)
    out_dir = output_dir(definition, options.out_dir)
    common = _sha256(
        "\0".join(
            [
                _versions(),
                _templates_digest(layers),
                _campaign_digest(definition),
                _roster_digest(names),
                letter_date.isoformat(),
                created,
            ]
        ).encode()
    )
    variants = [DELIVERED, PUBLIC] if names.has_withheld else [ALL]
    wanted = [(r.key, kind) for r in recipients for kind in options.formats]
    wanted += [("*", "csv"), ("*", "json")]
    outputs = [
        Output(
            name=file_name(key, variant, kind),
            recipient=key,
            kind=kind,
            variant=variant,
            key=_sha256(f"{common}\0{key}\0{variant}\0{kind}".encode()),
        )
        for key, kind in wanted
        for variant in variants
    ]
    for output in outputs:
        safe_join(out_dir, output.name)
    manifest = _load_manifest(out_dir)
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
    )


# --- the letter's content ----------------------------------------------------------------


def placeholder_values(
    definition: CampaignDefinition, recipient: Recipient, names: Roster, letter_date: date
) -> dict[str, str]:
    """The values body.md's placeholders stand for, for one recipient."""
    from coalitionletter.render import format_letter_date, number_words

    count = names.count
    others = count - (1 if names.lead_listed() else 0)
    return {
        "signatory_count": str(count),
        "signatory_count_words": number_words(count, recipient.locale),
        "other_signatory_count": str(others),
        "other_signatory_count_words": number_words(others, recipient.locale),
        "recipient_name": recipient.full_name,
        "recipient_title": recipient.title,
        "date": format_letter_date(letter_date, recipient.locale),
        "lead_organisation": definition.lead.name,
    }


def _context(build: Plan, recipient: Recipient, variant: str) -> dict[str, Any]:
    from coalitionletter.render import body_html, format_letter_date, text_direction

    definition, names = build.definition, build.roster
    delivered = variant != PUBLIC
    values = placeholder_values(definition, recipient, names, build.letter_date)
    groups = [
        {
            "heading": group.heading,
            "entries": [
                {"name": s.name, "dir": text_direction(s.name), "website": s.website or ""}
                for s in group.signatories
            ],
        }
        for group in names.groups(delivered=delivered)
    ]
    return {
        "letter": {
            "title": definition.title,
            "subject": f"Letter to {recipient.full_name}, {recipient.title}",
            "keywords": f"{definition.slug}, {recipient.key}, text-sha256:{definition.text_hash}",
            "lang": recipient.locale,
            "paper": recipient.paper,
            "text_hash": definition.text_hash,
            "created": build.created,
            "date": format_letter_date(build.letter_date, recipient.locale),
            "date_iso": build.letter_date.isoformat(),
            "variant": variant,
            "closing": definition.closing,
        },
        "lead": definition.lead,
        "recipient": recipient,
        "body": body_html(definition.body_source, values),
        "groups": groups,
        "short_list": len(names.named(delivered=delivered)) <= SHORT_LIST,
        "count": names.count,
        "withheld_count": names.withheld_count(delivered=delivered),
    }


def _glyph_texts(build: Plan) -> dict[str, str]:
    definition = build.definition
    texts = {f"organisation {s.name!r}": s.name for s in build.roster.signatories}
    texts[f"{definition.slug}/body.md"] = definition.body_source
    texts[f"{definition.slug}/letter.toml"] = " ".join(
        [definition.title, definition.closing, definition.lead.name, *definition.lead.address_lines]
        + [
            " ".join([r.full_name, r.title, r.department, r.salutation, *r.address_lines])
            for r in definition.recipients
        ]
    )
    return texts


def check_glyphs(build: Plan) -> list[str]:
    """Stop on characters no installed font can draw, or return them as warnings if allowed."""
    from coalitionletter.render import describe_missing, missing_glyphs

    problems = describe_missing(missing_glyphs(_glyph_texts(build)))
    if problems and not build.options.allow_missing_glyphs:
        raise RenderError(
            "\n".join(
                [
                    "Some characters would print as empty boxes:",
                    *(f"  {line}" for line in problems),
                    "Install fonts that cover them (Debian: apt-get install fonts-noto-core "
                    "fonts-noto-cjk), or build with --allow-missing-glyphs to print anyway.",
                ]
            )
        )
    return [f"Missing glyphs: {line}" for line in problems]


# --- the list beside the letters ---------------------------------------------------------


def _formula_safe(value: str) -> str:
    return f"'{value}" if value.startswith(FORMULA_START) else value


def _list_rows(names: Roster, *, delivered: bool) -> list[dict[str, Any]]:
    rows = []
    position = 0
    for group in names.groups(delivered=delivered):
        for signatory in group.signatories:
            position += 1
            rows.append(_list_row(position, group.heading, signatory))
    return rows


def _list_row(position: int, heading: str | None, s: Signatory) -> dict[str, Any]:
    return {
        "position": position,
        "name": s.name,
        "group": heading or "",
        "country": s.country or "",
        "type": s.org_type or "",
        "listing": s.listing,
        "confirmed_on": s.confirmed_at.date().isoformat() if s.confirmed_at else "",
    }


def list_csv(names: Roster, *, variant: str) -> bytes:
    """The signatories a variant names, as CSV, every cell safe from spreadsheet formulas."""
    rows = _list_rows(names, delivered=variant != PUBLIC)
    buffer = io.StringIO(newline="")
    columns = ["position", "name", "group", "country", "type", "listing", "confirmed_on"]
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _formula_safe(str(v)) for k, v in row.items()})
    return buffer.getvalue().encode("utf-8")


def list_json(names: Roster, definition: CampaignDefinition, *, variant: str) -> bytes:
    """The signatories a variant names, as JSON, with the count and how many are withheld."""
    delivered = variant != PUBLIC
    document = {
        "campaign": definition.slug,
        "text_hash": definition.text_hash,
        "variant": variant,
        "count": names.count,
        "withheld": names.withheld_count(delivered=delivered),
        "includes_stale_consent": names.includes_stale,
        "signatories": _list_rows(names, delivered=delivered),
    }
    return (json.dumps(document, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


# --- rendering ------------------------------------------------------------------------------


def _base_url(template_dirs: list[Path]) -> str:
    return template_dirs[0].resolve().as_uri() + "/"


def _pdf_job(html: str, base_url: str, roots: list[str], what: str) -> bytes:
    """Render one PDF (runs in a worker process; plain arguments only)."""
    from coalitionletter.render import write_pdf

    # _render_due ran check_references on this HTML before queueing it.
    return write_pdf(
        html,
        base_url=base_url,
        roots=[Path(r) for r in roots],
        what=what,
        references_checked=True,
    )


def _render_html(build: Plan, output: Output, environment: Any) -> str:
    recipient = build.definition.recipient(output.recipient)
    template = environment.get_template("letter.html")
    return template.render(**_context(build, recipient, output.variant))


def _list_bytes(build: Plan, output: Output) -> bytes:
    if output.kind == "csv":
        return list_csv(build.roster, variant=output.variant)
    return list_json(build.roster, build.definition, variant=output.variant)


def _write(path: Path, data: bytes) -> None:
    partial = path.with_name(path.name + ".partial")
    partial.write_bytes(data)
    partial.replace(path)


def _workers(requested: int | None, jobs: int) -> int:
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, min(requested or cpus or 1, jobs))


def _render_pdfs(
    jobs: list[tuple[Output, str]], build: Plan, progress: Progress, done: Callable[[], str]
) -> dict[str, bytes]:
    roots = [str(r) for r in build.roots]
    base_url = _base_url(build.template_dirs)
    results: dict[str, bytes] = {}
    workers = _workers(build.options.jobs, len(jobs))
    if workers == 1:
        for output, html in jobs:
            results[output.name] = _pdf_job(html, base_url, roots, output.name)
            progress(f"{done()} {output.name}")
        return results
    import weasyprint  # noqa: F401 - imported once here, shared by the forked workers

    with ProcessPoolExecutor(max_workers=workers) as pool:
        futures = {
            pool.submit(_pdf_job, html, base_url, roots, output.name): output
            for output, html in jobs
        }
        for future in as_completed(futures):
            output = futures[future]
            results[output.name] = future.result()
            progress(f"{done()} {output.name}")
    return results


def execute(build: Plan, progress: Progress | None = None) -> BuildReport:
    """Render and write the outputs that are due; keep the others; drop superseded ones."""
    progress = progress or (lambda _message: None)
    report = BuildReport(
        out_dir=build.out_dir,
        count=build.roster.count,
        withheld=build.roster.withheld_count(delivered=False),
    )
    report.warnings.extend(_roster_warnings(build))
    due = build.due()
    report.unchanged = [build.out_dir / o.name for o in build.outputs if o not in due]
    if due:
        build.roster = roster.in_print_order(build.roster, build.definition)
        report.warnings.extend(check_glyphs(build))
        _render_due(build, due, progress)
        report.written = [build.out_dir / o.name for o in due]
    report.removed = _remove_superseded(build)
    if due or build.stale_outputs:
        _save_manifest(build)  # else it already says what it would say
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
    pdf_jobs: list[tuple[Output, str]] = []
    html_cache: dict[tuple[str, str], str] = {}
    roots, base_url = build.roots, _base_url(build.template_dirs)
    for output in due:
        if output.kind in ("csv", "json"):
            contents[output.name] = _list_bytes(build, output)
            progress(f"{done()} {output.name}")
            continue
        cache_key = (output.recipient, output.variant)
        if cache_key not in html_cache:
            html = _render_html(build, output, environment)
            check_references(html, roots, base_url, f"The letter {output.name}")
            html_cache[cache_key] = html
        if output.kind == "html":
            contents[output.name] = html_cache[cache_key].encode("utf-8")
            progress(f"{done()} {output.name}")
        else:
            pdf_jobs.append((output, html_cache[cache_key]))
    if pdf_jobs:
        contents.update(_render_pdfs(pdf_jobs, build, progress, done))
    # Written only once everything rendered: a failure leaves the previous files intact.
    files = build.manifest.setdefault("files", {})
    build.out_dir.mkdir(parents=True, exist_ok=True)
    for output in due:
        data = contents[output.name]
        _write(safe_join(build.out_dir, output.name), data)
        files[output.name] = {
            "key": output.key,
            "sha256": _sha256(data),
            "recipient": output.recipient,
            "kind": output.kind,
            "variant": output.variant,
        }


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


def _save_manifest(build: Plan) -> None:
    if not build.out_dir.is_dir():
        return
    data = json.dumps(build.manifest, sort_keys=True, indent=1).encode("utf-8")
    _write(build.out_dir / MANIFEST, data)


def _roster_warnings(build: Plan) -> list[str]:
    warnings = []
    names = build.roster
    if names.includes_stale:
        listed = "; ".join(s.name for s in names.stale)
        warnings.append(
            f"Listed {len(names.stale)} organisation(s) whose confirmation was given to an "
            f"earlier text (--allow-stale): {listed}."
        )
    if not names.lead_listed() and names.count:
        warnings.append(
            f"The lead organisation {build.definition.lead.name} is not a confirmed "
            "signatory, so it is not in the list."
        )
    if names.count == 0:
        warnings.append("No organisation has confirmed yet: the letters list no signatories.")
    return warnings
