"""Spreadsheets uploaded for import, kept until staff confirm: private, named by their SHA-256.

A dry run and the import it leads to must read the very same bytes, so the
file is kept in the workspace's `uploads/` folder (mode 0700, files 0600,
since it names organisations and contacts) under the hash of its contents,
and the import names it by that hash. Files are deleted after their import,
and any left unconfirmed are deleted once a day old.
"""

from __future__ import annotations

import hashlib
import re
import time
from pathlib import Path

from coalitionletter.errors import RegistryError
from coalitionletter.private_files import private_folder, write_private

FOLDER = "uploads"
KEEP_SECONDS = 24 * 60 * 60
_HASH = re.compile(r"^[0-9a-f]{64}$")
SUFFIX = ".csv"


def folder(home: Path) -> Path:
    """The workspace's private folder for uploads, made on first use."""
    return private_folder(home / FOLDER)


def keep(home: Path, data: bytes) -> str:
    """Keep an uploaded file privately; return the SHA-256 (hex) it is named by."""
    digest = hashlib.sha256(data).hexdigest()
    write_private(folder(home) / f"{digest}{SUFFIX}", data)
    return digest


def find(home: Path, digest: str) -> Path:
    """The kept upload with this SHA-256, checked to hold those bytes; raises RegistryError."""
    gone = RegistryError(
        "The checked file is no longer kept (it was imported already, or was more than a "
        "day old). Upload it again."
    )
    if not _HASH.match(digest):
        raise gone
    path = home / FOLDER / f"{digest}{SUFFIX}"
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise gone from None
    if hashlib.sha256(data).hexdigest() != digest:
        raise RegistryError("The kept file was changed after it was checked. Upload it again.")
    return path


def discard(home: Path, digest: str) -> None:
    """Delete a kept upload (after its import)."""
    if _HASH.match(digest):
        (home / FOLDER / f"{digest}{SUFFIX}").unlink(missing_ok=True)


def sweep(home: Path, now: float | None = None) -> int:
    """Delete uploads more than a day old; return how many were deleted."""
    place = home / FOLDER
    if not place.is_dir():
        return 0
    limit = (time.time() if now is None else now) - KEEP_SECONDS
    deleted = 0
    for path in place.glob(f"*{SUFFIX}"):
        if _HASH.match(path.stem) and path.stat().st_mtime < limit:
            path.unlink(missing_ok=True)
            deleted += 1
    return deleted
