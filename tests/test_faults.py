"""A damaged database, a full disk and a read-only folder: one clear line, in every command.

The faults are real: bytes overwritten in a real database; a small tmpfs
filled to the last byte; a tmpfs remounted read-only (tests run as root, where
chmod stops nobody, so only a read-only mount really refuses writes). Each
command must exit non-zero with one line that says what happened, which file,
and what to do, and must leave the database as it was.
"""

from __future__ import annotations

import errno
import gc
import hashlib
import random
import sqlite3
import subprocess
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path

import pytest

from fixtures_letters import copy_campaign

pytestmark = pytest.mark.sqlite_only

FOUNDING = "ilp-magnitsky-2020"
PAGE = 4096
IMPORT_CSV = "Organisation,Country,Email\nImported Voices,FR,contact@imported.example\n"

# Every command that opens the database or writes a file; {out} is a folder for outputs.
COMMANDS: dict[str, tuple[str, ...]] = {
    "init": ("init",),
    "org add": ("org", "add", "Added Rights", "--country", "GB"),
    "org import": ("org", "import", "{csv}"),
    "org list": ("org", "list"),
    "org export": ("org", "export", "{out}/registry.csv"),
    "invite": ("invite", FOUNDING, "--all", "--outbox", "{out}/outbox"),
    "build": ("build", FOUNDING, "--format", "html", "-q"),
    "counts": ("counts", FOUNDING),
    "counts sheet": ("counts", FOUNDING, "--html", "{out}/sheet.html"),
    "export": ("export", FOUNDING, "--delivered", "--output", "{out}/list.csv"),
    "backup": ("backup", "{out}/copy.db"),
}


def _release_database() -> None:
    """Let go of every pooled connection the in-process commands left (their engines)."""
    gc.collect()


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class Workspace:
    """A founding workspace, set up by `init`, with one organisation that has a contact."""

    def __init__(self, home: Path, invoke: Callable[..., object], tmp_path: Path) -> None:
        self.home = home
        self.invoke = invoke
        self.database = home / "signatories.db"
        self.csv = tmp_path / "import.csv"
        self.csv.write_text(IMPORT_CSV, encoding="utf-8")
        copy_campaign(home, FOUNDING)
        (home / "coalitionletter.toml").write_text('[web]\nbase_url = "https://sign.example.org"\n')
        self._ok("init")
        self._ok("org", "add", "Contact Rights", "--country", "GB", "--email", "a@rights.example")
        self.settle()

    def _ok(self, *args: str) -> None:
        result = self.invoke(*args)
        assert result.exit_code == 0, result.output

    def settle(self) -> None:
        """Close every connection and fold the WAL into the file, as after a clean exit."""
        _release_database()
        with closing(sqlite3.connect(self.database)) as connection:
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        for companion in ("-wal", "-shm"):
            self.database.with_name(self.database.name + companion).unlink(missing_ok=True)

    def run(self, command: str, out: Path):  # type: ignore[no-untyped-def]
        args = [part.format(out=out, csv=self.csv) for part in COMMANDS[command]]
        result = self.invoke(*args)
        _release_database()
        return result


def _assert_one_clear_line(result, *words: str) -> None:  # type: ignore[no-untyped-def]
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert lines[0].startswith("Error: ")
    assert "Traceback" not in result.output
    for word in words:
        assert word in lines[0], lines[0]


@pytest.fixture
def workspace(home: Path, invoke, tmp_path: Path) -> Workspace:
    return Workspace(home, invoke, tmp_path)


@pytest.fixture
def tmpfs(home: Path) -> Iterator[Callable[..., None]]:
    """Mount a small tmpfs on the workspace folder (root only); unmounted afterwards."""
    mounted: list[Path] = []

    def mount(size: str = "8m", *, options: str = "") -> None:
        option = f"size={size}" + (f",{options}" if options else "")
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", option, "tmpfs", str(home)],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here (needs root): {done.stderr.strip()}")
        mounted.append(home)

    yield mount
    _release_database()
    for folder in mounted:
        subprocess.run(["umount", "-l", str(folder)], check=True)


@pytest.fixture
def full_folder(tmp_path: Path) -> Iterator[Path]:
    """A folder on its own small tmpfs, filled to the last byte (root only); unmounted after."""
    out = tmp_path / "full-disk"
    out.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(out)],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip("cannot mount a tmpfs here (needs root)")
    try:
        _fill(out)
        yield out
    finally:
        subprocess.run(["umount", "-l", str(out)], check=True)


def _remount(home: Path, mode: str) -> None:
    _release_database()
    subprocess.run(["mount", "-o", f"remount,{mode}", str(home)], check=True)


