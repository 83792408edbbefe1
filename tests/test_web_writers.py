"""The web's SQLite writers queue on one lock across threads and worker processes."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from coalitionletter.web.writers import WritersLock

HOLD = """
import sys, time
from coalitionletter.web.writers import WritersLock
with WritersLock(sys.argv[1]):
    print("held", flush=True)
    time.sleep(float(sys.argv[2]))
"""


def test_a_writer_waits_while_another_worker_process_holds_the_lock(tmp_path: Path) -> None:
    database = str(tmp_path / "signatories.db")
    command = [sys.executable, "-c", HOLD, database, "0.6"]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as other:
        assert other.stdout.readline().strip() == "held"
        started = time.monotonic()
        with WritersLock(database) as lock:
            waited = time.monotonic() - started
            assert lock.locked()
    assert waited > 0.3
    assert (tmp_path / "signatories.db-writers.lock").exists()


def test_a_folder_where_the_lock_file_cannot_be_made_leaves_the_thread_lock_alone(
    tmp_path: Path, caplog
) -> None:
    lock = WritersLock(str(tmp_path / "missing-folder" / "signatories.db"))
    with lock:
        assert lock.locked()
    assert not lock.locked()
    assert "Cannot open" in caplog.text
    assert not (tmp_path / "missing-folder").exists()
