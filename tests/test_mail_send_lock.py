"""One send per campaign, whoever sends: the CLI and the console share the send's record.

While a send is live (its holder beat recently) every command that sends the
outbox refuses, saying what runs, since when, by whom and what to do, and
changes nothing; a send whose holder stopped is taken over, as the console's
resume takes it; a send whose holder has missed a few beats is taken over only
with --force. The console refuses Send (409) while the CLI sends.
"""

from __future__ import annotations

import re
import subprocess
import sys
import threading
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from coalitionletter.mail import background
from coalitionletter.mail.transport import SmtpTransport
from coalitionletter.models import Event, OutboxMessage, SendRun, utcnow
from fixtures_console import STAFF_EMAIL, csrf_in, make_account, sign_in
from fixtures_signon import SLUG, CaptureHandler, SignOnWorkspace, clean_env, start_console_send

# `invoke` makes each test run on PostgreSQL too when COALITIONLETTER_TEST_PG is set.
pytestmark = pytest.mark.usefixtures("invoke", "senders_end")
ACTOR = "staff: Ana Lima"
ELSEWHERE = "another-host:4242:feedface"  # a holder on another machine: only its beat tells


def _sender(workspace: SignOnWorkspace) -> background.Sender:
    settings = workspace.settings
    return background.Sender(workspace.database, settings, lambda: SmtpTransport(settings.smtp))


def _campaign_id(workspace: SignOnWorkspace) -> int:
    with workspace.database.reading() as session:
        return session.scalars(select(SendRun.campaign_id)).one()


def _held_elsewhere(workspace: SignOnWorkspace, silent_seconds: float) -> None:
    """The console's send, held by a worker on another machine last heard from long ago."""
    start_console_send(workspace, ACTOR)
    assert background.take(workspace.database, _campaign_id(workspace), ELSEWHERE)
    with workspace.database.writing() as session:
        heard = utcnow() - timedelta(seconds=silent_seconds)
        session.execute(update(SendRun).values(heartbeat_at=heard))


def _states(workspace: SignOnWorkspace) -> Counter[str]:
    with workspace.database.reading() as session:
        return Counter(session.scalars(select(OutboxMessage.state)))


def _unknown_entries(workspace: SignOnWorkspace) -> int:
    with workspace.database.reading() as session:
        found = select(func.count()).where(Event.kind == "send outcome unknown")
        return session.scalar(found.select_from(Event))


def _every_address_once(workspace: SignOnWorkspace, mailbox: CaptureHandler) -> None:
    got = Counter(address for r in mailbox.received for address in r.recipients)
    expected = {email: 1 for emails in workspace.emails.values() for email in emails}
    assert dict(got) == expected


def _wait(event: threading.Event, what: str, seconds: float = 30) -> None:
    assert event.wait(seconds), f"{what} did not happen within {seconds} s"


# --- the console sends, the CLI comes ------------------------------------------------------


@pytest.mark.slow
def test_invite_while_the_console_sends_is_refused_and_every_message_arrives_once(
    signon_workspace: SignOnWorkspace, mailbox: CaptureHandler, invoke
) -> None:
    mailbox.block_at = 2  # the server takes message 2 and holds it: the send is in flight
    start_console_send(signon_workspace, ACTOR)
    sender = _sender(signon_workspace)
    sender.wake()
    _wait(mailbox.blocked, "the console's send of message 2")
    before = _states(signon_workspace)

    result = invoke("invite", SLUG, "--all")

    assert result.exit_code == 1, result.output
    assert f"A send of invitation(s) for {SLUG} started by Ana Lima at " in result.output
    assert "is running (held by " in result.output and "last heard from" in result.output
    assert "Nothing was queued or sent. Wait until it has finished" in result.output
    assert _states(signon_workspace) == before == Counter({"queued": 3, "sent": 1, "sending": 1})
    mailbox.release.set()
    sender.join(30)
    _every_address_once(signon_workspace, mailbox)
    assert _states(signon_workspace) == Counter({"sent": 5})
    assert _unknown_entries(signon_workspace) == 0


@pytest.mark.parametrize("command", [["remind"], ["reconfirm"], ["invite", "--all", "--outbox"]])
def test_every_command_that_sends_refuses_while_a_send_is_live(
    signon_workspace: SignOnWorkspace, invoke, tmp_path, command: list[str]
) -> None:
    _held_elsewhere(signon_workspace, silent_seconds=1)
    if command[-1] == "--outbox":
        command = [*command, str(tmp_path / "outbox")]
    before = _states(signon_workspace)

    result = invoke(command[0], SLUG, *command[1:])

    assert result.exit_code == 1, result.output
    assert "is running (held by another-host:4242" in result.output
    assert _states(signon_workspace) == before == Counter({"queued": 5})
    assert not (tmp_path / "outbox").exists()


def test_force_does_not_take_over_a_send_that_is_beating(
    signon_workspace: SignOnWorkspace, invoke
) -> None:
    _held_elsewhere(signon_workspace, silent_seconds=1)

    result = invoke("invite", SLUG, "--all", "--force")

    assert result.exit_code == 1, result.output
    assert "--force takes over only a send that has stopped answering" in result.output
    assert _states(signon_workspace) == Counter({"queued": 5})
    with signon_workspace.database.reading() as session:
        assert session.scalars(select(SendRun.worker)).one() == ELSEWHERE


def test_a_send_silent_for_a_while_is_refused_offering_force(
    signon_workspace: SignOnWorkspace, invoke, mailbox: CaptureHandler
) -> None:
    _held_elsewhere(signon_workspace, silent_seconds=30)

    result = invoke("invite", SLUG, "--all")

    assert result.exit_code == 1, result.output
    silent = r"has not been heard from for 3\d seconds \(held by another-host"
    assert re.search(silent, result.output)
    assert "If you know that process has stopped, --force takes it over now" in result.output
    assert _states(signon_workspace) == Counter({"queued": 5})
    assert mailbox.received == []


