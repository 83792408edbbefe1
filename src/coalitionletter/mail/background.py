"""Sending a campaign's queue in the background: one send per campaign, resumed after a restart.

The console queues messages in the request, with the same core functions as the
CLI (signon/invitations.py), and records the send in the campaign's `send_runs`
row, all in one transaction under the campaign's lock: a second Send pressed
meanwhile waits for that lock, then finds the send running and is refused, so
nothing is queued twice. A worker thread then sends the queue with
`sending.deliver`, the CLI's resumable, exactly-once loop.

Whoever sends a run holds it (`worker`, with a heartbeat every few seconds). A
run whose holder stopped beating for `lease` seconds, or whose holder was a
process on this machine that no longer exists (a restarted server), is taken
over by the next worker that looks; `deliver` then sends only what is still
queued, so nothing goes twice. Two workers never send one run at once: a
second `deliver` would report the first's message in flight as unknown.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from coalitionletter.db import Database
from coalitionletter.errors import CoalitionError, SendRunningError
from coalitionletter.mail import outbox
from coalitionletter.mail.sending import DeliveryReport, deliver
from coalitionletter.mail.transport import Transport
from coalitionletter.models import Campaign, SendRun, utcnow
from coalitionletter.settings import Settings

log = logging.getLogger(__name__)

LEASE_SECONDS = 60.0  # a holder silent this long has stopped
BEAT_SECONDS = 5.0  # how often a holder says it is still sending
CHECK_SECONDS = 2.0  # how often an idle worker looks again at a run someone else holds

TransportFactory = Callable[[], Transport]


@dataclass(frozen=True)
class Started:
    """A send the console started: how many messages it has to send (0: none was due)."""

    total: int
    run_id: int | None


@dataclass(frozen=True)
class Progress:
    """Where a campaign's send stands, for the progress bar."""

    what: str
    started_by: str
    started_at: datetime
    finished_at: datetime | None
    total: int
    done: int
    outcome: dict[str, Any] = field(default_factory=dict)

    @property
    def running(self) -> bool:
        """True until the worker recorded what the send did."""
        return self.finished_at is None

    def as_json(self) -> dict[str, Any]:
        """What the progress endpoint answers (no link, no address)."""
        return {
            "what": self.what,
            "running": self.running,
            "done": self.done,
            "total": self.total,
            "started_by": self.started_by,
            "outcome": self.outcome,
        }


def _ids(only: list[int] | None) -> str | None:
    return None if only is None else ",".join(str(i) for i in only)


def _only(run: SendRun) -> list[int] | None:
    if run.only_invitations is None:
        return None
    return [int(part) for part in run.only_invitations.split(",") if part]


def _locked_campaign(session: Session, slug: str) -> Campaign:
    """The campaign's row, locked until the transaction ends (PostgreSQL; SQLite locks all)."""
    from coalitionletter.campaigns.catalogue import campaign_row

    campaign_row(session, slug)  # the CampaignError that says what to do when it is missing
    return session.scalars(select(Campaign).where(Campaign.slug == slug).with_for_update()).one()


def start(
    session: Session,
    slug: str,
    *,
    what: str,
    actor: str,
    queue: Callable[[], Any],
    only_these: bool = False,
) -> tuple[Any, Started]:
    """Queue messages with `queue()` and record the campaign's send; refuse if one is running.

    `queue` is the CLI's deciding function (it returns a QueueReport). Everything
    queued for the campaign goes, as with the CLI, unless `only_these`: then only the
    messages of the invitations it queued (a new link). Returns its report and the send.
    """
    campaign = _locked_campaign(session, slug)
    run = session.scalar(select(SendRun).where(SendRun.campaign_id == campaign.id))
    if run is not None and run.finished_at is None:
        raise SendRunningError(
            f"A send of {run.what} started by {run.started_by.removeprefix('staff: ')} is still "
            "running for this campaign; nothing new was queued. Wait until it has finished "
            "(the progress bar shows it), then try again."
        )
    report = queue()
    only = list(report.invitation_ids) if only_these else None
    total = outbox.remaining(session, campaign, only)
    if total == 0:
        return report, Started(0, None)
    if run is None:
        run = SendRun(campaign_id=campaign.id)
        session.add(run)
    run.what, run.started_by, run.started_at = what, actor, utcnow()
    run.finished_at, run.total, run.only_invitations = None, total, _ids(only)
    run.worker, run.heartbeat_at, run.outcome = None, None, None
    session.flush()
    return report, Started(total, run.id)


def progress(session: Session, slug: str) -> Progress | None:
    """The campaign's latest send from the console, or None if it never had one."""
    from coalitionletter.campaigns.catalogue import campaign_row

    campaign = campaign_row(session, slug)
    run = session.scalar(select(SendRun).where(SendRun.campaign_id == campaign.id))
    if run is None:
        return None
    left = outbox.remaining(session, campaign, _only(run))
    done = run.total if run.finished_at else max(0, min(run.total, run.total - left))
    return Progress(
        what=run.what,
        started_by=run.started_by,
        started_at=run.started_at,
        finished_at=run.finished_at,
        total=run.total,
        done=done,
        outcome=json.loads(run.outcome) if run.outcome else {},
    )


# --- the worker ------------------------------------------------------------------------


