"""The sign-on pages' write transactions, and one SQLite writer at a time across workers.

SQLite lets one transaction write at a time, and a writer that finds the
database taken sleeps in SQLite's busy handler (1, 2, 5, 10 ... up to 100 ms
between tries), leaving the database idle while it sleeps. Queueing the writers
on a lock instead hands the database straight to the next one: a thread lock
within a process, and an advisory `flock` on a file beside the database
between the processes of `serve --workers N`. Other programs (the CLI) still
take their turn through SQLite's own busy wait.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import threading
import weakref
from collections.abc import Iterator
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from coalitionletter import prepared
from coalitionletter.db import Database

log = logging.getLogger(__name__)

# SQLite: how many answers go by between two WAL checkpoints. At about ten changed pages
# an answer this keeps the WAL under SQLite's automatic threshold (1,000 pages), so other
# writers' commits (a page view's, the CLI's) seldom find a checkpoint to do.
CHECKPOINT_EVERY = 50


class WritersLock:
    """A context manager held around every write transaction of the sign-on pages."""

    def __init__(self, database_path: str | None) -> None:
        self._threads = threading.Lock()
        in_a_file = database_path and database_path != ":memory:"
        self._path = f"{database_path}-writers.lock" if in_a_file else None
        self._fd: int | None = None
        self._pid = 0

    def locked(self) -> bool:
        """True while a writer of this process holds it."""
        return self._threads.locked()

    def __enter__(self) -> WritersLock:
        self._threads.acquire()
        try:
            fd = self._file()
            if fd is not None:
                fcntl.flock(fd, fcntl.LOCK_EX)
        except BaseException:
            self._threads.release()
            raise
        return self

    def __exit__(self, *exc: Any) -> None:
        try:
            if self._fd is not None:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            self._threads.release()

    def _file(self) -> int | None:
        # Opened in the process that writes (a forked worker opens its own), never shared.
        if self._path is None or (self._fd is not None and self._pid == os.getpid()):
            return self._fd
        try:
            self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            log.warning(
                "Cannot open %s (%s); writers in other worker processes will wait in "
                "SQLite's busy handler instead",
                self._path,
                exc.strerror,
            )
            self._path = self._fd = None
            return None
        self._pid = os.getpid()
        weakref.finalize(self, os.close, self._fd)
        return self._fd


class Writers:
    """The write transactions of one web process: page views' Sessions and answers."""

    def __init__(self, database: Database) -> None:
        self.database = database
        # SQLite: one writer at a time, queued on a lock across threads and workers.
        self.lock: contextlib.AbstractContextManager[Any] = (
            WritersLock(make_url(database.url).database)
            if database.is_sqlite
            else contextlib.nullcontext()
        )
        self._answers: Connection | None = None  # SQLite: the connection answers share
        self._answered = 0

    @contextlib.contextmanager
    def writing(self) -> Iterator[Session]:
        """A write transaction, queued behind this process's other writers on SQLite."""
        with self.lock, self.database.writing() as session:
            yield session

    @contextlib.contextmanager
    def answering(self) -> Iterator[prepared.DirectConnection]:
        """The answering path's write transaction: a Core connection, no Session.

        On SQLite this process's answers queue on the write lock anyway, so they
        share one connection kept for them: checking one out of the pool cost as
        much as a statement. It does not checkpoint the WAL as it commits: that ran
        inside the lock, fsyncs and all, and held every other answer up; instead every
        CHECKPOINT_EVERY answers one checkpoints once it has let the lock go.
        On PostgreSQL each answer takes a connection from the pool.
        """
        checkpoint = False
        with contextlib.ExitStack() as stack:
            if self.database.is_sqlite:
                stack.enter_context(self.lock)
                stack.enter_context(self._kept_connection().begin())
                transaction = self._kept_connection()
            else:
                transaction = stack.enter_context(self.database.engine.begin())
            connection = prepared.DirectConnection(transaction)
            stack.callback(connection.close)
            yield connection
            self._answered += 1
            checkpoint = self.database.is_sqlite and self._answered % CHECKPOINT_EVERY == 0
        if checkpoint:
            self._checkpoint()

    def _kept_connection(self) -> Connection:
        if self._answers is None or self._answers.closed:
            self._answers = self.database.engine.connect()
            self._answers.connection.dbapi_connection.execute(  # type: ignore[union-attr]
                "PRAGMA wal_autocheckpoint = 0"
            )
        return self._answers

    def _checkpoint(self) -> None:
        """Copy the WAL into the database file without holding up the writers (PASSIVE)."""
        raw = self.database.engine.raw_connection()
        try:
            cursor = raw.cursor()
            cursor.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()  # done: no open statement
            cursor.close()
        except self.database.engine.dialect.loaded_dbapi.Error:
            # The answer is committed; a later checkpoint (or any other writer's) catches up.
            log.warning("A WAL checkpoint after an answer failed", exc_info=True)
        finally:
            raw.close()
