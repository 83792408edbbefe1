"""Rendering a build's PDFs, in parallel worker processes when there are several."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path


def _pdf_job(html: str, base_url: str, roots: list[str], what: str) -> bytes:
    """Render one PDF (runs in a worker process; plain arguments only)."""
    from coalitionletter.render import LETTER_PDF_VARIANT, write_pdf

    # The build ran check_references on this HTML before queueing it.
    return write_pdf(
        html,
        base_url=base_url,
        roots=[Path(r) for r in roots],
        what=what,
        references_checked=True,
        pdf_variant=LETTER_PDF_VARIANT,
    )


# prctl(2) option: the signal the kernel sends this process when its parent dies.
PR_SET_PDEATHSIG = 1
PARENT_POLL_SECONDS = 0.5


def _die_with_parent(parent: int) -> None:
    """Make this worker end when the build that started it ends, however it ends.

    A worker waits on a pipe its parent feeds; if the parent is killed (kill -9,
    the OOM killer), the worker would wait, or block writing a PDF nobody reads,
    forever. On Linux the kernel itself sends SIGKILL when the parent dies
    (PR_SET_PDEATHSIG): nothing to poll, and it works while the worker is deep in
    Pango or cairo and holds the GIL, where no Python code can run. Elsewhere a
    thread watches for the parent to go.
    """
    if not _ask_kernel_to_kill_orphan():
        threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)


def _ask_kernel_to_kill_orphan() -> bool:
    if not sys.platform.startswith("linux"):
        return False
    import ctypes
    import ctypes.util

    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    return libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(PARENT_POLL_SECONDS)
    os._exit(1)


def _workers(requested: int | None, jobs: int) -> int:
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, min(requested or cpus or 1, jobs))


def render_pdfs(
    jobs: list[tuple[str, str]],
    *,
    base_url: str,
    roots: list[Path],
    requested_workers: int | None,
    finished: Callable[[str], None],
) -> dict[str, bytes]:
    """PDF bytes for each (file name, checked HTML), calling `finished` as each is done."""
    root_names = [str(r) for r in roots]
    results: dict[str, bytes] = {}
    workers = _workers(requested_workers, len(jobs))
    if workers == 1:
        for name, html in jobs:
            results[name] = _pdf_job(html, base_url, root_names, name)
            finished(name)
        return results
    import weasyprint  # noqa: F401 - imported once here, shared by the forked workers

    with ProcessPoolExecutor(
        max_workers=workers, initializer=_die_with_parent, initargs=(os.getpid(),)
    ) as pool:
        futures = {
            pool.submit(_pdf_job, html, base_url, root_names, name): name for name, html in jobs
        }
        for future in as_completed(futures):
            name = futures[future]
            results[name] = future.result()
            finished(name)
    return results
