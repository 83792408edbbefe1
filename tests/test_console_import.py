"""Importing a CSV through the console: the dry run of `org import`, then Confirm.

The console's dry run and import are compared with `org import` run on the same
file: the same lines, the same messages, the same registry and trail after.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import stat
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from bs4 import BeautifulSoup
from click.testing import CliRunner, Result
from sqlalchemy import select

from coalitionletter.cli import cli
from coalitionletter.db import Database
from coalitionletter.models import Event
from coalitionletter.registry import organisations as registry
from coalitionletter.registry import trail as registry_trail
from coalitionletter.web.console.imports import UPLOAD_MAX
from fixtures_console import STAFF_EMAIL, csrf_in
from fixtures_registry import snapshot

pytestmark = pytest.mark.usefixtures("console_accounts")

Invoke = Callable[..., Result]
STAFF_NAME = "Ana Lima"
HEADER = "Organisation,Country,Type,Email,Website\r\n"
ROWS = (
    "PEN America,US,international NGO,ada@pen.example,pen.example\r\n"
    "Freedom House,US,international NGO,info@fh.example,fh.example\r\n"
    "Hong Kong Watch,GB,diaspora group,,\r\n"
)
GOOD = (HEADER + ROWS).encode("utf-8")


@pytest.fixture
def staff(signed_in):  # type: ignore[no-untyped-def]
    """A test client signed in as the staff account Ana Lima."""
    return signed_in(STAFF_EMAIL)


@pytest.fixture
def pen(database: Database, invoke: Invoke) -> None:
    """PEN America in the registry, added by `org add` as Ana Lima."""
    result = invoke(
        "org",
        "add",
        "PEN America",
        "--country",
        "US",
        "--type",
        "national NGO",
        "--email",
        "ada@pen.example",
        env={"COALITIONLETTER_STAFF_NAME": STAFF_NAME},
    )
    assert result.exit_code == 0, result.output


def _soup(response: Any) -> BeautifulSoup:
    return BeautifulSoup(response.text, "html.parser")


def _text(response: Any) -> str:
    return _soup(response).get_text(" ", strip=True)


def _token(client: Any) -> str:
    return csrf_in(client.get("/staff/organisations/import").text)


def _upload(client: Any, data: bytes, name: str = "orgs.csv", **options: str) -> Any:
    """Send a file with the import form, as a browser does."""
    form = {"csrf_token": _token(client), "file": (io.BytesIO(data), name), **options}
    return client.post("/staff/organisations/import", data=form, content_type="multipart/form-data")


def _upload_raw(client: Any, data: bytes) -> Any:
    """Send a large file as one multipart body in memory (the test client would spool it
    to a temporary file it never closes)."""
    boundary = "console-import-test-boundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n'
        f'{_token(client)}\r\n--{boundary}\r\nContent-Disposition: form-data; name="file"; '
        'filename="orgs.csv"\r\nContent-Type: text/csv\r\n\r\n'
    )
    body = head.encode() + data + f"\r\n--{boundary}--\r\n".encode()
    return client.post(
        "/staff/organisations/import",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
    )


def _confirm(client: Any, page: Any) -> Any:
    """Press Confirm on a dry-run page."""
    form = _soup(page).select_one("form[action='/staff/organisations/import/confirm']")
    assert form is not None, _text(page)
    data = {i["name"]: i.get("value", "") for i in form.select("input")}
    return client.post("/staff/organisations/import/confirm", data=data)


def _rows(page: Any) -> list[str]:
    """The dry run's table, each line written as `org import` prints it."""
    lines = []
    for row in _soup(page).select("table.registry tbody tr"):
        line, action, name, reason = (td.get_text() for td in row.select("td"))
        lines.append(f"  line {line}: {action:<6} {name} ({reason})")
    return lines


