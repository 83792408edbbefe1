"""The letters page: preview each recipient's letter, see what changed, build, download.

Every step calls the same core functions as `coalitionletter build` and
`export --delivered` (build/letters.py, build/changes.py, build/summary.py,
reports/export.py). Copies that name organisations withheld from the public
(the build's delivered files, the delivered list with signers' names) are
handed over only after a warning page and a confirmation, and each one taken
is recorded in the campaign's trail as `staff: NAME`, as the CLI records it.
"""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from flask import Response, abort, redirect, request, session, url_for
from flask_login import current_user
from werkzeug.wrappers import Response as AnyResponse

from coalitionletter.catalogs import N_, Words
from coalitionletter.errors import (
    BuildRunningError,
    CampaignError,
    CoalitionError,
    StaleConsentError,
)
from coalitionletter.web.console import auth
from coalitionletter.web.console.forms import BuildForm, DeliveredForm
from coalitionletter.web.console.shell import STAFF, Console, Rule, download

RESULT_KEY = "letters_built"
DELIVERED_LIST = "signatories-delivered.csv"
MIMETYPES = {
    "pdf": "application/pdf",
    "html": "text/html; charset=utf-8",
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
}
_STYLE = re.compile(r"<style[^>]*>(.*?)</style>", re.DOTALL | re.IGNORECASE)
NOT_UNDERSTOOD = N_(
    "Tick the box to confirm that you will send this copy only to the governments it "
    "is for and never publish it; or go back to the letters."
)


@dataclass(frozen=True)
class BuiltFile:
    """A file the last build wrote, as the letters page lists it."""

    name: str
    recipient: str
    kind: str
    variant: str


def _options(leave_out_stale: bool, force: bool = False) -> Any:
    from coalitionletter.build.letters import BuildOptions

    # One process: forking PDF workers from a threaded web server is not safe.
    return BuildOptions(leave_out_stale=leave_out_stale, force=force, jobs=1, today=date.today())


def preview_policy(html: str) -> str:
    """A CSP for a letter preview: its own <style> blocks (by hash), data: images, nothing else."""
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(css.encode("utf-8")).digest()).decode() + "'"
        for css in _STYLE.findall(html)
    )
    styles = hashes or "'none'"
    return (
        f"default-src 'none'; style-src {styles}; img-src data:; font-src data:; "
        "frame-ancestors 'none'; base-uri 'none'; form-action 'none'; sandbox"
    )