def test_force_takes_over_a_silent_send_and_sends_each_message_once(
    signon_workspace: SignOnWorkspace, invoke, mailbox: CaptureHandler
) -> None:
    _held_elsewhere(signon_workspace, silent_seconds=30)

    result = invoke("invite", SLUG, "--all", "--force")

    assert result.exit_code == 0, result.output
    assert "Taking over the send of invitation(s) started by Ana Lima" in result.output
    _every_address_once(signon_workspace, mailbox)
    with signon_workspace.database.reading() as session:
        run = session.scalars(select(SendRun)).one()
        assert (run.finished_at is not None, run.worker, run.total) == (True, None, 5)
        assert run.started_by == "staff: Test Coordinator"


def test_a_stale_send_is_taken_over_as_the_console_resumes_it(
    signon_workspace: SignOnWorkspace, invoke, mailbox: CaptureHandler
) -> None:
    _held_elsewhere(signon_workspace, silent_seconds=background.LEASE_SECONDS + 5)

    result = invoke("invite", SLUG, "--all")

    assert result.exit_code == 0, result.output
    stale = r"not been heard from for 6\d seconds: its process has stopped\."
    assert re.search(stale, result.output)
    assert "Taking over the send of invitation(s) started by Ana Lima" in result.output
    assert "Sent 5 messages." in result.output
    _every_address_once(signon_workspace, mailbox)
    assert _unknown_entries(signon_workspace) == 0


def test_a_console_send_no_worker_took_for_a_minute_is_taken_over(
    signon_workspace: SignOnWorkspace, invoke, mailbox: CaptureHandler
) -> None:
    start_console_send(
        signon_workspace, ACTOR
    )  # Send pressed, then the server stopped before sending
    with signon_workspace.database.writing() as session:
        pressed = utcnow() - timedelta(seconds=background.LEASE_SECONDS + 30)
        session.execute(update(SendRun).values(started_at=pressed))

    result = invoke("invite", SLUG, "--all")

    assert result.exit_code == 0, result.output
    assert re.search(r"not been heard from for 9\d seconds: its process has stopped", result.output)
    _every_address_once(signon_workspace, mailbox)


def test_a_console_send_just_pressed_is_left_to_the_console(
    signon_workspace: SignOnWorkspace, invoke, mailbox: CaptureHandler
) -> None:
    start_console_send(
        signon_workspace, ACTOR
    )  # no worker has taken it yet: the console's is about to

    result = invoke("invite", SLUG, "--all")

    assert result.exit_code == 1, result.output
    assert "is running (held by the console, about to start sending" in result.output
    assert _states(signon_workspace) == Counter({"queued": 5})
    assert mailbox.received == []


def test_a_send_left_by_a_process_of_this_machine_that_is_gone_is_taken_over_at_once(
    signon_workspace: SignOnWorkspace, invoke, mailbox: CaptureHandler
) -> None:
    start_console_send(signon_workspace, ACTOR)
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], check=True,
                          capture_output=True, text=True).stdout.strip()  # fmt: skip
    import socket

    holder = f"{socket.gethostname()}:{gone}:0badcafe"
    assert background.take(signon_workspace.database, _campaign_id(signon_workspace), holder)

    result = invoke("invite", SLUG, "--all")

    assert result.exit_code == 0, result.output
    assert "its process has stopped" in result.output
    _every_address_once(signon_workspace, mailbox)


# --- the CLI sends, the console comes -------------------------------------------------------


@pytest.mark.slow
def test_the_console_refuses_send_while_the_cli_sends_and_each_message_goes_once(
    signon_workspace: SignOnWorkspace, mailbox: CaptureHandler
) -> None:
    from coalitionletter.web.app import create_app

    workspace = signon_workspace
    make_account(workspace.settings, workspace.database, STAFF_EMAIL, name="Ana Lima")
    client = create_app(workspace.settings, workspace.database).test_client()
    assert sign_in(client, STAFF_EMAIL).status_code == 302
    mailbox.block_at = 2
    command = [sys.executable, "-m", "coalitionletter", "--home", str(workspace.home),
               "invite", SLUG, "--all"]  # fmt: skip
    cli = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=clean_env()
    )
    try:
        _wait(mailbox.blocked, "the CLI's send of message 2", seconds=60)
        token = csrf_in(client.get("/staff/").text)

        response = client.post(
            f"/staff/c/{SLUG}/invitations/send", data={"csrf_token": token, "scope": "all"}
        )

        assert response.status_code == 409
        assert "started by Test Coordinator is still running" in response.text
        assert _states(workspace)["sending"] == 1  # the CLI's message in flight, untouched
    finally:
        mailbox.release.set()
        output, errors = cli.communicate(timeout=60)
    assert cli.returncode == 0, output + errors
    _every_address_once(workspace, mailbox)
    assert _unknown_entries(workspace) == 0


def test_the_cli_records_its_send_so_the_console_shows_it(
    signon_workspace: SignOnWorkspace, invoke, mailbox: CaptureHandler
) -> None:
    result = invoke("invite", SLUG, "--all")

    assert result.exit_code == 0, result.output
    with signon_workspace.database.reading() as session:
        found = background.progress(session, SLUG)
    assert found is not None
    assert (found.running, found.done, found.total) == (False, 5, 5)
    assert (found.what, found.started_by) == ("invitation(s)", "staff: Test Coordinator")
    assert found.outcome["sent"] == 5