def _cli_import(invoke: Invoke, folder: Path, *options: str) -> Result:
    """`org import orgs.csv OPTIONS` run in the file's folder, as Ana Lima."""
    cwd = Path.cwd()
    os.chdir(folder)
    try:
        return invoke(
            "org", "import", "orgs.csv", *options, env={"COALITIONLETTER_STAFF_NAME": STAFF_NAME}
        )
    finally:
        os.chdir(cwd)


def _uploads(home: Path) -> list[Path]:
    folder = home / "uploads"
    return sorted(folder.iterdir()) if folder.exists() else []


# --- the dry run ------------------------------------------------------------------------------


@pytest.mark.usefixtures("pen")
def test_an_upload_shows_the_dry_run_of_org_import_and_changes_nothing(
    staff, database: Database, invoke: Invoke, tmp_path: Path
) -> None:
    before = snapshot(database)
    page = _upload(staff, GOOD)
    assert page.status_code == 200
    assert snapshot(database) == before
    (tmp_path / "orgs.csv").write_bytes(GOOD)
    result = _cli_import(invoke, tmp_path, "--dry-run")
    assert result.exit_code == 0, result.output
    assert _rows(page) == result.output.splitlines()[:3]
    summary = "orgs.csv: 2 organisations would be added, 0 updated, 1 skipped"
    assert summary in _text(page)
    assert summary in result.output
    assert "Dry run: nothing has been written yet." in _text(page)


@pytest.mark.usefixtures("pen")
def test_with_update_the_dry_run_shows_each_change_old_to_new(staff, database: Database) -> None:
    page = _upload(staff, GOOD, update="y")
    assert page.status_code == 200
    first = _rows(page)[0]
    assert "update" in first
    assert "org_type: national NGO → international NGO" in first
    assert "website: (empty) → https://pen.example" in first
    assert "1 updated" in _text(page)


@pytest.mark.usefixtures("pen")
def test_every_problem_is_listed_by_line_and_column_as_org_import_and_nothing_changes(
    staff, database: Database, invoke: Invoke, tmp_path: Path, home: Path
) -> None:
    bad = (HEADER + ROWS + "Bad Line,Narnia,NGO,not-an-address,\r\n").encode("utf-8")
    before = snapshot(database)
    page = _upload(staff, bad)
    assert page.status_code == 400
    problems = [li.get_text() for li in _soup(page).select("ul.problems li")]
    assert problems == [
        "orgs.csv, line 5, column B (Country): Country 'Narnia' is not an ISO 3166-1 country. "
        "Give a two-letter code such as GB or an English name such as United Kingdom, or "
        "leave it empty.",
        "orgs.csv, line 5, column D (Email): Email 'not-an-address' is not a valid address: "
        "An email address must have an @-sign. Correct it or leave it empty.",
    ]
    (tmp_path / "orgs.csv").write_bytes(bad)
    result = _cli_import(invoke, tmp_path, "--dry-run")
    assert result.exit_code == 1
    assert [f"  {p}" for p in problems] == result.output.splitlines()[1:]
    assert "2 problems found; nothing was imported" in _text(page)
    assert _soup(page).select_one("form[action='/staff/organisations/import/confirm']") is None
    assert snapshot(database) == before
    assert _uploads(home) == []  # a file that cannot be imported is not kept


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"", id="empty"),
        pytest.param(b"Organisation\r\nCaf\x81 Libre\r\n", id="not-utf8-nor-windows-1252"),
        pytest.param(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00", id="not-a-csv"),
        pytest.param(b'Name,Email\r\n"Open quote,a@b.example\r\n', id="unclosed-quote"),
    ],
)
def test_a_file_that_cannot_be_read_gets_the_message_org_import_gives(
    staff, database: Database, invoke: Invoke, tmp_path: Path, data: bytes
) -> None:
    before = snapshot(database)
    page = _upload(staff, data)
    assert page.status_code == 400
    problems = [li.get_text() for li in _soup(page).select("ul.problems li")]
    (tmp_path / "orgs.csv").write_bytes(data)
    result = _cli_import(invoke, tmp_path)
    assert result.exit_code == 1
    assert problems and [f"  {p}" for p in problems] == result.output.splitlines()[1:]
    assert snapshot(database) == before


