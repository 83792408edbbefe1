"""A sender killed at each point of a message's journey: never a second copy, one in doubt at most.

The batch commits each message as `sending` before handing it over and marks
it `sent` in the same transaction that claims the next one. These tests kill
the real command (SIGKILL, in its own process) at every step between those
commits and check what a rerun does.
"""

from __future__ import annotations

import subprocess
import sys
from typing import NamedTuple

import pytest
from sqlalchemy import select

from coalitionletter import events
from coalitionletter.models import OutboxMessage
from fixtures_signon import CaptureHandler, SignOnWorkspace, clean_env

SLUG = "ilp-magnitsky-2020"
# Runs `invite` with one step made to kill the process (SIGKILL: no clean-up of any kind).
KILLER = """
import os, signal, sys
from coalitionletter.mail import outbox
from coalitionletter.mail import transport
from coalitionletter.cli import cli

point, at = sys.argv[1], int(sys.argv[2])
calls = {"data": 0, "outcome": 0}

def die():
    os.kill(os.getpid(), signal.SIGKILL)

real_settle = outbox.settle
def settle(session, campaign, queued, state, *args, **kwargs):
    real_settle(session, campaign, queued, state, *args, **kwargs)
    if point == "before the sent mark commits" and state == "sent" and queued.number == at:
        die()
outbox.settle = settle

real_claim = outbox.claim
def claim(session, campaign, queued, token):
    if point == "before the claim commits" and queued.number == at:
        die()
    return real_claim(session, campaign, queued, token)
outbox.claim = claim

def counted(name, real):
    def step(self, *args, **kwargs):
        calls[name] += 1
        if point == f"before {name}" and calls[name] == at:
            die()
        return real(self, *args, **kwargs)
    return step

transport.SmtpTransport.data = counted("data", transport.SmtpTransport.data)
transport.SmtpTransport.outcome = counted("outcome", transport.SmtpTransport.outcome)
cli.main(sys.argv[3:])
"""


def _invite_and_die(workspace: SignOnWorkspace, point: str, at: int) -> None:
    home = str(workspace.home)
    command = [
        sys.executable,
        "-c",
        KILLER,
        point,
        str(at),
        "--home",
        home,
        "invite",
        SLUG,
        "--all",
    ]
    done = subprocess.run(command, capture_output=True, env=clean_env(), timeout=60, check=False)
    assert done.returncode == -9, done.stderr.decode()


def _states(workspace: SignOnWorkspace) -> list[str]:
    with workspace.database.reading() as session:
        return list(session.scalars(select(OutboxMessage.state).order_by(OutboxMessage.id)))


def _copies(workspace: SignOnWorkspace, mailbox: CaptureHandler) -> list[int]:
    """How many copies the server received of each message, in the order they were queued."""
    with workspace.database.reading() as session:
        query = select(OutboxMessage.recipients).order_by(OutboxMessage.id)
        addresses = list(session.scalars(query))
    return [len(mailbox.for_address(address)) for address in addresses]


class Kill(NamedTuple):
    """Where the sender dies, what the outbox holds then, and copies received in the end."""

    point: str
    at: int  # the message's place in the batch
    states_after_kill: list[str]
    copies: list[int]


KILLS = [
    # The first claim dies while the server reads the envelope: nothing was handed over.
    Kill("before the claim commits", 1, ["queued"] * 5, [1, 1, 1, 1, 1]),
    # Claimed and committed on its own, not yet handed over: in doubt, never resent.
    Kill("before data", 1, ["sending"] + ["queued"] * 4, [0, 1, 1, 1, 1]),
    # Handed over, the server's answer not read: in doubt, never resent.
    Kill("before outcome", 3, ["sent", "sent", "sending", "queued", "queued"], [1, 1, 1, 1, 1]),
    # The server took it; the transaction marking it sent and claiming the next dies.
    Kill(
        "before the sent mark commits",
        3,
        ["sent", "sent", "sending", "queued", "queued"],
        [1, 1, 1, 1, 1],
    ),
    # The same transaction dies on the next message's claim, its envelope already sent.
    Kill(
        "before the claim commits",
        4,
        ["sent", "sent", "sending", "queued", "queued"],
        [1, 1, 1, 1, 1],
    ),
    # That transaction committed; the next message, claimed, was not handed over yet.
    Kill("before data", 4, ["sent", "sent", "sent", "sending", "queued"], [1, 1, 1, 0, 1]),
]


@pytest.mark.slow
@pytest.mark.parametrize("kill", KILLS, ids=[f"{k.point} {k.at}" for k in KILLS])
def test_a_sender_killed_at_any_point_leaves_at_most_one_in_doubt_and_a_rerun_sends_the_rest_once(
    signon_workspace: SignOnWorkspace, mailbox: CaptureHandler, invoke, kill: Kill
) -> None:
    _invite_and_die(signon_workspace, kill.point, kill.at)
    assert _states(signon_workspace) == kill.states_after_kill

    rerun = invoke("invite", SLUG, "--all")

    in_doubt = "sending" in kill.states_after_kill
    assert (rerun.exit_code != 0) == in_doubt  # staff must look at the one in doubt
    assert ("Outcome unknown" in rerun.output) == in_doubt
    assert ("NOT resent" in rerun.output) == in_doubt
    assert _states(signon_workspace) == [
        "unknown" if state == "sending" else "sent" for state in kill.states_after_kill
    ]
    assert _copies(signon_workspace, mailbox) == kill.copies
    with signon_workspace.database.reading() as session:
        assert events.verify(session, events.campaign_chain(SLUG)) == []