def worker_name() -> str:
    """This process's name as a holder: host, process id, and a nonce for the process's life."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


def _gone(holder: str) -> bool:
    """True when the holder was a process on this machine that no longer runs."""
    host, _, rest = holder.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    if int(pid_text) == os.getpid():
        return False  # this process: its own threads keep their lease by beating
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # it exists, run by another user
    return False


def _free(run: SendRun, me: str, now: datetime, lease: float) -> bool:
    if run.worker is None or run.worker == me:
        return True
    if run.heartbeat_at is None or now - run.heartbeat_at > timedelta(seconds=lease):
        return True
    return _gone(run.worker)


def unfinished(database: Database) -> list[int]:
    """The campaigns (ids) whose send from the console has not finished."""
    with database.reading() as session:
        query = select(SendRun.campaign_id).where(SendRun.finished_at.is_(None))
        return list(session.scalars(query.order_by(SendRun.id)))


def take(database: Database, campaign_id: int, me: str, lease: float = LEASE_SECONDS) -> bool:
    """Become the holder of the campaign's unfinished send, if nobody alive holds it."""
    with database.writing() as session:
        run = session.scalar(
            select(SendRun)
            .where(SendRun.campaign_id == campaign_id, SendRun.finished_at.is_(None))
            .with_for_update()
        )
        now = utcnow()
        if run is None or not _free(run, me, now, lease):
            return False
        if run.worker not in (None, me):
            log.info("Taking over the send of campaign %s from %s", campaign_id, run.worker)
        run.worker, run.heartbeat_at = me, now
        return True


def _beat(database: Database, campaign_id: int, me: str) -> bool:
    with database.writing() as session:
        result = session.connection().execute(
            update(SendRun)
            .where(SendRun.campaign_id == campaign_id, SendRun.worker == me)
            .values(heartbeat_at=utcnow())
        )
        return bool(result.rowcount)


def _outcome(report: DeliveryReport) -> dict[str, Any]:
    return {
        "sent": len(report.sent),
        "refused": report.refused,
        "failed": report.failed,
        "unknown": report.unknown,
        "remaining": report.remaining,
        "stopped": report.stopped,
    }


def _finish(database: Database, campaign_id: int, me: str, outcome: dict[str, Any]) -> None:
    with database.writing() as session:
        session.execute(
            update(SendRun)
            .where(SendRun.campaign_id == campaign_id, SendRun.worker == me)
            .values(finished_at=utcnow(), worker=None, outcome=json.dumps(outcome))
            .execution_options(synchronize_session=False)
        )


def send(
    database: Database,
    settings: Settings,
    campaign_id: int,
    me: str,
    transport: TransportFactory,
    *,
    beat_seconds: float = BEAT_SECONDS,
) -> None:
    """Send the queue of a run `me` holds (`take` first), beating meanwhile; record the outcome."""
    from coalitionletter.campaigns import catalogue

    with database.reading() as session:
        run = session.scalar(select(SendRun).where(SendRun.campaign_id == campaign_id))
        campaign = session.get(Campaign, campaign_id)
        if run is None or campaign is None or run.worker != me:
            return
        only = _only(run)
    stop = threading.Event()
    beating = threading.Thread(
        target=_keep_beating, args=(database, campaign_id, me, stop, beat_seconds), daemon=True
    )
    beating.start()
    try:
        with database.reading() as session:
            definition = catalogue.load_current(settings, session, campaign.slug)
        outcome = _outcome(deliver(database, settings, definition, transport(), only=only))
    except CoalitionError as exc:
        # The queue stays as it is: the next send (or a rerun of the CLI) takes it up.
        outcome = {"sent": 0, "refused": [], "failed": [], "unknown": [], "stopped": str(exc)}
        with database.reading() as session:
            outcome["remaining"] = outbox.remaining(session, campaign, only)
    finally:
        stop.set()
        beating.join()
    _finish(database, campaign_id, me, outcome)


def _keep_beating(
    database: Database, campaign_id: int, me: str, stop: threading.Event, seconds: float
) -> None:
    while not stop.wait(seconds):
        if not _beat(database, campaign_id, me):
            return


class Sender:
    """A process's background sender: a thread that sends every unfinished run it can take.

    The thread lives while some run is unfinished and ends when none is, so a
    process that sends nothing keeps no thread; `wake` starts it again.
    """

    def __init__(
        self,
        database: Database,
        settings: Settings,
        transport: TransportFactory,
        *,
        lease: float = LEASE_SECONDS,
        check_seconds: float = CHECK_SECONDS,
    ) -> None:
        self.database = database
        self.settings = settings
        self.transport = transport
        self.lease = lease
        self.check_seconds = check_seconds
        self._pid, self._me = os.getpid(), worker_name()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._poke = threading.Event()

    @property
    def me(self) -> str:
        """This process's holder name, made again in a process forked from the one that made it."""
        if self._pid != os.getpid():
            self._pid, self._me = os.getpid(), worker_name()
        return self._me

    def wake(self) -> None:
        """Make sure the thread runs (after a Send, or to resume a send a restart left)."""
        with self._lock:
            self._poke.set()
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="sender", daemon=True)
                self._thread.start()

    def join(self, timeout: float | None = None) -> None:
        """Wait for the thread to end (tests, and a clean shutdown)."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def _run(self) -> None:
        while True:
            self._poke.clear()
            waiting = unfinished(self.database)
            if not waiting:
                with self._lock:
                    if not self._poke.is_set():
                        self._thread = None
                        return
                continue
            for campaign_id in waiting:
                if take(self.database, campaign_id, self.me, self.lease):
                    send(self.database, self.settings, campaign_id, self.me, self.transport)
            self._poke.wait(self.check_seconds)