def test_no_file_chosen_is_named_at_the_field_and_changes_nothing(
    staff, database: Database, home: Path
) -> None:
    before = snapshot(database)
    response = staff.post(
        "/staff/organisations/import",
        data={"csrf_token": _token(staff)},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert "Choose a CSV file to import" in _soup(response).select_one("#file-error").get_text()
    assert snapshot(database) == before
    assert _uploads(home) == []


def test_a_file_over_the_limit_is_refused_with_the_limit_and_not_kept(
    staff, database: Database, home: Path
) -> None:
    before = snapshot(database)
    big = HEADER.encode() + b"x" * UPLOAD_MAX
    response = _upload_raw(staff, big)
    assert response.status_code == 413
    assert "a CSV file to import may be at most 10 MB" in _text(response)
    assert snapshot(database) == before
    assert _uploads(home) == []
    assert _upload(staff, GOOD).status_code == 200  # positive control: a small one is taken


def test_a_file_of_nearly_the_limit_is_taken(staff) -> None:
    notes = "n" * 9000
    rows = "".join(f"Organisation {n},GB,{notes}\r\n" for n in range(1, 1101))
    data = f"Organisation,Country,Notes\r\n{rows}".encode()
    assert 9 * 1024 * 1024 < len(data) < UPLOAD_MAX
    page = _upload_raw(staff, data)
    assert page.status_code == 200, _text(page)[:500]
    assert "1100 organisations would be added" in _text(page)


# --- confirming -----------------------------------------------------------------------------


def _registry_state(database: Database) -> dict[str, Any]:
    """The registry and its trail, without ids and times (which differ between databases:
    on PostgreSQL a dry run uses up sequence numbers)."""
    with database.reading() as session:
        organisations = [
            {
                k: v
                for k, v in registry.describe(o).items()
                if k not in {"id", "created_at", "updated_at"}
            }
            for o in registry.list_organisations(session)
        ]
        trail = [
            (e.kind, e.actor, _without_ids(e.kind, e.detail))
            for e in session.scalars(
                select(Event).where(Event.chain == "registry").order_by(Event.seq)
            )
        ]
    return {"organisations": organisations, "trail": trail}


def _without_ids(kind: str, detail: str) -> str:
    """An import entry's detail with each organisation's id taken out (see above)."""
    if kind != registry_trail.IMPORTED:
        return detail
    values = json.loads(detail)
    place = values["columns"].index("id")
    values["organisations"] = [row[:place] + row[place + 1 :] for row in values["organisations"]]
    return json.dumps(values, sort_keys=True)


@pytest.mark.usefixtures("pen")
def test_confirming_imports_as_org_import_does_on_a_copy_of_the_workspace(
    staff, database: Database, home: Path, tmp_path: Path
) -> None:
    # The copy: a second workspace where the same `org add` ran, then `org import`.
    copy = tmp_path / "copy"
    copy.mkdir()
    runner = CliRunner()
    env = {"COALITIONLETTER_STAFF_NAME": STAFF_NAME}

    def run(*args: str) -> Result:
        result = runner.invoke(cli, ["--home", str(copy), *args], env=env, catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result

    run("init")
    run("org", "add", "PEN America", "--country", "US", "--type", "national NGO")
    run("org", "edit", "pen-america", "--email", "ada@pen.example")
    folder = tmp_path / "files"
    folder.mkdir()
    (folder / "orgs.csv").write_bytes(GOOD)
    cwd = Path.cwd()
    os.chdir(folder)
    try:
        run("org", "import", "orgs.csv", "--update")
    finally:
        os.chdir(cwd)

    page = _upload(staff, GOOD, update="y")
    done = _confirm(staff, page)
    assert done.status_code == 302
    assert done.headers["Location"] == "/staff/organisations"
    listing = _text(staff.get("/staff/organisations"))
    assert "orgs.csv: 2 organisations were added, 1 updated, 0 skipped" in listing
    assert "Freedom House" in listing

    copy_database = Database(f"sqlite:///{copy / 'signatories.db'}")
    try:
        expected = _registry_state(copy_database)
    finally:
        copy_database.dispose()
    got = _registry_state(database)
    assert [o["name"] for o in got["organisations"]] == [
        "Freedom House",
        "Hong Kong Watch",
        "PEN America",
    ]
    assert got["organisations"] == expected["organisations"]
    # The console's first entry is `org add` with the email; the copy's took add + edit.
    assert got["trail"][1:] == expected["trail"][2:]
    # PEN America updated, then the two new ones in one entry that names both.
    assert [kind for kind, _, _ in got["trail"][1:]] == [
        "organisation_edited",
        "organisations_added",
    ]
    assert {actor for _, actor, _ in got["trail"]} == {f"staff: {STAFF_NAME}"}


@pytest.mark.usefixtures("pen")
def test_the_upload_is_kept_private_under_its_sha256_and_deleted_after_the_import(
    staff, home: Path
) -> None:
    page = _upload(staff, GOOD)
    digest = hashlib.sha256(GOOD).hexdigest()
    (kept,) = _uploads(home)
    assert kept.name == f"{digest}.csv"
    assert kept.read_bytes() == GOOD
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert stat.S_IMODE(kept.parent.stat().st_mode) == 0o700
    assert _soup(page).select_one("input[name=upload]")["value"] == digest
    assert _confirm(staff, page).status_code == 302
    assert _uploads(home) == []


@pytest.mark.usefixtures("pen")
def test_when_the_registry_changed_since_the_check_the_new_dry_run_is_shown_instead(
    staff, database: Database, new_org
) -> None:
    page = _upload(staff, GOOD)
    assert _rows(page)[1] == "  line 3: add    Freedom House (new organisation)"
    new_org("Freedom House", country="US")  # someone else adds it meanwhile
    before = snapshot(database)
    again = _confirm(staff, page)
    assert again.status_code == 409
    assert "The registry changed since this file was checked" in _text(again)
    assert snapshot(database) == before
    assert _rows(again)[1].startswith("  line 3: skip   Freedom House (already in the registry")
    assert "1 organisation would be added" in _text(again)
    done = _confirm(staff, again)
    assert done.status_code == 302
    assert "1 organisation was added" in _text(staff.get("/staff/organisations"))


@pytest.mark.usefixtures("pen")
def test_confirming_a_file_no_longer_kept_changes_nothing_and_says_to_upload_again(
    staff, database: Database, home: Path
) -> None:
    page = _upload(staff, GOOD)
    (kept,) = _uploads(home)
    kept.unlink()
    before = snapshot(database)
    response = _confirm(staff, page)
    assert response.status_code == 400
    assert "The checked file is no longer kept" in _text(response)
    assert snapshot(database) == before


@pytest.mark.usefixtures("pen")
def test_a_kept_file_changed_after_its_check_is_not_imported(
    staff, database: Database, home: Path
) -> None:
    page = _upload(staff, GOOD)
    (kept,) = _uploads(home)
    kept.write_bytes(GOOD + b"Smuggled In,GB,NGO,,\r\n")
    before = snapshot(database)
    response = _confirm(staff, page)
    assert response.status_code == 400
    assert "The kept file was changed after it was checked" in _text(response)
    assert snapshot(database) == before


@pytest.mark.parametrize("upload", ["../../signatories", "0" * 63 + "g", ""])
def test_a_confirmation_naming_no_kept_upload_is_refused(
    staff, database: Database, upload: str
) -> None:
    before = snapshot(database)
    response = staff.post(
        "/staff/organisations/import/confirm",
        data={"csrf_token": _token(staff), "upload": upload, "fingerprint": "x"},
    )
    assert response.status_code == 400
    assert "The checked file is no longer kept" in _text(response)
    assert snapshot(database) == before


def test_uploads_older_than_a_day_are_deleted_and_newer_ones_kept(staff, home: Path) -> None:
    _upload(staff, GOOD)
    _upload(staff, GOOD.replace(b"Freedom", b"Liberty"))
    old, new = _uploads(home)
    two_days_ago = time.time() - 2 * 24 * 3600
    os.utime(old, (two_days_ago, two_days_ago))
    assert staff.get("/staff/organisations/import").status_code == 200
    assert _uploads(home) == [new]


# --- what the pages never show ------------------------------------------------------------


@pytest.mark.usefixtures("pen")
def test_no_registry_page_shows_a_raw_token_and_none_carries_inline_script_or_style(
    console_app, staff, settings, database: Database
) -> None:
    from fixtures_console import make_account

    link_token = make_account(settings, database, "new@example.org", password=None)
    cookie = staff.get_cookie("cl_staff", path="/staff").value
    key = console_app.session_interface.get_signing_serializer(console_app).loads(cookie)[
        "_user_id"
    ]
    pages = [
        staff.get(path)
        for path in (
            "/staff/organisations",
            "/staff/organisations/1",
            "/staff/organisations/1/edit",
            "/staff/organisations/new",
            "/staff/organisations/1/contacts/new",
            "/staff/organisations/1/contacts/1/edit",
            "/staff/organisations/duplicates",
            "/staff/organisations/import",
        )
    ]
    pages.append(_upload(staff, GOOD))
    for page in pages:
        assert page.status_code == 200
        assert "<form" in page.text  # positive control: a whole console page
        assert link_token not in page.text
        assert key not in page.text
        assert "<script" not in page.text
        assert "<style" not in page.text
        assert " style=" not in page.text
        assert "unsafe-inline" not in page.headers["Content-Security-Policy"]


def test_the_fingerprint_of_a_dry_run_is_the_confirmed_imports(
    database: Database, tmp_path: Path
) -> None:
    from coalitionletter.registry import importing

    path = tmp_path / "orgs.csv"
    path.write_bytes(GOOD)
    with database.writing() as session:
        checked = importing.import_file(session, path, update=False, dry_run=True, actor="t")
    with database.writing() as session:
        done = importing.import_file(session, path, update=False, dry_run=False, actor="t")
    assert checked.fingerprint() == done.fingerprint()
    assert json.dumps(checked.fingerprint())  # a plain string, carried in the form


@pytest.mark.usefixtures("pen")
def test_the_overwrite_names_choice_is_carried_to_the_import(staff, database: Database) -> None:
    renamed = GOOD.replace(b"PEN America,", b"PEN  AMERICA,")
    kept = _upload(staff, renamed, update="y")
    assert "kept the registry's name 'PEN America'" in _rows(kept)[0]
    page = _upload(staff, renamed, update="y", overwrite_names="y")
    assert "name: PEN America → PEN  AMERICA" in _rows(page)[0]
    assert _confirm(staff, page).status_code == 302
    with database.reading() as session:
        assert registry.find_organisation(session, "pen-america").name == "PEN  AMERICA"


def test_uploads_older_than_a_day_are_deleted_when_the_console_starts(
    settings, database: Database, home: Path
) -> None:
    from coalitionletter.registry import uploads
    from coalitionletter.web.app import create_app

    old = uploads.folder(home) / f"{hashlib.sha256(b'old').hexdigest()}.csv"
    new = uploads.folder(home) / f"{hashlib.sha256(b'new').hexdigest()}.csv"
    for path, data in ((old, b"old"), (new, b"new")):
        path.write_bytes(data)
    two_days_ago = time.time() - 2 * 24 * 3600
    os.utime(old, (two_days_ago, two_days_ago))
    create_app(settings, database)
    assert _uploads(home) == [new]
