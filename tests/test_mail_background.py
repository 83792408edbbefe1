"""Sending in the background: one send per campaign, each message once, resumed after a crash."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from coalitionletter.errors import SendRunningError
from coalitionletter.mail import background
from coalitionletter.mail.transport import SmtpTransport
from coalitionletter.models import OutboxMessage, SendRun, utcnow
from fixtures_signon import SLUG, CaptureHandler, SignOnWorkspace, clean_env, start_console_send

# `invoke` makes each test run on PostgreSQL too when COALITIONLETTER_TEST_PG is set.
pytestmark = pytest.mark.usefixtures("invoke")
ACTOR = "staff: Ana Lima"


def _sender(workspace: SignOnWorkspace, **kwargs: float) -> background.Sender:
    settings = workspace.settings
    return background.Sender(
        workspace.database, settings, lambda: SmtpTransport(settings.smtp), **kwargs
    )


def _progress(workspace: SignOnWorkspace) -> background.Progress:
    with workspace.database.reading() as session:
        found = background.progress(session, SLUG)
    assert found is not None
    return found


def _every_address_once(workspace: SignOnWorkspace, mailbox: CaptureHandler) -> None:
    got = Counter(address for r in mailbox.received for address in r.recipients)
    expected = {email: 1 for emails in workspace.emails.values() for email in emails}
    assert dict(got) == expected


def test_a_send_in_the_background_delivers_every_queued_message_once(
    signon_workspace: SignOnWorkspace, mailbox: CaptureHandler
) -> None:
    started = start_console_send(signon_workspace, ACTOR)
    assert started.total == 5
    before = _progress(signon_workspace)
    assert (before.running, before.done, before.total) == (True, 0, 5)
    sender = _sender(signon_workspace)
    sender.wake()
    sender.join(30)
    after = _progress(signon_workspace)
    assert (after.running, after.done, after.total) == (False, 5, 5)
    assert after.outcome["sent"] == 5
    assert after.started_by == ACTOR
    _every_address_once(signon_workspace, mailbox)


def test_send_pressed_twice_at_once_queues_and_sends_once(
    signon_workspace: SignOnWorkspace, mailbox: CaptureHandler
) -> None:
    barrier = threading.Barrier(2)
    results: list[object] = []

    def press() -> None:
        barrier.wait()
        try:
            results.append(start_console_send(signon_workspace, ACTOR))
        except SendRunningError as exc:
            results.append(exc)

    threads = [threading.Thread(target=press) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    refused = [r for r in results if isinstance(r, SendRunningError)]
    started = [r for r in results if isinstance(r, background.Started)]
    assert len(refused) == 1 and len(started) == 1, results
    assert "still running" in str(refused[0])
    with signon_workspace.database.reading() as session:
        assert len(session.scalars(select(OutboxMessage.id)).all()) == 5
    sender = _sender(signon_workspace)
    sender.wake()
    sender.join(30)
    _every_address_once(signon_workspace, mailbox)


def test_a_second_send_is_refused_while_one_runs_and_nothing_is_queued(
    signon_workspace: SignOnWorkspace,
) -> None:
    start_console_send(signon_workspace, ACTOR)
    with pytest.raises(SendRunningError, match="started by Ana Lima is still running"):
        start_console_send(signon_workspace, ACTOR)
    with signon_workspace.database.reading() as session:
        assert len(session.scalars(select(OutboxMessage.id)).all()) == 5  # control: the first


def test_nothing_due_starts_no_send(signon_workspace: SignOnWorkspace, mailbox) -> None:
    sender = _sender(signon_workspace)
    start_console_send(signon_workspace, ACTOR)
    sender.wake()
    sender.join(30)
    assert len(mailbox.received) == 5  # control: the first send went
    assert start_console_send(signon_workspace, ACTOR).total == 0
    assert _progress(signon_workspace).running is False


def test_a_send_held_by_a_live_worker_is_left_to_it_until_its_lease_ends(
    signon_workspace: SignOnWorkspace, mailbox: CaptureHandler
) -> None:
    start_console_send(signon_workspace, ACTOR)
    database = signon_workspace.database
    with database.reading() as session:
        (campaign_id,) = session.scalars(select(SendRun.campaign_id)).all()
    assert background.take(database, campaign_id, "elsewhere:1:a", lease=60)
    assert not background.take(database, campaign_id, "here:2:b", lease=60)
    with database.writing() as session:
        session.execute(update(SendRun).values(heartbeat_at=utcnow() - timedelta(seconds=61)))
    assert background.take(database, campaign_id, "here:2:b", lease=60)
    assert mailbox.received == []


# Starts a send and dies (SIGKILL) as the claim of message 3 is about to commit:
# message 2 went and is still `sending`, messages 3 to 5 are still queued.
KILLER = """
import os, signal, sys
from coalitionletter.db import Database
from coalitionletter.mail import background, outbox
from coalitionletter.mail.transport import SmtpTransport
from coalitionletter.settings import load_settings
from pathlib import Path