class Letters:
    """One campaign's letters: the page, the previews, the build and the downloads."""

    def __init__(self, console: Console) -> None:
        self.console = console

    # --- reading -------------------------------------------------------------------

    def _plan(self, slug: str, options: Any) -> Any:
        from coalitionletter.build.letters import plan_campaign

        return plan_campaign(self.console.settings, self.console.database, slug, options)

    def _definition(self, slug: str) -> Any:
        from coalitionletter.campaigns import catalogue

        try:
            slug = catalogue.resolve_slug(self.console.settings, slug)
            with self.console.database.reading() as db:
                return catalogue.load_current(self.console.settings, db, slug)
        except CampaignError:
            abort(404)

    def _built_files(self, definition: Any) -> list[BuiltFile]:
        from coalitionletter.build.manifest import load_manifest
        from coalitionletter.build.output_files import output_dir

        folder = output_dir(definition, None)
        files = load_manifest(folder).get("files", {})
        return [
            BuiltFile(name, str(e.get("recipient")), str(e.get("kind")), str(e.get("variant")))
            for name, e in sorted(files.items())
            if (folder / name).is_file()
        ]

    def page(self, slug: str) -> Response:
        """The letters of a campaign: what changed, the Build button, previews and files."""
        leave_out = request.args.get("leave_out_stale") == "1"
        form = BuildForm(data={"leave_out_stale": leave_out})
        return self._page(slug, form, status=200, refusal=None)

    def _page(self, slug: str, form: BuildForm, *, status: int, refusal: str | None) -> Response:
        from coalitionletter.build.changes import changes

        definition = self._definition(slug)
        signing_open = self._signing_open(definition.slug)
        plan = found = None
        stale = False
        problem = None
        try:
            plan = self._plan(definition.slug, _options(bool(form.leave_out_stale.data)))
            found = changes(plan)
        except StaleConsentError as exc:
            problem, stale = self.console.words(exc), True
        except CoalitionError as exc:
            problem = self.console.words(exc)
        return self.console.page(
            "letters.html",
            status=status,
            campaign=definition,
            form=form,
            plan=plan,
            changes=found,
            problem=problem,
            stale=stale,
            refusal=refusal,
            note=self._note(definition),
            result=_take_result(definition.slug),
            signing_open=signing_open,
            files=self._built_files(definition),
            delivered_list=DELIVERED_LIST,
        )

    def _note(self, definition: Any) -> str | None:
        """The build's note on unpublished edits, in the page's language."""
        from coalitionletter.build import summary

        note = summary.draft_note(self.console.settings, definition)
        return self.console.words(note) if note is not None else None

    def _signing_open(self, slug: str) -> bool:
        """True while organisations may still answer (so the list may change after a build)."""
        from coalitionletter.campaigns import catalogue
        from coalitionletter.signon.states import is_open

        with self.console.database.reading() as db:
            return is_open(catalogue.campaign_row(db, slug))

    def preview(self, slug: str, name: str) -> Response:
        """The letter in HTML file NAME as the build would print it now, with its own style."""
        from coalitionletter.build.letters import preview_html

        if ".delivered." in name:
            abort(404)  # the delivered copy is handed over only behind the warning page
        definition = self._definition(slug)
        leave_out = request.args.get("leave_out_stale") == "1"
        try:
            html = preview_html(self._plan(definition.slug, _options(leave_out)), name)
        except StaleConsentError as exc:
            return self.console.problem(409, self.console.words(exc))
        except CampaignError:
            abort(404)  # no such letter (or campaign)
        except CoalitionError as exc:
            return self.console.problem(409, self.console.words(exc))
        response = Response(html, mimetype="text/html")
        response.headers["Content-Security-Policy"] = preview_policy(html)
        return response

    # --- changing ------------------------------------------------------------------

    def build(self, slug: str) -> AnyResponse:
        """Build the letters as `coalitionletter build` does; say what happened on the page."""
        from coalitionletter.build import summary
        from coalitionletter.build.letters import building, execute
        from coalitionletter.signon.states import staff_actor

        definition = self._definition(slug)
        form = BuildForm()
        options = _options(bool(form.leave_out_stale.data), bool(form.force.data))
        console, actor = self.console, staff_actor(current_user.name)
        try:
            with building(console.settings, console.database, slug, options, by=actor) as plan:
                report = execute(plan)
        except BuildRunningError as exc:
            refusal = self.console.words(self._running(exc, definition))
            return self._page(definition.slug, form, status=409, refusal=refusal)
        except CoalitionError as exc:
            return self._page(definition.slug, form, status=409, refusal=self.console.words(exc))
        said = summary.left_out_lines(report) + summary.summary_lines(report, definition.slug)
        # The session's cookie holds text: the words go in already in the page's language.
        session[RESULT_KEY] = {
            "slug": definition.slug,
            "warnings": [self.console.words(warning) for warning in report.warnings],
            "lines": [self.console.words(line) for line in said],
            "built": bool(report.written),
        }
        return redirect(url_for("console.letters", slug=definition.slug))

    def _running(self, exc: BuildRunningError, definition: Any) -> Words:
        """Another build of these letters runs: since when and by whom, in the page's words."""
        from coalitionletter.catalogs import date_locale
        from coalitionletter.dates import format_deadline

        if not isinstance(exc.since, datetime):
            return N_(
                "A build of these letters started a moment ago and is still running. Nothing "
                "was built; wait until it has finished, then press Build again."
            )
        locale = date_locale(self.console.language())
        return N_(
            "A build of these letters is already running: it started at %(when)s, by "
            "%(who)s. Nothing was built; wait until it has finished, then press Build again.",
            when=format_deadline(exc.since, definition.time_zone, locale),
            who=exc.by,
        )

    # --- downloads -----------------------------------------------------------------

    def public_file(self, slug: str, name: str) -> AnyResponse:
        """A file of the last build that names no withheld organisation."""
        from coalitionletter.build.output_files import DELIVERED

        definition = self._definition(slug)
        found = self._file(definition, name)
        if found.variant == DELIVERED:
            return redirect(url_for("console.delivered", slug=definition.slug, name=name))
        return download(self._bytes(definition, name), MIMETYPES[found.kind], name)

    def delivered(self, slug: str, name: str) -> AnyResponse:
        """The warning before a delivered copy; its confirmation hands the copy over."""
        from coalitionletter.build.output_files import DELIVERED

        definition = self._definition(slug)
        if name != DELIVERED_LIST and self._file(definition, name).variant != DELIVERED:
            return redirect(url_for("console.public_file", slug=definition.slug, name=name))
        form = DeliveredForm()
        if request.method == "GET":
            return self._warning(definition, name, form, 200, None)
        if not form.validate_on_submit():
            return self._warning(definition, name, form, 400, NOT_UNDERSTOOD)
        return self._hand_over(definition, name)

    def _warning(
        self, definition: Any, name: str, form: DeliveredForm, status: int, error: Words | None
    ) -> Response:
        return self.console.page(
            "delivered.html",
            status=status,
            campaign=definition,
            name=name,
            is_list=name == DELIVERED_LIST,
            form=form,
            error=error,
        )

    def _hand_over(self, definition: Any, name: str) -> Response:
        from coalitionletter.reports import export as exporting
        from coalitionletter.signon.states import staff_actor

        actor = staff_actor(current_user.name)
        try:
            with self.console.database.writing() as db:
                if name == DELIVERED_LIST:
                    # The same list and the same trail entry as `export --delivered`.
                    listing = exporting.signatory_list(db, definition, delivered=True)
                    data = exporting.as_csv(listing).encode("utf-8")
                    what = {"list": "delivered", "format": "csv"}
                    kind = "csv"
                else:
                    data = self._bytes(definition, name)
                    what = {"file": name}
                    kind = self._file(definition, name).kind
                exporting.note_delivered_taken(db, definition.slug, actor=actor, what=what)
        except CoalitionError as exc:
            return self.console.problem(409, self.console.words(exc))
        return download(data, MIMETYPES[kind], name)

    def _file(self, definition: Any, name: str) -> BuiltFile:
        for built in self._built_files(definition):
            if built.name == name:
                return built
        abort(404)

    def _bytes(self, definition: Any, name: str) -> bytes:
        from coalitionletter.build.output_files import output_dir, safe_join

        try:
            return safe_join(output_dir(definition, None), name).read_bytes()
        except (CoalitionError, OSError):
            abort(404)


def _take_result(slug: str) -> dict[str, Any] | None:
    """What the last build from this browser did, shown once after the redirect."""
    result = session.get(RESULT_KEY)
    if not isinstance(result, dict) or result.get("slug") != slug:
        return None
    session.pop(RESULT_KEY, None)
    return result


def rules(console: Console) -> list[Rule]:
    """The URL rules of the letters page (staff only)."""
    pages = Letters(console)
    staff_only = auth.requires(STAFF)
    base = "/c/<slug>/letters"
    return [
        (base, "letters", staff_only(pages.page), ["GET"]),
        (f"{base}/build", "build", staff_only(pages.build), ["POST"]),
        (f"{base}/preview/<name>", "letter_preview", staff_only(pages.preview), ["GET"]),
        (f"{base}/files/<name>", "public_file", staff_only(pages.public_file), ["GET"]),
        (f"{base}/delivered/<name>", "delivered", staff_only(pages.delivered), ["GET", "POST"]),
    ]
