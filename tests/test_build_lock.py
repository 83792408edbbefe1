"""One build of a campaign's letters at a time, across processes, for the CLI and the console.

A build is held mid-way by a test hook (its rendering waits for a file or an
event); a second build of the same folder meanwhile is refused at once with a
clear message, and nothing of it is written; the first then finishes whole.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from coalitionletter.build import letters as builder
from coalitionletter.build.manifest import MANIFEST, load_manifest
from fixtures_console import STAFF_EMAIL, csrf_in
from fixtures_counts import COUNTS_SLUG, CountsWorld
from fixtures_signon import clean_env

pytestmark = pytest.mark.usefixtures("console_accounts")
LETTERS = f"/staff/c/{COUNTS_SLUG}/letters"

# A `coalitionletter` run whose build, once planned, waits for a file before rendering.
HELD_CLI = """
import sys, time
from pathlib import Path
from coalitionletter.build import letters
started, release = Path(sys.argv[1]), Path(sys.argv[2])
real = letters._render_due
def held(build, due, progress):
    started.write_text("held")
    while not release.exists():
        time.sleep(0.02)
    return real(build, due, progress)
letters._render_due = held
from coalitionletter.cli import cli
cli(sys.argv[3:], prog_name="coalitionletter")
"""


def _out(home: Path) -> Path:
    return home / "letters" / COUNTS_SLUG / "out"


def _files(home: Path) -> dict[str, bytes]:
    folder = _out(home)
    return {p.name: p.read_bytes() for p in folder.iterdir()} if folder.is_dir() else {}


def _until(check, what: str, seconds: float = 60) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.02)
    raise AssertionError(f"{what} did not happen within {seconds} s")


@dataclass
class HeldBuild:
    """A build in its own process: its exit code and output once it has ended."""

    process: subprocess.Popen[str]
    returncode: int | None = None
    output: str = ""


@contextmanager
def held_cli_build(
    home: Path, db_url: str | None, tmp_path: Path, *args: str
) -> Iterator[HeldBuild]:
    """`coalitionletter build` in its own process, held after planning until the block ends."""
    started, release = tmp_path / "started", tmp_path / "release"
    database = ["--db", db_url] if db_url else []
    command = [sys.executable, "-c", HELD_CLI, str(started), str(release),
               "--home", str(home), *database, "build", COUNTS_SLUG, *args]  # fmt: skip
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=clean_env()
    )
    held = HeldBuild(process)
    try:
        _until(lambda: started.exists() or process.poll() is not None, "the held build")
        assert process.poll() is None, "the held build ended before it was held"
        yield held
    finally:
        release.write_text("go")
        output, errors = process.communicate(timeout=300)
        held.returncode, held.output = process.returncode, output + errors


@pytest.fixture
def staff(console_client, staff_login):  # type: ignore[no-untyped-def]
    """A test client signed in as the staff account (Ana Lima)."""
    client = console_client()
    staff_login(client, STAFF_EMAIL)
    return client


def _press_build(client):  # type: ignore[no-untyped-def]
    token = csrf_in(client.get(LETTERS).text)
    return client.post(f"{LETTERS}/build", data={"csrf_token": token})


def test_a_second_cli_build_while_one_runs_is_refused_and_writes_nothing(
    counts_world: CountsWorld, home: Path, db_url: str | None, tmp_path: Path, invoke
) -> None:
    with held_cli_build(home, db_url, tmp_path, "--format", "html") as first:
        before = _files(home)

        second = invoke("build", COUNTS_SLUG, "--format", "html")

        assert second.exit_code == 1, second.output
        assert f"A build of the letters of {COUNTS_SLUG} into {_out(home)} is already " in (
            second.output
        )
        assert "running (started at " in second.output
        assert "Nothing was built or written. Wait until it has finished" in second.output
        assert _files(home) == before == {}
    assert first.returncode == 0, first.output
    written = set(_files(home))
    assert written == {"uk.public.html", "uk.delivered.html", MANIFEST} | {
        f"signatories.{v}.{k}" for v in ("public", "delivered") for k in ("csv", "json")
    }
    assert set(load_manifest(_out(home))["files"]) == written - {MANIFEST}
    again = invoke("build", COUNTS_SLUG, "--format", "html")  # the manifest is the first's
    assert again.exit_code == 0, again.output
    assert f"Nothing changed for {COUNTS_SLUG}" in again.output


def test_builds_into_another_folder_are_not_held_up(
    counts_world: CountsWorld, home: Path, db_url: str | None, tmp_path: Path, invoke
) -> None:
    with held_cli_build(home, db_url, tmp_path, "--format", "html"):
        elsewhere = invoke(
            "build", COUNTS_SLUG, "--format", "html", "--out", str(tmp_path / "elsewhere")
        )

        assert elsewhere.exit_code == 0, elsewhere.output
        assert (tmp_path / "elsewhere" / "uk.public.html").is_file()


@pytest.mark.slow
def test_the_console_build_is_refused_with_409_while_a_cli_build_runs(
    counts_world: CountsWorld, home: Path, db_url: str | None, tmp_path: Path, staff
) -> None:
    with held_cli_build(home, db_url, tmp_path, "--format", "html") as first:
        response = _press_build(staff)

        assert response.status_code == 409
        refusal = BeautifulSoup(response.text, "html.parser").select_one("#refusal")
        said = " ".join(refusal.get_text(" ").split())
        assert "A build of these letters is already running: it started at " in said
        assert "Nothing was built; wait until it has finished, then press Build again." in said
        assert _files(home) == {}
    assert first.returncode == 0, first.output
    assert "uk.public.html" in _files(home)


@pytest.mark.slow
def test_a_cli_build_is_refused_while_the_console_builds(
    counts_world: CountsWorld,
    home: Path,
    db_url: str | None,
    staff,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    started, release = threading.Event(), threading.Event()
    real = builder._render_due

    def held(build, due, progress):  # type: ignore[no-untyped-def]
        started.set()
        assert release.wait(120)
        return real(build, due, progress)

    monkeypatch.setattr(builder, "_render_due", held)
    token = csrf_in(staff.get(LETTERS).text)
    answers = []
    pressing = threading.Thread(
        target=lambda: answers.append(
            staff.post(f"{LETTERS}/build", data={"csrf_token": token}).status_code
        )
    )
    pressing.start()
    try:
        assert started.wait(120), "the console's build did not start"
        database = ["--db", db_url] if db_url else []
        command = [sys.executable, "-m", "coalitionletter", "--home", str(home), *database,
                   "build", COUNTS_SLUG, "--format", "html"]  # fmt: skip
        cli = subprocess.run(
            command, capture_output=True, text=True, env=clean_env(), timeout=120, check=False
        )

        assert cli.returncode == 1, cli.stdout + cli.stderr
        assert "is already running (started at " in cli.stderr
        assert "by Ana Lima" in cli.stderr
        assert _files(home) == {}
    finally:
        release.set()
        pressing.join(300)
    assert answers == [302]
    assert {"uk.public.pdf", "uk.delivered.pdf", MANIFEST} <= set(_files(home))