real_claim = outbox.claim
def claim(session, campaign, queued, token):
    if queued.number == 3:
        os.kill(os.getpid(), signal.SIGKILL)
    return real_claim(session, campaign, queued, token)
outbox.claim = claim

settings = load_settings(Path(sys.argv[1]), environ={})
database = Database(settings.db_url)
me = background.worker_name()
(campaign_id,) = background.unfinished(database)
assert background.take(database, campaign_id, me)
background.send(database, settings, campaign_id, me, lambda: SmtpTransport(settings.smtp))
"""


@pytest.mark.slow
def test_a_worker_killed_mid_send_is_resumed_and_every_message_arrives_once(
    signon_workspace: SignOnWorkspace, mailbox: CaptureHandler
) -> None:
    start_console_send(signon_workspace, ACTOR)
    command = [sys.executable, "-c", KILLER, str(signon_workspace.home)]
    done = subprocess.run(command, capture_output=True, env=clean_env(), timeout=60, check=False)
    assert done.returncode == -9, done.stderr.decode()
    assert len(mailbox.received) == 2
    middle = _progress(signon_workspace)
    assert (middle.running, middle.done) == (True, 2)
    # The dead worker's lease has not run out, but its process is gone: taken at once.
    sender = _sender(signon_workspace)
    sender.wake()
    sender.join(30)
    after = _progress(signon_workspace)
    assert (after.running, after.done, after.total) == (False, 5, 5)
    assert after.outcome["sent"] == 3
    # The message in flight when it died arrived, but nobody knows: staff are told.
    assert len(after.outcome["unknown"]) == 1
    _every_address_once(signon_workspace, mailbox)


def test_a_forked_process_holds_sends_under_its_own_name(
    signon_workspace: SignOnWorkspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    sender = _sender(signon_workspace)
    parent = sender.me
    assert sender.me == parent  # control: the same process keeps its name
    real_pid = background.os.getpid()
    monkeypatch.setattr(background.os, "getpid", lambda: real_pid + 1)
    child = sender.me
    assert child != parent
    assert child.split(":")[1] == str(real_pid + 1)


def test_the_holder_keeps_beating_while_a_slow_server_holds_a_message(
    signon_workspace: SignOnWorkspace, mailbox: CaptureHandler
) -> None:
    import time

    start_console_send(signon_workspace, ACTOR)
    database, settings = signon_workspace.database, signon_workspace.settings
    (campaign_id,) = background.unfinished(database)
    me = background.worker_name()
    assert background.take(database, campaign_id, me)
    mailbox.block_at = 1

    def heartbeat() -> object:
        with database.reading() as session:
            return session.scalar(select(SendRun.heartbeat_at))

    sending = threading.Thread(
        target=background.send,
        args=(database, settings, campaign_id, me, lambda: SmtpTransport(settings.smtp)),
        kwargs={"beat_seconds": 0.05},
    )
    sending.start()
    assert mailbox.blocked.wait(30)
    first = heartbeat()
    time.sleep(0.5)
    later = heartbeat()
    mailbox.release.set()
    sending.join(30)
    assert later > first
    assert not background.take(database, campaign_id, "other:1:x")  # finished: nothing to take
    assert _progress(signon_workspace).outcome["sent"] == 5


@pytest.mark.slow
def test_serve_resumes_a_send_a_killed_worker_left_without_any_request(
    signon_workspace: SignOnWorkspace, mailbox: CaptureHandler
) -> None:
    import time

    from fixtures_signon import serving

    start_console_send(signon_workspace, ACTOR)
    command = [sys.executable, "-c", KILLER, str(signon_workspace.home)]
    done = subprocess.run(command, capture_output=True, env=clean_env(), timeout=60, check=False)
    assert done.returncode == -9, done.stderr.decode()
    assert len(mailbox.received) == 2  # control: it stopped half-way
    with serving(signon_workspace):
        deadline = time.monotonic() + 30
        while _progress(signon_workspace).running and time.monotonic() < deadline:
            time.sleep(0.1)
    assert _progress(signon_workspace).running is False
    _every_address_once(signon_workspace, mailbox)
