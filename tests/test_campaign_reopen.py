"""The end of a campaign: reopen, a deadline moved by staff, and answers received in time."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from coalitionletter.models import Campaign, Event, Invitation, utcnow
from fixtures_signon import (
    HUMAN,
    ORGANISATIONS,
    SIGNER,
    SLUG,
    CaptureHandler,
    SignOnWorkspace,
    confirm,
    set_deadline,
)

NAME = ORGANISATIONS[0][0]


def _campaign(workspace: SignOnWorkspace) -> Campaign:
    with workspace.database.reading() as session:
        return session.scalars(select(Campaign).where(Campaign.slug == SLUG)).one()


def _events(workspace: SignOnWorkspace, kind: str | None = None) -> list[Event]:
    with workspace.database.reading() as session:
        query = select(Event).order_by(Event.id)
        if kind is not None:
            query = query.where(Event.kind == kind)
        return list(session.scalars(query))


def _event_count(workspace: SignOnWorkspace) -> int:
    with workspace.database.reading() as session:
        return session.scalar(select(func.count(Event.id)))


def _invitation(workspace: SignOnWorkspace) -> Invitation | None:
    with workspace.database.reading() as session:
        return session.scalars(
            select(Invitation).where(Invitation.organisation_id == workspace.organisations[NAME])
        ).one_or_none()


def _past_deadline_in_files(workspace: SignOnWorkspace) -> None:
    set_deadline(workspace.home)


def _ok(result) -> None:  # type: ignore[no-untyped-def]
    assert result.exit_code == 0, result.output


def _ahead(days: int = 7) -> str:
    return (utcnow() + timedelta(days=days)).isoformat(timespec="seconds")


# --- reopen -------------------------------------------------------------------------


def test_reopening_after_close_makes_links_take_answers_again(
    signon_workspace: SignOnWorkspace, web_client, token: str, invoke
) -> None:
    _ok(invoke("close", SLUG, "--yes"))
    assert web_client.get(f"/s/{token}", headers=HUMAN).status_code == 410
    result = invoke("reopen", SLUG)
    _ok(result)
    assert f"Reopened the sign-on for {SLUG}" in result.output
    assert web_client.get(f"/s/{token}", headers=HUMAN).status_code == 200
    confirm(web_client, token, **SIGNER)
    assert _invitation(signon_workspace).state == "confirmed"
    (event,) = _events(signon_workspace, "reopened")
    assert event.actor == "staff: Test Coordinator"
    assert _campaign(signon_workspace).closed_at is None


def test_reopening_past_the_deadline_without_a_new_one_is_refused_and_changes_nothing(
    signon_workspace: SignOnWorkspace, token: str, invoke
) -> None:
    _past_deadline_in_files(signon_workspace)
    before = _event_count(signon_workspace)
    result = invoke("reopen", SLUG)
    assert result.exit_code != 0
    assert "has passed" in result.output and "--until DATETIME" in result.output
    assert _event_count(signon_workspace) == before
    assert _campaign(signon_workspace).extended_until is None


def test_reopen_until_a_new_deadline_opens_links_past_the_deadline_in_letter_toml(
    signon_workspace: SignOnWorkspace, web_client, token: str, invoke
) -> None:
    _past_deadline_in_files(signon_workspace)
    assert web_client.get(f"/s/{token}", headers=HUMAN).status_code == 410
    until = _ahead()
    result = invoke("reopen", SLUG, "--until", until)
    _ok(result)
    page = web_client.get(f"/s/{token}", headers=HUMAN)
    assert page.status_code == 200
    confirm(web_client, token, **SIGNER)
    assert _invitation(signon_workspace).state == "confirmed"
    campaign = _campaign(signon_workspace)
    assert campaign.extended_until is not None
    assert campaign.deadline == campaign.extended_until
    (event,) = _events(signon_workspace, "reopened")
    assert '"previous_deadline"' in event.detail


def test_an_extension_survives_the_next_command_that_reads_letter_toml(
    signon_workspace: SignOnWorkspace, token: str, invoke
) -> None:
    _past_deadline_in_files(signon_workspace)
    _ok(invoke("reopen", SLUG, "--until", _ahead()))
    extended = _campaign(signon_workspace).deadline
    # invite syncs the campaign row from the files; the extension must stay the deadline.
    _ok(invoke("invite", SLUG, "--org", str(signon_workspace.organisations[ORGANISATIONS[1][0]])))
    assert _campaign(signon_workspace).deadline == extended


def test_resending_a_link_works_again_after_reopening(
    signon_workspace: SignOnWorkspace, token: str, invoke, mailbox: CaptureHandler
) -> None:
    _ok(invoke("close", SLUG, "--yes"))
    refused = invoke("invite", SLUG, "--resend", str(signon_workspace.organisations[NAME]))
    assert refused.exit_code != 0
    _ok(invoke("reopen", SLUG))
    _ok(invoke("invite", SLUG, "--resend", str(signon_workspace.organisations[NAME])))


def test_moving_the_deadline_of_an_open_sign_on_is_logged_as_an_extension(
    signon_workspace: SignOnWorkspace, token: str, invoke
) -> None:
    result = invoke("reopen", SLUG, "--until", _ahead(30))
    _ok(result)
    assert "Moved the deadline" in result.output
    assert len(_events(signon_workspace, "deadline extended")) == 1
    assert _events(signon_workspace, "reopened") == []


def test_reopening_an_open_sign_on_changes_nothing(
    signon_workspace: SignOnWorkspace, token: str, invoke
) -> None:
    before = _event_count(signon_workspace)
    result = invoke("reopen", SLUG)
    _ok(result)
    assert "is open" in result.output and "nothing changed" in result.output
    assert _event_count(signon_workspace) == before


def test_a_new_deadline_in_the_past_or_without_a_zone_is_refused(
    signon_workspace: SignOnWorkspace, token: str, invoke
) -> None:
    _ok(invoke("close", SLUG, "--yes"))
    before = _event_count(signon_workspace)
    past = invoke("reopen", SLUG, "--until", "2020-01-01T00:00:00+00:00")
    assert past.exit_code != 0
    assert "is not in the future" in past.output
    naive = invoke("reopen", SLUG, "--until", "2031-01-01T00:00:00")
    assert naive.exit_code != 0
    assert "has no time zone" in naive.output
    assert _event_count(signon_workspace) == before
    assert _campaign(signon_workspace).closed_at is not None


def test_the_trail_stays_verifiable_through_close_and_reopen(
    signon_workspace: SignOnWorkspace, token: str, invoke
) -> None:
    _ok(invoke("close", SLUG, "--yes"))
    _ok(invoke("reopen", SLUG, "--until", _ahead()))
    result = invoke("audit", SLUG, "--verify")
    _ok(result)
    assert "reopened" in result.output
    assert "Verified" in result.output


# --- sign --received-on -------------------------------------------------------------


def _sign_confirm(invoke, workspace: SignOnWorkspace, *extra: str):  # type: ignore[no-untyped-def]
    return invoke(
        "sign", SLUG, str(workspace.organisations[NAME]), "--confirm",
        "--signer", "Aynur Tursun", "--title", "Director", *extra,
    )  # fmt: skip


def test_after_closing_staff_record_an_answer_that_arrived_before_the_close(
    signon_workspace: SignOnWorkspace, token: str, invoke
) -> None:
    received = utcnow() - timedelta(hours=2)
    _ok(invoke("close", SLUG, "--yes"))
    result = _sign_confirm(invoke, signon_workspace, "--received-on", received.isoformat())
    _ok(result)
    invitation = _invitation(signon_workspace)
    assert invitation.state == "confirmed"
    assert invitation.text_hash == signon_workspace.definition.text_hash
    assert abs((invitation.decided_at - received).total_seconds()) < 1
    (event,) = _events(signon_workspace, "confirmed")
    assert '"received_on"' in event.detail and '"via":"staff"' in event.detail
    assert event.actor == "staff: Test Coordinator"
    _ok(invoke("audit", SLUG, "--verify"))


def test_after_closing_an_answer_without_received_on_is_refused_and_says_how(
    signon_workspace: SignOnWorkspace, token: str, invoke
) -> None:
    _ok(invoke("close", SLUG, "--yes"))
    before = _event_count(signon_workspace)
    result = _sign_confirm(invoke, signon_workspace)
    assert result.exit_code != 0
    assert "--received-on DATE" in result.output
    assert _invitation(signon_workspace).state == "invited"
    assert _event_count(signon_workspace) == before


def test_an_answer_received_after_the_deadline_is_refused_and_changes_nothing(
    signon_workspace: SignOnWorkspace, token: str, invoke
) -> None:
    _past_deadline_in_files(signon_workspace)
    before = _event_count(signon_workspace)
    # A bare date is the end of that day: the deadline day itself is not taken without a time.
    result = _sign_confirm(invoke, signon_workspace, "--received-on", "2020-08-14")
    assert result.exit_code != 0
    assert "was already closed at 14 August 2020, 23:59 (UTC)" in result.output
    assert _invitation(signon_workspace).state == "invited"
    assert _event_count(signon_workspace) == before


def test_an_answer_received_in_time_on_the_deadline_day_is_taken_with_its_time(
    signon_workspace: SignOnWorkspace, token: str, invoke
) -> None:
    _past_deadline_in_files(signon_workspace)
    result = _sign_confirm(invoke, signon_workspace, "--received-on", "2020-08-14T11:20:00+01:00")
    _ok(result)
    assert _invitation(signon_workspace).state == "confirmed"


def test_a_withdrawal_received_before_the_close_is_recorded_after_it(
    signon_workspace: SignOnWorkspace, token: str, invoke
) -> None:
    _ok(_sign_confirm(invoke, signon_workspace))
    received = (utcnow() - timedelta(minutes=30)).isoformat()
    _ok(invoke("close", SLUG, "--yes"))
    result = invoke(
        "sign", SLUG, str(signon_workspace.organisations[NAME]), "--withdraw",
        "--received-on", received,
    )  # fmt: skip
    _ok(result)
    assert _invitation(signon_workspace).state == "withdrawn"


def test_an_answer_received_in_the_future_or_unreadable_is_refused(
    signon_workspace: SignOnWorkspace, token: str, invoke
) -> None:
    before = _event_count(signon_workspace)
    future = _sign_confirm(invoke, signon_workspace, "--received-on", _ahead(2))
    assert future.exit_code != 0
    assert "in the future" in future.output
    garbled = _sign_confirm(invoke, signon_workspace, "--received-on", "last tuesday")
    assert garbled.exit_code != 0
    assert "is not a date (2020-08-14) or a date and time" in garbled.output
    assert _invitation(signon_workspace).state == "invited"
    assert _event_count(signon_workspace) == before
