"""Files and folders that name organisations or contacts: readable by their owner only.

Every such file is created with mode 0o600 and every such folder with 0o700
whatever the umask, as it comes into being: a chmod after the fact would
leave a moment in which anyone on the machine could open it. Files are
written whole or not at all (a temporary file in the same folder, then a
rename), so a reader never sees half a list.
"""

from __future__ import annotations

import io
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

PRIVATE_FILE = 0o600
PRIVATE_FOLDER = 0o700


def tighten(path: Path) -> None:
    """Take away any access others have to an existing file or folder of ours."""
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        path.chmod(mode & 0o700)


def private_folder(path: Path) -> Path:
    """Create `path` (its parent must exist) as a folder only its owner may enter."""
    try:
        path.mkdir(mode=PRIVATE_FOLDER)
    except FileExistsError:
        tighten(path)
    return path


def create_private_file(path: Path) -> None:
    """Create `path` empty with mode 0o600 if it is missing, or tighten the one there."""
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    except FileExistsError:
        tighten(path)
        return
    os.close(descriptor)


@contextmanager
def replacing(path: Path) -> Iterator[IO[bytes]]:
    """A binary handle whose contents become `path` (mode 0o600) only if the block succeeds."""
    import tempfile  # here: it costs every command's start-up a few ms otherwise

    with naming(path):
        descriptor, temporary = tempfile.mkstemp(
            dir=path.parent, prefix=f".{path.name}.", suffix=".partial"
        )
        try:
            # mkstemp creates the file 0o600 whatever the umask.
            with os.fdopen(descriptor, "wb") as handle:
                yield handle
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise


@contextmanager
def naming(path: Path) -> Iterator[None]:
    """Have a failed write (disk full, read-only) name the file the person asked for.

    A write that fails says no file name, and one through a temporary file
    would name the temporary one.
    """
    try:
        yield
    except OSError as exc:
        if exc.errno is None:
            raise
        raise OSError(exc.errno, exc.strerror, str(path)) from exc


@contextmanager
def replacing_text(path: Path, encoding: str = "utf-8", newline: str = "") -> Iterator[IO[str]]:
    """A text handle whose contents become `path` (mode 0o600) only if the block succeeds."""
    with replacing(path) as raw:
        handle = io.TextIOWrapper(raw, encoding=encoding, newline=newline)
        yield handle
        handle.flush()
        handle.detach()  # `replacing` closes the file itself, then renames it


def write_private(path: Path, data: bytes) -> None:
    """Write `data` to `path` whole or not at all, readable and writable by its owner only."""
    with replacing(path) as handle:
        handle.write(data)
