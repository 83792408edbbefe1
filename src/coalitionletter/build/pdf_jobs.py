"""Rendering a build's PDFs, in parallel worker processes when there are several."""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path


def _pdf_job(html: str, base_url: str, roots: list[str], what: str) -> bytes:
    """Render one PDF (runs in a worker process; plain arguments only)."""
    from coalitionletter.render import write_pdf

    # The build ran check_references on this HTML before queueing it.
    return write_pdf(
        html,
        base_url=base_url,
        roots=[Path(r) for r in roots],
        what=what,
        references_checked=True,
    )


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

    with ProcessPoolExecutor(max_workers=workers) as pool:
        futures = {
            pool.submit(_pdf_job, html, base_url, root_names, name): name for name, html in jobs
        }
        for future in as_completed(futures):
            name = futures[future]
            results[name] = future.result()
            finished(name)
    return results
