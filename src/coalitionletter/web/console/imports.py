"""Importing a CSV by upload (staff only): the dry run of `org import --dry-run`, then confirm.

The upload is kept privately in the workspace under its SHA-256
(registry/uploads.py); the confirmation names it by that hash and carries the
dry run's fingerprint, so what is imported is exactly the file that was checked,
and if the registry changed in between the new dry run is shown instead.
"""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, request, url_for
from werkzeug.wrappers import Response as AnyResponse

from coalitionletter.catalogs import N_, Words
from coalitionletter.errors import ImportChangedError, ImportFileError, RegistryError
from coalitionletter.web.console import auth
from coalitionletter.web.console.forms import ConfirmImportForm, ImportForm
from coalitionletter.web.console.registry import actor
from coalitionletter.web.console.shell import STAFF, Console, Rule

# The largest CSV file the console takes (the whole request, in bytes).
UPLOAD_MAX = 10 * 1024 * 1024
NAME_MAX = 200
NO_FILE = N_("Choose a CSV file to import (a spreadsheet saved as CSV).")


class Imports:
    """The upload form, the dry run and the confirmed import."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.home = console.settings.home

    def upload(self) -> AnyResponse:
        """GET: the form; POST: keep the file, then show its dry run (nothing is written)."""
        from coalitionletter.registry import uploads

        uploads.sweep(self.home)
        form = ImportForm()
        if request.method == "GET":
            return self._form(form, None)
        sent = request.files.get("file")
        data = sent.read() if sent is not None else b""
        if sent is None or not sent.filename:
            return self._form(form, NO_FILE, 400)
        filename = _shown_name(sent.filename)
        digest = uploads.keep(self.home, data)
        options = {
            "update": bool(form.update.data),
            "overwrite_names": bool(form.overwrite_names.data),
        }
        return self._dry_run(digest, filename, options)

    def confirm(self) -> AnyResponse:
        """Import the checked file, if the registry has not changed since its dry run."""
        from coalitionletter.registry import importing, uploads

        form = ConfirmImportForm()
        digest = form.upload.data or ""
        filename = _shown_name(form.filename.data or "upload.csv")
        options = {
            "update": form.update.data == "1",
            "overwrite_names": form.overwrite_names.data == "1",
        }
        try:
            path = uploads.find(self.home, digest)
            prepared = importing.prepare(path, filename)
            with self.console.database.writing() as db:
                report = importing.import_if_unchanged(
                    db, prepared, fingerprint=form.fingerprint.data or "", actor=actor(), **options
                )
        except ImportChangedError as exc:
            return self._report_page(exc.report, digest, filename, options, changed=True)
        except ImportFileError as exc:
            return self._problems_page(exc, filename, 400)
        except RegistryError as exc:
            return self._form(ImportForm(formdata=None), self.console.words(exc), 400)
        uploads.discard(self.home, digest)
        flash(self.console.words(report.summary()))
        return redirect(url_for("console.organisations"))

    def _dry_run(self, digest: str, filename: str, options: dict[str, bool]) -> AnyResponse:
        from coalitionletter.registry import importing, uploads

        path = uploads.find(self.home, digest)
        try:
            prepared = importing.prepare(path, filename)
            with self.console.database.writing() as db:
                report = importing.import_prepared(
                    db, prepared, dry_run=True, actor=actor(), **options
                )
        except ImportFileError as exc:
            uploads.discard(self.home, digest)
            return self._problems_page(exc, filename, 400)
        return self._report_page(report, digest, filename, options, changed=False)

    def _form(self, form: Any, error: Words | str | None, status: int = 200) -> AnyResponse:
        return self.console.page(
            "import.html", status, form=form, error=error, limit_mb=UPLOAD_MAX // (1024 * 1024)
        )

    def _problems_page(self, refused: ImportFileError, filename: str, status: int) -> AnyResponse:
        problems = [self.console.words(problem) for problem in refused.problem_words]
        return self.console.page(
            "import_report.html", status, report=None, problems=problems, filename=filename
        )

    def _report_page(
        self,
        report: Any,
        digest: str,
        filename: str,
        options: dict[str, bool],
        *,
        changed: bool,
    ) -> AnyResponse:
        return self.console.page(
            "import_report.html",
            409 if changed else 200,
            report=report,
            problems=[],
            filename=filename,
            upload=digest,
            fingerprint=report.fingerprint(),
            options=options,
            changed=changed,
            to_check=report.names_to_check(),
        )


def _shown_name(name: str) -> str:
    """The upload's own file name, without any folder, as messages name the file."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    # It is named in messages and in the trail's entries: printable characters only.
    shown = "".join(char for char in base if char.isprintable()).strip()
    return shown[:NAME_MAX] or "upload.csv"


def rules(console: Console) -> list[Rule]:
    """The URL rules of importing by upload (staff only)."""
    from coalitionletter.registry import uploads

    pages = Imports(console)
    uploads.sweep(console.settings.home)  # unconfirmed uploads from before a restart
    staff_only = auth.requires(STAFF)
    upload = staff_only(pages.upload)
    upload.max_body = UPLOAD_MAX  # type: ignore[attr-defined]  # views.py reads it
    return [
        ("/organisations/import", "import_organisations", upload, ["GET", "POST"]),
        ("/organisations/import/confirm", "confirm_import", staff_only(pages.confirm), ["POST"]),
    ]
