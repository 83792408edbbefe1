"""Each speed path against the ordinary public-API way, side by side in one run.

`python -m benchmarks.speed_paths [--rows N] [--repeats N]` prints, per path, the
median time of both ways and their ratio. CONTRIBUTING.md's "Speed paths" section
quotes these figures; a path is kept only where the ordinary way is far slower.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from coalitionletter import bulk_sql, db
from coalitionletter.models import Organisation, utcnow
from coalitionletter.registry.organisations import ORGANISATION_COLUMNS

_ORGANISATIONS = Organisation.__table__


def _rows(count: int) -> list[tuple[Any, ...]]:
    return [
        (f"org-{n}", f"Org {n}", f"org {n}", f"Org {n}", "NO", "ngo", None, None, None)
        for n in range(count)
    ]


def _bulk_sql(database: db.Database, rows: list[tuple[Any, ...]]) -> None:
    now = utcnow()
    with database.writing() as session:
        constants = {"created_at": now, "updated_at": now}
        bulk_sql.insert_rows(session, _ORGANISATIONS, ORGANISATION_COLUMNS, rows, constants)
        session.rollback()


def _core_executemany(database: db.Database, rows: list[tuple[Any, ...]]) -> None:
    now = utcnow()
    with database.writing() as session:
        constants = {"created_at": now, "updated_at": now}
        params = [dict(zip(ORGANISATION_COLUMNS, row, strict=True)) | constants for row in rows]
        session.connection().execute(insert(_ORGANISATIONS), params)
        session.rollback()


def _paired(
    first: Callable[[], object], second: Callable[[], object], repeats: int
) -> tuple[float, float]:
    times: tuple[list[float], list[float]] = ([], [])
    first()
    second()
    for _ in range(repeats):
        for action, into in ((first, times[0]), (second, times[1])):
            start = time.process_time()
            action()
            into.append(time.process_time() - start)
    return statistics.median(times[0]), statistics.median(times[1])


def bulk_insert(rows: int, repeats: int) -> str:
    """`bulk_sql.insert_rows` against Core's executemany, organisations into SQLite."""
    with tempfile.TemporaryDirectory() as folder:
        database = db.Database(f"sqlite:///{Path(folder) / 'bench.db'}")
        db.upgrade(database)
        data = _rows(rows)
        ours, core = _paired(
            lambda: _bulk_sql(database, data), lambda: _core_executemany(database, data), repeats
        )
        database.dispose()
    return (
        f"bulk insert of {rows:,} organisations (CPU): bulk_sql {ours:.3f} s, "
        f"Core executemany {core:.3f} s, Core / bulk_sql {core / ours:.2f}"
    )


def _wsgi_call(app: Any, environ: dict[str, Any]) -> str:
    """Run one request through the app's WSGI callable, as a server does; its status line."""
    status: list[str] = []
    body = app(environ, lambda line, headers, exc_info=None: status.append(line))
    try:
        b"".join(body)
    finally:
        if hasattr(body, "close"):
            body.close()
    return status[0]


def answer_path(answers: int) -> str:
    """CPU per confirmation POST against per trivial POST, in-process.

    The in-process core of B8: what a `serve` worker's thread spends inside the app
    per request, without the server loop and the scheduler, so that it can be
    compared on a busy machine. Each request's WSGI environ is built before the
    clock starts and handed to the app's WSGI callable, as waitress does: Flask's
    test client would add about 0.1 ms of its own to every request, both sides.
    """
    from urllib.parse import urlencode

    from werkzeug.test import EnvironBuilder

    from benchmarks.cases.signon import (
        BROWSER_AGENT,
        FORM_TYPE,
        TRIVIAL_BODY,
        _form,
        _issue_tokens,
        free_port,
        write_config,
    )
    from benchmarks.workspaces import founding_workspace
    from coalitionletter.settings import load_settings
    from coalitionletter.web.app import create_app

    home = founding_workspace()
    write_config(home, smtp_port=free_port(), base_url="http://127.0.0.1:8000")
    tokens = list(_issue_tokens(home, answers))
    app = create_app(load_settings(home, environ={}))
    client = app.test_client()
    agent = {"User-Agent": BROWSER_AGENT}
    forms = [urlencode(_form(client.get(f"/s/{t}", headers=agent).data)) for t in tokens]

    def environ(path: str, body: str) -> dict[str, Any]:
        headers = {**FORM_TYPE, **agent, "Cookie": "cl_visit=1"}
        return EnvironBuilder(path=path, method="POST", data=body, headers=headers).get_environ()

    confirmations = [environ(f"/s/{t}", f) for t, f in zip(tokens, forms, strict=True)]
    trivials = [environ("/healthz", TRIVIAL_BODY) for _ in range(answers + 50)]
    for each in trivials[answers:]:  # warm-up of the trivial side; answers warm up on their first
        _wsgi_call(app, each)
    start = time.process_time()
    for each in confirmations:
        status = _wsgi_call(app, each)
        if not status.startswith("303"):
            raise RuntimeError(f"a confirmation was answered {status}")
    ours = (time.process_time() - start) / answers
    start = time.process_time()
    for each in trivials[:answers]:
        _wsgi_call(app, each)
    trivial = (time.process_time() - start) / answers
    shutil.rmtree(home)
    return (
        f"answering path, {answers} confirmations in-process (CPU inside the app): "
        f"{ours * 1000:.3f} ms per confirmation POST, {trivial * 1000:.3f} ms per trivial POST, "
        f"trivial / confirmation {trivial / ours:.3f}"
    )


def sending(count: int, repeats: int) -> str:
    """CPU of `invite CAMPAIGN --all` in-process per message, to aiosmtpd in its own process.

    The in-process side of B7, in CPU time so that it can be compared on a busy machine.
    """
    from benchmarks.cases.signon import start_sink, write_config
    from benchmarks.workspaces import FOUNDING, founding_workspace, in_process

    work = Path(tempfile.mkdtemp(prefix="coalitionletter-bench-"))
    sink = start_sink(work)
    template = founding_workspace(invited_only=count)
    write_config(template, smtp_port=sink.port, base_url="https://sign.example.org")
    times = []
    try:
        for number in range(repeats + 1):  # the first round is the warm-up
            home = work / f"run-{number}"
            shutil.copytree(template, home)
            start = time.process_time()
            in_process(home, "invite", FOUNDING, "--all")
            spent = time.process_time() - start
            if len(sink.take()) != count:
                raise RuntimeError("not every message reached the server")
            shutil.rmtree(home)
            if number:
                times.append(spent)
    finally:
        sink.process.communicate(timeout=10)  # closing stdin ends it
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(template, ignore_errors=True)
    per_message = statistics.median(times) / count
    return f"sending {count} messages in-process (CPU): {per_message * 1000:.3f} ms per message"


def main(argv: list[str] | None = None) -> None:
    """Print each path's figures."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.speed_paths", description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--answers", type=int, default=1_000)
    parser.add_argument("--messages", type=int, default=1_000)
    parser.add_argument("--only", choices=("bulk", "answer", "sending"), help="one path only")
    args = parser.parse_args(argv)
    if args.only in (None, "bulk"):
        print(bulk_insert(args.rows, args.repeats), flush=True)
    if args.only in (None, "answer"):
        print(answer_path(args.answers), flush=True)
    if args.only in (None, "sending"):
        print(sending(args.messages, args.repeats), flush=True)


if __name__ == "__main__":
    main()
