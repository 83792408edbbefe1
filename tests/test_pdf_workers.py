"""`build` killed with -9 leaves no PDF worker running: workers end with their parent."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from fixtures_letters import LEAD_NAME, Org
from fixtures_signon import clean_env

HIDDEN = Org("Hidden Voices", listing="governments_only")


def _children(parent: int) -> set[int]:
    """Processes whose parent is `parent`, read from /proc."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # it ended while we looked
        # pid (comm) state ppid ...: comm may hold spaces, so split after its ")".
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == parent:
            found.add(int(entry.name))
    return found


def _running(pid: int) -> bool:
    """True while the process exists and is not a zombie waiting to be reaped."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _wait_for(condition, seconds: float) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads processes from /proc")
def test_killing_build_with_sigkill_leaves_no_pdf_worker_running(
    founding, add_signatories, founding_home: Path, settings
) -> None:
    # Two recipients, each in a delivered and a public copy: four PDFs for two workers.
    add_signatories(founding, [LEAD_NAME, "Open Rights", HIDDEN])
    command = ["build", "--format", "pdf", "--jobs", "2", "-q"]
    build = subprocess.Popen(
        # The database the fixtures filled: on the PostgreSQL run it is not the workspace's file.
        [
            sys.executable,
            "-m",
            "coalitionletter",
            "--home",
            str(founding_home),
            "--db",
            settings.db_url,
            *command,
        ],
        env=clean_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    workers: set[int] = set()
    try:
        assert _wait_for(lambda: len(_children(build.pid)) >= 2, 60), "no worker started"
        workers = _children(build.pid)
        os.kill(build.pid, signal.SIGKILL)
        build.wait(timeout=10)
        assert _wait_for(lambda: not any(_running(pid) for pid in workers), 5), (
            f"workers still running after their parent was killed: {workers}"
        )
    finally:
        if build.poll() is None:
            build.kill()
        for pid in workers:
            if _running(pid):
                os.kill(pid, signal.SIGKILL)
    assert len(workers) >= 2
