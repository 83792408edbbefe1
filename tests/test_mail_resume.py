"""Crash and resume: a rerun sends every remaining message once and never a second copy."""

from __future__ import annotations

import json
import signal
import subprocess
import sys

import pytest
from sqlalchemy import select

from coalitionletter.models import Event, OutboxMessage
from coalitionletter.signon import links
from fixtures_signon import ORGANISATIONS, CaptureHandler, SignOnWorkspace, clean_env

SLUG = "ilp-magnitsky-2020"
FIRST = ORGANISATIONS[0][0]


def _kill_while_sending(workspace: SignOnWorkspace, mailbox: CaptureHandler, *args: str) -> None:
    """Run the command in its own process and kill it while the server holds a message."""
    command = [sys.executable, "-m", "coalitionletter", "--home", str(workspace.home), *args]
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=clean_env()
    )
    try:
        assert mailbox.blocked.wait(30), "the message never reached the server"
        process.send_signal(signal.SIGKILL)
        process.wait(10)
    finally:
        mailbox.release.set()


def _messages_per_address(workspace: SignOnWorkspace, mailbox: CaptureHandler) -> list[int]:
    return [
        len(mailbox.for_address(workspace.emails[name][0])) for name, _contacts in ORGANISATIONS
    ]


def test_a_server_failure_halfway_leaves_the_rest_queued_and_the_command_fails(
    signon_workspace: SignOnWorkspace, mailbox: CaptureHandler, invoke
) -> None:
    mailbox.fail_data_at = 3
    result = invoke("invite", SLUG, "--all")
    assert result.exit_code != 0
    assert "3 message(s) are still queued" in result.output
    assert "Run the same command again" in result.output
    assert len(mailbox.received) == 2


def test_a_rerun_after_a_server_failure_sends_each_remaining_message_once(
    signon_workspace: SignOnWorkspace, mailbox: CaptureHandler, invoke
) -> None:
    mailbox.fail_data_at = 3
    invoke("invite", SLUG, "--all")
    rerun = invoke("invite", SLUG, "--all")
    assert rerun.exit_code == 0, rerun.output
    assert _messages_per_address(signon_workspace, mailbox) == [1] * len(ORGANISATIONS)


@pytest.mark.slow
def test_a_process_killed_mid_send_is_reported_not_resent_and_the_rest_go_once(
    signon_workspace: SignOnWorkspace, mailbox: CaptureHandler, invoke
) -> None:
    mailbox.block_at = 3  # the server takes message 3, then hangs before saying "250"
    _kill_while_sending(signon_workspace, mailbox, "invite", SLUG, "--all")
    taken = mailbox.received[2].recipients[0]

    rerun = invoke("invite", SLUG, "--all")

    assert rerun.exit_code != 0  # staff must look at the unknown one
    assert "Outcome unknown" in rerun.output
    assert "NOT resent" in rerun.output
    assert _messages_per_address(signon_workspace, mailbox) == [1] * len(ORGANISATIONS)
    assert len(mailbox.for_address(taken)) == 1
    with signon_workspace.database.reading() as session:
        states = sorted(session.scalars(select(OutboxMessage.state)))
    assert states == ["sent"] * 4 + ["unknown"]


def _first_invitation_in_doubt(
    workspace: SignOnWorkspace, mailbox: CaptureHandler
) -> tuple[str, str]:
    """The first organisation's invitation, killed after the server took it: (org id, token)."""
    mailbox.block_at = 1
    org = str(workspace.organisations[ORGANISATIONS[0][0]])
    _kill_while_sending(workspace, mailbox, "invite", SLUG, "--org", org)
    return org, mailbox.received[0].link()[1]


@pytest.mark.slow
def test_an_unknown_message_is_settled_by_resending_a_new_link(
    signon_workspace: SignOnWorkspace, mailbox: CaptureHandler, invoke
) -> None:
    org, first_token = _first_invitation_in_doubt(signon_workspace, mailbox)

    result = invoke("invite", SLUG, "--resend", org)

    assert result.exit_code == 0, result.output
    assert "Outcome unknown" not in result.output
    assert len(mailbox.received) == 2
    assert mailbox.received[1].link()[1] != first_token
    with signon_workspace.database.reading() as session:
        assert links.find_by_token(session, first_token) is None