def _fill(folder: Path) -> None:
    """Write a file until the disk refuses another byte."""
    block = b"\0" * 4096
    with (folder / "filler").open("wb", buffering=0) as handle:
        while True:
            try:
                handle.write(block)
            except OSError as exc:
                assert exc.errno == errno.ENOSPC
                break
    for size in (1024, 64, 1):  # the last scraps too
        with (folder / "filler").open("ab", buffering=0) as handle:
            try:
                while True:
                    handle.write(b"\0" * size)
            except OSError as exc:
                assert exc.errno == errno.ENOSPC


def _scramble(database: Path, start: int, length: int) -> None:
    """Overwrite part of the file with random bytes, as a failing disk would."""
    noise = random.Random(5).randbytes(length)
    with database.open("r+b") as handle:
        handle.seek(start)
        handle.write(noise)


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_command_works_on_a_healthy_workspace(
    workspace: Workspace, command: str, tmp_path: Path
) -> None:
    result = workspace.run(command, tmp_path)
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_a_damaged_database_is_named_with_the_backup_to_restore(
    workspace: Workspace, command: str, tmp_path: Path
) -> None:
    size = workspace.database.stat().st_size
    _scramble(workspace.database, PAGE, size - PAGE)  # every page but the schema's first
    before = _digest(workspace.database)
    result = workspace.run(command, tmp_path)
    _assert_one_clear_line(result, "damaged", str(workspace.database), "backup")
    assert _digest(workspace.database) == before


@pytest.mark.parametrize("command", ["org list", "init", "backup", "build"])
def test_a_database_with_a_damaged_header_is_named_with_the_backup_to_restore(
    workspace: Workspace, command: str, tmp_path: Path
) -> None:
    _scramble(workspace.database, 0, 100)
    before = _digest(workspace.database)
    result = workspace.run(command, tmp_path)
    _assert_one_clear_line(result, "damaged", str(workspace.database), "backup")
    assert _digest(workspace.database) == before


@pytest.fixture
def disk_workspace(home: Path, invoke, tmp_path: Path, tmpfs) -> Workspace:  # type: ignore[no-untyped-def]
    """The workspace on its own small disk (a tmpfs), with an output folder there too."""
    tmpfs("8m")
    space = Workspace(home, invoke, tmp_path)
    (home / "out").mkdir()
    return space


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_a_full_disk_says_which_file_and_to_free_space(
    disk_workspace: Workspace, command: str
) -> None:
    home = disk_workspace.home
    _fill(home)
    before = _digest(disk_workspace.database)
    result = disk_workspace.run(command, home / "out")
    _assert_one_clear_line(result, "full", str(home), "Free some space")
    assert _digest(disk_workspace.database) == before


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_a_read_only_folder_says_which_file_and_to_make_it_writable(
    disk_workspace: Workspace, command: str
) -> None:
    home = disk_workspace.home
    before = _digest(disk_workspace.database)
    _remount(home, "ro")
    result = disk_workspace.run(command, home / "out")
    _assert_one_clear_line(result, "read-only", str(home), "writable")
    _remount(home, "rw")
    assert _digest(disk_workspace.database) == before


def test_an_output_on_a_full_disk_is_named_and_nothing_half_written_is_left(
    workspace: Workspace, full_folder: Path
) -> None:
    # The database is healthy; only the folder the sheet goes to is full.
    out = full_folder
    result = workspace.run("counts sheet", out)
    _assert_one_clear_line(result, "full", str(out / "sheet.html"), "Free some space")
    assert sorted(p.name for p in out.iterdir()) == ["filler"]


def test_an_outbox_on_a_full_disk_leaves_the_message_queued_to_go_on_the_next_run(
    workspace: Workspace, full_folder: Path
) -> None:
    out = full_folder
    result = workspace.run("invite", out)
    assert result.exit_code == 1, result.output
    assert "1 message(s) are still queued (The disk is full: " in result.output
    assert f"{out / 'outbox'}/" in result.output and "Free some space" in result.output
    assert "Outcome unknown" not in result.output
    assert _outbox_states(workspace.database) == ["queued"]
    (out / "filler").unlink()
    again = workspace.run("invite", out)
    assert again.exit_code == 0, again.output
    assert _outbox_states(workspace.database) == ["sent"]
    assert len(list((out / "outbox").glob("*.eml"))) == 1


def _outbox_states(database: Path) -> list[str]:
    with closing(sqlite3.connect(database)) as connection:
        return [row[0] for row in connection.execute("SELECT state FROM outbox ORDER BY id")]
