"""One build at a time per output folder, across processes: a lock file beside the folder.

Two builds of one folder at once would both render and write, and the manifest
of the one that finished last would describe files the other wrote. A build
therefore holds an advisory `flock` on `.<folder>.build-lock` beside the folder
(beside it, so it is never among a build's files) from planning to its last
write, for the CLI's `build` and the console's Build alike. The kernel lets the
lock go when its holder's process ends, however it ends, so a crashed build never
leaves the folder locked. A second build is refused at once, not queued: it
would only rebuild what the first just wrote. The file names who holds the lock
and since when, for the refusal.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from coalitionletter.errors import BuildRunningError
from coalitionletter.models import utcnow

LOCK_SUFFIX = ".build-lock"


def lock_path(out_dir: Path) -> Path:
    """The lock file of an output folder: hidden, beside the folder."""
    return out_dir.parent / f".{out_dir.name}{LOCK_SUFFIX}"


@contextmanager
def held(out_dir: Path, slug: str, *, by: str, time_zone: str | None = None) -> Iterator[None]:
    """Hold the build lock of `out_dir` for the block; BuildRunningError at once if taken."""
    path = lock_path(out_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise _running(fd, out_dir, slug, time_zone) from None
        holder = {"since": utcnow().isoformat(), "by": by, "pid": os.getpid()}
        holder["host"] = socket.gethostname()
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(holder).encode("utf-8"), 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _running(fd: int, out_dir: Path, slug: str, time_zone: str | None) -> BuildRunningError:
    """The refusal, naming who holds the lock and since when (as far as its file says)."""
    from coalitionletter.dates import format_deadline

    try:
        holder = json.loads(os.pread(fd, 4096, 0) or b"{}")
        since = datetime.fromisoformat(holder["since"])
        by = str(holder["by"]).removeprefix("staff: ")
        process = f", process {int(holder['pid'])} on {holder['host']}"
    except (ValueError, KeyError, TypeError):
        # Taken a moment ago: its holder has not written its name yet.
        since, by, process = None, None, ""
    started = (
        f"started at {format_deadline(since, time_zone)} by {by}{process}"
        if since is not None
        else "started a moment ago"
    )
    return BuildRunningError(
        f"A build of the letters of {slug} into {out_dir} is already running ({started}). "
        "Nothing was built or written. Wait until it has finished, then build again; it "
        "will say whether anything changed since.",
        since=since,
        by=by,
    )