@pytest.mark.slow
def test_an_unknown_message_the_organisation_received_is_recorded_sent_and_not_resent(
    signon_workspace: SignOnWorkspace, mailbox: CaptureHandler, invoke
) -> None:
    org, first_token = _first_invitation_in_doubt(signon_workspace, mailbox)

    result = invoke("invite", SLUG, "--received", org)

    assert result.exit_code == 0, result.output
    assert f"Recorded as received: {ORGANISATIONS[0][0]} (invite)." in result.output
    assert len(mailbox.received) == 1
    rerun = invoke("invite", SLUG, "--org", org)
    assert "Outcome unknown" not in rerun.output
    assert len(mailbox.received) == 1
    with signon_workspace.database.reading() as session:
        assert session.scalars(select(OutboxMessage.state)).all() == ["sent"]
        assert links.find_by_token(session, first_token) is not None
        settled = session.scalars(select(Event).where(Event.kind == "sent")).one()
    assert settled.actor.startswith("staff: ")
    assert json.loads(settled.detail)["settled"] == "the organisation said it arrived"
    assert invoke("audit", SLUG, "--verify").exit_code == 0


def test_received_for_an_organisation_with_nothing_unknown_is_refused_and_changes_nothing(
    signon_workspace: SignOnWorkspace, mailbox: CaptureHandler, invoke
) -> None:
    name = ORGANISATIONS[0][0]
    org = str(signon_workspace.organisations[name])
    assert invoke("invite", SLUG, "--org", org).exit_code == 0
    with signon_workspace.database.reading() as session:
        before = session.scalars(select(Event.id)).all()

    result = invoke("invite", SLUG, "--received", org)

    assert result.exit_code != 0
    assert f"{name} has no message to {SLUG} whose outcome is unknown" in result.output
    assert "nothing was changed" in result.output
    with signon_workspace.database.reading() as session:
        assert session.scalars(select(Event.id)).all() == before


def test_received_cannot_be_mixed_with_sending(
    signon_workspace: SignOnWorkspace, mailbox: CaptureHandler, invoke
) -> None:
    result = invoke("invite", SLUG, "--all", "--received", "1")
    assert result.exit_code == 2
    assert "--received records an answer only" in result.output
    assert mailbox.received == []
    with signon_workspace.database.reading() as session:
        assert session.scalars(select(OutboxMessage.id)).all() == []
        assert session.scalars(select(Event.id)).all() == []


def test_a_message_another_sender_claimed_first_is_left_to_it_and_the_rest_are_sent(
    signon_workspace: SignOnWorkspace, mailbox: CaptureHandler, invoke
) -> None:
    take_first_message = mailbox.handle_DATA

    async def second_taken_meanwhile(server, session, envelope):  # type: ignore[no-untyped-def]
        answer = await take_first_message(server, session, envelope)
        if mailbox.data_count == 1:
            with signon_workspace.database.writing() as db:  # another sender claims message 2
                query = select(OutboxMessage).order_by(OutboxMessage.id).offset(1)
                db.scalars(query).first().state = "sending"
        return answer

    mailbox.handle_DATA = second_taken_meanwhile  # type: ignore[method-assign]
    result = invoke("invite", SLUG, "--all")

    assert result.exit_code == 0, result.output
    assert len(mailbox.received) == len(ORGANISATIONS) - 1  # message 2 never went from here
    with signon_workspace.database.reading() as session:
        states = list(session.scalars(select(OutboxMessage.state).order_by(OutboxMessage.id)))
    assert states == ["sent", "sending", "sent", "sent", "sent"]


def test_resending_one_link_sends_only_that_message_and_leaves_the_rest_queued(
    signon_workspace: SignOnWorkspace, mailbox: CaptureHandler, invoke
) -> None:
    mailbox.fail_data_at = 3  # two go out, the rest stay queued
    invoke("invite", SLUG, "--all")
    mailbox.fail_data_at = None
    before = _messages_per_address(signon_workspace, mailbox)

    result = invoke("invite", SLUG, "--resend", str(signon_workspace.organisations[FIRST]))

    assert result.exit_code == 0, result.output
    assert "Sent 1 message." in result.output
    assert "other message(s) are still queued from an earlier run" in result.output
    after = _messages_per_address(signon_workspace, mailbox)
    assert after == [before[0] + 1, *before[1:]]


def test_the_messages_left_queued_by_a_resend_go_on_the_next_invite(
    signon_workspace: SignOnWorkspace, mailbox: CaptureHandler, invoke
) -> None:
    mailbox.fail_data_at = 3
    invoke("invite", SLUG, "--all")
    mailbox.fail_data_at = None
    invoke("invite", SLUG, "--resend", str(signon_workspace.organisations[FIRST]))
    rerun = invoke("invite", SLUG, "--all")
    assert rerun.exit_code == 0, rerun.output
    assert all(count >= 1 for count in _messages_per_address(signon_workspace, mailbox))
