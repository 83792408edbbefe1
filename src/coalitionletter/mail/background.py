"""One send per campaign, whoever sends; the console's in the background, resumed after a restart.

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

The CLI's sending commands (`invite`, `remind`, `reconfirm`) keep the same
record: `start` with `holder` refuses while another send is live, takes over
one whose holder has stopped (as the console's resume does), and makes the
command the run's holder, beating while it sends (`deliver_held`). The console
then shows the command's send and refuses Send while it runs, as for its own.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from coalitionletter.db import Database
from coalitionletter.errors import CoalitionError, SendRunningError
from coalitionletter.mail import outbox
from coalitionletter.mail.sending import DeliveryReport, deliver
from coalitionletter.mail.sending import Progress as SendingProgress
from coalitionletter.mail.transport import Transport
from coalitionletter.models import Campaign, SendRun, utcnow
from coalitionletter.settings import Settings

if TYPE_CHECKING:
    from coalitionletter.campaigns.definition import CampaignDefinition

log = logging.getLogger(__name__)

LEASE_SECONDS = 60.0  # a holder silent this long has stopped
BEAT_SECONDS = 5.0  # how often a holder says it is still sending
CHECK_SECONDS = 2.0  # how often an idle worker looks again at a run someone else holds
# A holder silent this long has missed a few beats: staff who know it stopped may take
# its run over (`--force`); one that beat more recently is sending, and nobody may.
SILENT_SECONDS = 3 * BEAT_SECONDS

TransportFactory = Callable[[], Transport]


@dataclass(frozen=True)
class Started:
    """A send started: how many messages it has to send (0: none was due), and for a holder
    (the CLI) which invitations' messages it sends (None: all queued) and whose run it
    took over, in words."""

    total: int
    run_id: int | None
    only: list[int] | None = None
    took_over: str | None = None


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
    holder: str | None = None,
    force: bool = False,
    lease: float = LEASE_SECONDS,
) -> tuple[Any, Started]:
    """Queue messages with `queue()` and record the campaign's send; refuse if one is running.

    `queue` is the CLI's deciding function (it returns a QueueReport). Everything
    queued for the campaign goes, as with the CLI, unless `only_these`: then only the
    messages of the invitations it queued (a new link). Returns its report and the send.

    Without `holder` (the console) any unfinished send refuses; the background worker
    takes the new one. With `holder` (a CLI command that sends now) a live send refuses,
    one whose holder stopped is taken over (a silent one only with `force`), and the
    run is recorded as held by `holder`, even with nothing to send: its `deliver` marks
    messages left `sending` as unknown, which only the one live sender may do.
    """
    campaign = _locked_campaign(session, slug)
    run = session.scalar(select(SendRun).where(SendRun.campaign_id == campaign.id))
    took_over = None
    if run is not None and run.finished_at is None:
        if holder is None:
            raise SendRunningError(
                f"A send of {run.what} started by {run.started_by.removeprefix('staff: ')} is "
                "still running for this campaign; nothing new was queued. Wait until it has "
                "finished (the progress bar shows it), then try again."
            )
        took_over = _take_over(run, slug, utcnow(), lease=lease, force=force)
    report = queue()
    only = list(report.invitation_ids) if only_these else None
    if took_over is not None and only is not None:
        earlier = _only(run) if run is not None else None
        only = None if earlier is None else sorted(set(only) | set(earlier))
    total = outbox.remaining(session, campaign, only)
    if total == 0 and holder is None:
        return report, Started(0, None)
    if run is None:
        run = SendRun(campaign_id=campaign.id)
        session.add(run)
    now = utcnow()
    run.what, run.started_by, run.started_at = what, actor, now
    run.finished_at, run.total, run.only_invitations = None, total, _ids(only)
    run.worker, run.heartbeat_at, run.outcome = holder, now if holder else None, None
    session.flush()
    return report, Started(total, run.id, only, took_over)


def _when(moment: datetime) -> str:
    from coalitionletter.dates import format_deadline

    return format_deadline(moment, None)


def _take_over(run: SendRun, slug: str, now: datetime, *, lease: float, force: bool) -> str:
    """Why an unfinished run may be taken over, in words; SendRunningError if it may not."""
    heard = run.heartbeat_at or run.started_at
    silent = max(0, int((now - heard).total_seconds()))
    by = run.started_by.removeprefix("staff: ")
    held_by = run.worker or "the console, about to start sending"
    what = f"A send of {run.what} for {slug} started by {by} at {_when(run.started_at)}"
    taking = f"Taking over the send of {run.what} started by {by} at {_when(run.started_at)}: "
    after = (
        " Messages it handed over are not sent again; one it was handing over when it "
        "stopped is listed as of unknown outcome."
    )
    if run.worker is not None and _gone(run.worker):
        return f"{taking}its process has stopped ({held_by} is no longer running).{after}"
    if silent > lease:
        silence = f"it has not been heard from for {silent} seconds: its process has stopped."
        return f"{taking}{silence}{after}"
    if silent >= SILENT_SECONDS and force:
        return (
            f"{taking}it has not been heard from for {silent} seconds, and --force says its "
            f"process has stopped.{after}"
        )
    nothing = "Nothing was queued or sent."
    if silent >= SILENT_SECONDS:
        raise SendRunningError(
            f"{what} has not been heard from for {silent} seconds (held by {held_by}). "
            f"{nothing} It is taken over on its own once it has been silent for {int(lease)} "
            "seconds: run this command again then. If you know that process has stopped, "
            "--force takes it over now; if it is still sending, its message in flight would "
            "become of unknown outcome."
        )
    refusal = (
        f"{what} is running (held by {held_by}, last heard from {silent} second(s) ago). "
        f"{nothing} Wait until it has finished (the console's invitations page shows its "
        "progress), then run this command again; nothing is sent twice."
    )
    if force:
        refusal = (
            "--force takes over only a send that has stopped answering, and this one was "
            f"heard from {silent} second(s) ago. {refusal}"
        )
    raise SendRunningError(refusal)


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


@contextmanager
def _holding(
    database: Database, campaign: Campaign, me: str, only: list[int] | None, beat_seconds: float
) -> Iterator[dict[str, Any]]:
    """Beat while the block sends the run `me` holds; record its outcome when it ends.

    The block fills the outcome. One that ends early (an error, Ctrl-C) is recorded
    as stopped with the queue left as it is: the next send takes it up.
    """
    outcome: dict[str, Any] = {"sent": 0, "refused": [], "failed": [], "unknown": []}
    outcome["stopped"] = "the send was interrupted"
    stop = threading.Event()
    beating = threading.Thread(
        target=_keep_beating, args=(database, campaign.id, me, stop, beat_seconds), daemon=True
    )
    beating.start()
    try:
        yield outcome
    except CoalitionError as exc:
        outcome["stopped"] = str(exc)
        raise
    finally:
        stop.set()
        beating.join()
        if "remaining" not in outcome:
            with database.reading() as session:
                outcome["remaining"] = outbox.remaining(session, campaign, only)
        _finish(database, campaign.id, me, outcome)


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
    try:
        with _holding(database, campaign, me, only, beat_seconds) as outcome:
            with database.reading() as session:
                definition = catalogue.load_current(settings, session, campaign.slug)
            outcome.update(
                _outcome(deliver(database, settings, definition, transport(), only=only))
            )
    except CoalitionError as exc:
        # Recorded as the send's outcome; the queue stays as it is for the next send.
        log.warning("The send of campaign %s stopped: %s", campaign.slug, exc)


def deliver_held(
    database: Database,
    settings: Settings,
    definition: CampaignDefinition,
    transport: Transport,
    me: str,
    *,
    progress: SendingProgress | None = None,
    only: list[int] | None = None,
    beat_seconds: float = BEAT_SECONDS,
) -> DeliveryReport:
    """`deliver` for a run this process holds (`start` with `holder`): beat, then record it."""
    from coalitionletter.campaigns.catalogue import campaign_row

    with database.reading() as session:
        campaign = campaign_row(session, definition.slug)
    with _holding(database, campaign, me, only, beat_seconds) as outcome:
        report = deliver(database, settings, definition, transport, progress, only=only)
        outcome.update(_outcome(report))
    return report


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
