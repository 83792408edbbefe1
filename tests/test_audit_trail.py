"""The trail: who agreed to which text, when, from where; an edited entry is detected."""

from __future__ import annotations

from sqlalchemy import select, update

from coalitionletter.models import Event
from fixtures_signon import ORGANISATIONS, CaptureHandler, SignOnWorkspace

SLUG = "ilp-magnitsky-2020"


def _ok(result) -> str:
    assert result.exit_code == 0, result.output
    return result.output


def _a_little_history(workspace: SignOnWorkspace, invoke) -> None:
    _ok(invoke("invite", SLUG, "--all"))
    first = str(workspace.organisations[ORGANISATIONS[0][0]])
    second = str(workspace.organisations[ORGANISATIONS[1][0]])
    _ok(invoke("sign", SLUG, first, "--confirm", "--signer", "Aynur Tursun", "--title", "Director"))
    _ok(invoke("sign", SLUG, second, "--decline", "--reason", "Not this time"))


def test_audit_prints_each_event_with_organisation_actor_and_text(
    signon_workspace: SignOnWorkspace, invoke, mailbox: CaptureHandler
) -> None:
    _a_little_history(signon_workspace, invoke)
    result = invoke("audit", SLUG)
    assert result.exit_code == 0, result.output
    confirmed = next(line for line in result.output.splitlines() if " confirmed " in line)
    assert ORGANISATIONS[0][0] in confirmed
    assert "by staff: Test Coordinator" in confirmed
    assert f"text {signon_workspace.definition.text_hash[:12]}" in confirmed
    kinds = [line.split()[4] for line in result.output.splitlines()]
    assert kinds.count("invited") == len(ORGANISATIONS)
    assert kinds.count("sent") == len(ORGANISATIONS)


def test_audit_verify_accepts_an_untouched_trail(
    signon_workspace: SignOnWorkspace, invoke, mailbox: CaptureHandler
) -> None:
    _a_little_history(signon_workspace, invoke)
    result = invoke("audit", SLUG, "--verify")
    assert result.exit_code == 0, result.output
    assert "unbroken" in result.output


def test_audit_verify_detects_an_edited_entry_and_fails(
    signon_workspace: SignOnWorkspace, invoke, mailbox: CaptureHandler
) -> None:
    _a_little_history(signon_workspace, invoke)
    with signon_workspace.database.writing() as session:
        seq = session.scalar(select(Event.seq).where(Event.kind == "declined"))
        session.execute(update(Event).where(Event.seq == seq).values(kind="confirmed"))
    result = invoke("audit", SLUG, "--verify")
    assert result.exit_code != 0
    assert f"Broken at entry {seq}: was changed after it was written" in result.output
    assert "has been altered" in result.output


def test_the_trail_holds_no_email_address(
    signon_workspace: SignOnWorkspace, invoke, mailbox: CaptureHandler
) -> None:
    _a_little_history(signon_workspace, invoke)
    output = _ok(invoke("audit", SLUG))
    addresses = [a for listed in signon_workspace.emails.values() for a in listed]
    # Positive controls: there are addresses to look for, and the trail names their owners.
    assert addresses
    assert " sent " in output and ORGANISATIONS[0][0] in output
    for address in addresses:
        assert address not in output


def test_a_name_with_a_line_break_stays_on_its_own_line_in_the_trail(
    signon_workspace: SignOnWorkspace, invoke, mailbox: CaptureHandler
) -> None:
    _ok(invoke("invite", SLUG, "--all"))
    output = _ok(invoke("audit", SLUG))
    assert "Evil\\r\\nBcc: x@y Org" in output
    assert all(line[:5].strip().isdigit() for line in output.splitlines())
