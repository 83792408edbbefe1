"""A damaged database, a full disk, a read-only folder: said in one line, with what to do.

These come from below the program (SQLite, PostgreSQL, the operating system)
as exceptions that name an error code, not the person's next step. Every face
turns them into a `StorageError` through `explain`, so each command says the
same thing about the same fault.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

from coalitionletter.errors import StorageError

_FULL = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}
_READ_ONLY = {errno.EROFS}
_REFUSED = {errno.EACCES, errno.EPERM}

# SQLite's words for each fault (sqlite3 and SQLAlchemy pass them on as they are).
_DAMAGED = ("malformed", "file is not a database", "not a database", "file is encrypted")
_DISK_FULL = ("disk is full",)
_DISK_WORDS = (
    *_DISK_FULL,
    "readonly database",
    "read-only database",
    "unable to open database file",
    "disk i/o error",
)
# SQLite cannot even map its -shm index (32 KiB) with less than this free.
_NEARLY_FULL_BYTES = 256 * 1024


def disk_state(folder: Path) -> str | None:
    """What is wrong with the disk or folder a file lives in: read-only, full, refused, or None."""
    try:
        disk = os.statvfs(folder)
    except OSError:
        return None  # a missing folder: SQLite's own words say enough
    if disk.f_flag & os.ST_RDONLY:
        return "read-only"
    if disk.f_bavail * disk.f_frsize < _NEARLY_FULL_BYTES:
        return "full"
    if not os.access(folder, os.W_OK):
        return "refused"
    return None


def _database_fault(detail: str, database: str) -> str | None:
    said = detail.lower()
    if any(words in said for words in _DAMAGED):
        return (
            f"The database {database} is damaged ({detail}). Restore it from your latest "
            "backup (put the file `coalitionletter backup` wrote in its place), then run "
            "the command again."
        )
    if not any(words in said for words in _DISK_WORDS):
        return None
    folder = Path(database).parent
    state = "full" if any(words in said for words in _DISK_FULL) else disk_state(folder)
    if state == "full":
        return (
            f"The disk holding the database {database} is full ({detail}), so nothing was "
            "saved. Free some space on it and run the command again."
        )
    if state == "read-only":
        return (
            f"The database {database} is on a read-only disk ({detail}): SQLite must write "
            f"beside it in {folder}. Make the disk writable (or copy the workspace to a "
            "writable one) and run the command again."
        )
    return (
        f"Cannot use the database {database} ({detail}): it or its folder {folder} is "
        "missing, read-only, not yours, or the disk is failing. Make both writable by you "
        "and run the command again; if the database is damaged, restore your latest backup."
    )


def _file_fault(exc: OSError) -> str | None:
    name = exc.filename if exc.filename is not None else "a file"
    if exc.errno in _FULL:
        return (
            f"The disk is full: {name} could not be written. Free some space on it and "
            "run the command again."
        )
    if exc.errno in _READ_ONLY:
        return (
            f"{name} is on a read-only disk, so it could not be written. Choose a "
            "writable folder (or make the disk writable) and run the command again."
        )
    if exc.errno in _REFUSED:
        return (
            f"Permission denied for {name}. Make it and its folder writable by you, or "
            "choose another path, and run the command again."
        )
    if exc.filename is not None:
        return f"Cannot use {name}: {exc.strerror}. Check it and run the command again."
    return None


def _driver_detail(exc: BaseException) -> str | None:
    """What the database driver said, if `exc` came from a database driver."""
    import sqlite3

    from sqlalchemy.exc import DBAPIError

    if isinstance(exc, DBAPIError):
        said = str(exc.orig).strip()
        return said.splitlines()[0] if said else type(exc.orig).__name__
    if isinstance(exc, sqlite3.Error):
        return str(exc)
    return None


def explain(exc: BaseException, database: str | None) -> StorageError | None:
    """The one-line StorageError for a database or file fault, or None if `exc` is not one.

    `database` is the SQLite file (or the URL, password hidden) the command uses.
    """
    detail = _driver_detail(exc)
    if detail is not None:
        where = database or "the database"
        message = _database_fault(detail, where) or (
            f"The database {where} reported an error ({detail}). Check it and run the "
            "command again."
        )
        return StorageError(message)
    if isinstance(exc, OSError):
        fault = _file_fault(exc)
        return StorageError(fault) if fault else None
    return None
