"""A corrected name is a request: kept as proposed, printed only once staff approve it.

Through the real sign-on form (Flask's client against the app), the `names`
command, and `build`, `counts --html` and `export` as staff run them.
"""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest
from bs4 import BeautifulSoup
from sqlalchemy import func, select

from coalitionletter import events
from coalitionletter.errors import SignOnError
from coalitionletter.models import Campaign, Event, Invitation, Organisation
from coalitionletter.names import name_key, slugify
from coalitionletter.signon import states as signon
from fixtures_signon import (
    BROWSER_AGENT,
    ORGANISATIONS,
    SLUG,
    CaptureHandler,
    SignOnWorkspace,
    confirm_form,
    csrf_of,
    invite_one,
)

NAME = ORGANISATIONS[1][0]  # Canadian Friends of Hong Kong (加拿大香港之友)
OTHER = ORGANISATIONS[0][0]  # Uyghur Rights Advocacy Network
SLUG_OF_NAME = slugify(NAME)
CORRECTED = "Canadian Friends of Hong Kong 加拿大香港之友"
LEAD = "International Lawyers Project"
HUMAN = {"User-Agent": BROWSER_AGENT}


@pytest.fixture
def token(signon_workspace: SignOnWorkspace, invoke, mailbox: CaptureHandler) -> str:
    return invite_one(signon_workspace, invoke, mailbox, NAME)


def _confirm(client, token: str, display_name: str):
    return client.post(f"/s/{token}", data=confirm_form(client, token, display_name=display_name))


def _invitation(workspace: SignOnWorkspace) -> Invitation:
    with workspace.database.reading() as session:
        return session.scalars(
            select(Invitation).where(Invitation.organisation_id == workspace.organisations[NAME])
        ).one()


def _events(workspace: SignOnWorkspace) -> list[Event]:
    with workspace.database.reading() as session:
        return list(session.scalars(select(Event).order_by(Event.id)))


def _event_count(workspace: SignOnWorkspace) -> int:
    with workspace.database.reading() as session:
        return session.scalar(select(func.count(Event.id)))


def _page(client, token: str) -> BeautifulSoup:
    return BeautifulSoup(client.get(f"/s/{token}", headers=HUMAN).text, "html.parser")


def _proposed(workspace: SignOnWorkspace, client, token: str, name: str = CORRECTED) -> None:
    response = _confirm(client, token, name)
    assert response.status_code == 303, response.text
    assert _invitation(workspace).proposed_name == name


# --- the sign-on form ------------------------------------------------------------------


def test_a_corrected_name_is_kept_as_proposed_and_the_registry_name_is_listed(
    signon_workspace: SignOnWorkspace, web_client, token: str
) -> None:
    _proposed(signon_workspace, web_client, token)
    invitation = _invitation(signon_workspace)
    assert (invitation.state, invitation.display_name) == ("confirmed", None)
    assert invitation.proposed_by == "Li Wei"
    assert invitation.proposed_at is not None
    page = _page(web_client, token)
    assert page.find(class_="listed-as").get_text(strip=True) == NAME
    assert page.find("bdi", class_="proposed").get_text() == CORRECTED
    assert "until they approve it" in page.find(class_="proposed-name").get_text()
    [confirmed] = [e for e in _events(signon_workspace) if e.kind == "confirmed"]
    assert f'"proposed_name":"{CORRECTED}"' in confirmed.detail


def test_confirming_under_the_registry_name_proposes_nothing(
    signon_workspace: SignOnWorkspace, web_client, token: str
) -> None:
    assert _confirm(web_client, token, NAME).status_code == 303
    invitation = _invitation(signon_workspace)
    assert invitation.state == "confirmed"
    assert (invitation.proposed_name, invitation.display_name) == (None, None)


def test_going_back_to_the_registry_name_drops_a_pending_proposal(
    signon_workspace: SignOnWorkspace, web_client, token: str
) -> None:
    _proposed(signon_workspace, web_client, token)
    csrf = csrf_of(web_client, token)
    web_client.post(
        f"/s/{token}", data={"csrf": csrf, "action": "withdraw", "withdraw_confirmed": "yes"}
    )
    assert _confirm(web_client, token, NAME).status_code == 303
    invitation = _invitation(signon_workspace)
    assert (invitation.state, invitation.proposed_name) == ("confirmed", None)


@pytest.mark.parametrize(
    ("display_name", "message"),
    [
        (OTHER, "is the name of another organisation on our list"),
        ("uyghur rights advocacy-network.", "is the name of another organisation on our list"),
        (LEAD, "is the name of the organisation that leads this letter"),
        ("The International Lawyers Project", "the organisation that leads this letter"),
        ("ILP", "the organisation that leads this letter"),
        (".", "has no letter or digit in it"),
        ("\u0301\u0308", "has no letter or digit in it"),
        ("x" * 301, "301 characters long; at most 300"),
        ("Canadian Friends\u034f of Hong Kong", "U+034F COMBINING GRAPHEME JOINER"),
        ("Canadian\u3164Friends of Hong Kong", "U+3164 HANGUL FILLER"),
        ("Canadian Friends\u200b of Hong Kong", "U+200B ZERO WIDTH SPACE"),
    ],
)
def test_a_name_that_could_only_mislead_is_refused_on_the_page_and_changes_nothing(
    signon_workspace: SignOnWorkspace, web_client, token: str, display_name: str, message: str
) -> None:
    events_before = _event_count(signon_workspace)
    response = _confirm(web_client, token, display_name)
    assert response.status_code == 400
    page = BeautifulSoup(response.text, "html.parser")
    error = page.find("input", attrs={"name": "display_name"}).find_next_sibling("p")
    assert "error" in error["class"]
    assert message in error.get_text()
    invitation = _invitation(signon_workspace)
    assert (invitation.state, invitation.proposed_name) == ("invited", None)
    assert _event_count(signon_workspace) == events_before


# --- the names command -------------------------------------------------------------------


def test_names_lists_a_pending_proposal_beside_the_registry_name(
    signon_workspace: SignOnWorkspace, web_client, token: str, invoke
) -> None:
    _proposed(signon_workspace, web_client, token)
    result = invoke("names", SLUG)
    assert result.exit_code == 0, result.output
    assert "1 proposed name(s) await a decision" in result.output
    assert f"registry name: {NAME}" in result.output
    assert f"proposed name: {CORRECTED}" in result.output
    assert re.search(r"proposed by Li Wei on \d+ \w+ 20\d\d, \d\d:\d\d \(UTC\)", result.output)
    assert SLUG_OF_NAME in result.output
    assert f"as written:    {CORRECTED!a}" in result.output
    assert "printed now" not in result.output  # positive control below


def _approved_then_withdrawn(workspace: SignOnWorkspace, web_client, token: str, invoke) -> None:
    """The corrected name proposed and approved, then the signature withdrawn."""
    _proposed(workspace, web_client, token)
    approved = invoke("names", SLUG, "--approve", SLUG_OF_NAME, "--yes")
    assert approved.exit_code == 0, approved.output
    withdraw = {
        "csrf": csrf_of(web_client, token),
        "action": "withdraw",
        "withdraw_confirmed": "yes",
    }
    assert web_client.post(f"/s/{token}", data=withdraw, headers=HUMAN).status_code == 303


def test_names_shows_the_name_printed_now_when_an_earlier_correction_was_approved(
    signon_workspace: SignOnWorkspace, web_client, token: str, invoke
) -> None:
    _approved_then_withdrawn(signon_workspace, web_client, token, invoke)
    _proposed(signon_workspace, web_client, token, "CFHK")
    result = invoke("names", SLUG)
    assert result.exit_code == 0, result.output
    assert f"printed now:   {CORRECTED}" in result.output
    assert "proposed name: CFHK" in result.output
    assert _invitation(signon_workspace).display_name == CORRECTED


def test_names_says_when_nothing_is_pending(signon_workspace: SignOnWorkspace, invoke) -> None:
    result = invoke("names", SLUG)
    assert result.exit_code == 0, result.output
    assert "No proposed names await a decision" in result.output


def test_approving_prints_the_name_from_then_on_and_is_in_the_trail(
    signon_workspace: SignOnWorkspace, web_client, token: str, invoke
) -> None:
    _proposed(signon_workspace, web_client, token)
    result = invoke("names", SLUG, "--approve", SLUG_OF_NAME, input="y\n")
    assert result.exit_code == 0, result.output
    assert f"Approve {CORRECTED!r} for {NAME!r}?" in result.output
    invitation = _invitation(signon_workspace)
    assert (invitation.display_name, invitation.proposed_name) == (CORRECTED, None)
    approved = _events(signon_workspace)[-1]
    assert (approved.kind, approved.actor) == ("name approved", "staff: Test Coordinator")
    assert approved.organisation_id == signon_workspace.organisations[NAME]
    assert CORRECTED in approved.detail and NAME in approved.detail
    with signon_workspace.database.reading() as session:
        assert events.verify(session, events.campaign_chain(SLUG)) == []
    verified = invoke("audit", SLUG, "--verify")  # each row still as its last entry left it
    assert verified.exit_code == 0, verified.output
    assert _page(web_client, token).find(class_="listed-as").get_text(strip=True) == CORRECTED
    assert "No proposed names" in invoke("names", SLUG).output


def test_confirming_again_under_the_approved_name_proposes_nothing(
    signon_workspace: SignOnWorkspace, web_client, token: str, invoke
) -> None:
    _approved_then_withdrawn(signon_workspace, web_client, token, invoke)
    # Confirming again as a browser would: the form as the page fills it in.
    assert _page(web_client, token).find(id="display_name")["value"] == CORRECTED
    response = web_client.post(f"/s/{token}", data=confirm_form(web_client, token))
    assert response.status_code == 303, response.text
    invitation = _invitation(signon_workspace)
    assert (invitation.display_name, invitation.proposed_name) == (CORRECTED, None)


def test_answering_no_at_the_prompt_changes_nothing(
    signon_workspace: SignOnWorkspace, web_client, token: str, invoke
) -> None:
    _proposed(signon_workspace, web_client, token)
    events_before = _event_count(signon_workspace)
    result = invoke("names", SLUG, "--approve", SLUG_OF_NAME, input="n\n")
    assert result.exit_code == 1
    assert _invitation(signon_workspace).proposed_name == CORRECTED
    assert _invitation(signon_workspace).display_name is None
    assert _event_count(signon_workspace) == events_before


def test_rejecting_drops_the_proposal_keeps_the_registry_name_and_is_in_the_trail(
    signon_workspace: SignOnWorkspace, web_client, token: str, invoke
) -> None:
    _proposed(signon_workspace, web_client, token)
    result = invoke("names", SLUG, "--reject", SLUG_OF_NAME, "--yes")
    assert result.exit_code == 0, result.output
    assert "Rejected" in result.output
    invitation = _invitation(signon_workspace)
    assert (invitation.display_name, invitation.proposed_name) == (None, None)
    rejected = _events(signon_workspace)[-1]
    assert (rejected.kind, rejected.actor) == ("name rejected", "staff: Test Coordinator")


def test_a_rejection_keeps_its_reason_in_the_trail(
    signon_workspace: SignOnWorkspace, web_client, token: str, invoke
) -> None:
    _proposed(signon_workspace, web_client, token)
    result = invoke("names", SLUG, "--reject", SLUG_OF_NAME, "--reason", "Not its name", "--yes")
    assert result.exit_code == 0, result.output
    rejected = _events(signon_workspace)[-1]
    assert rejected.kind == "name rejected"
    assert '"reason":"Not its name"' in rejected.detail


def test_approving_when_none_is_pending_fails_clearly_and_changes_nothing(
    signon_workspace: SignOnWorkspace, web_client, token: str, invoke
) -> None:
    assert _confirm(web_client, token, NAME).status_code == 303
    events_before = _event_count(signon_workspace)
    result = invoke("names", SLUG, "--approve", SLUG_OF_NAME, "--yes")
    assert result.exit_code == 1
    assert "No proposed name is pending for" in result.output
    assert f"coalitionletter names {SLUG}" in result.output
    assert _event_count(signon_workspace) == events_before
    assert _invitation(signon_workspace).display_name is None


def test_approving_fails_when_the_proposal_changed_while_staff_looked_at_it(
    signon_workspace: SignOnWorkspace,
    web_client,
    token: str,
    invoke,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _proposed(signon_workspace, web_client, token)
    counted: list[int] = []

    def meanwhile_the_link_holder_proposes_another(*args, **kwargs) -> bool:
        withdraw = {
            "csrf": csrf_of(web_client, token),
            "action": "withdraw",
            "withdraw_confirmed": "yes",
        }
        assert web_client.post(f"/s/{token}", data=withdraw).status_code == 303
        assert _confirm(web_client, token, "CFHK").status_code == 303
        counted.append(_event_count(signon_workspace))
        return True

    monkeypatch.setattr(click, "confirm", meanwhile_the_link_holder_proposes_another)
    result = invoke("names", SLUG, "--approve", SLUG_OF_NAME)
    assert result.exit_code == 1
    assert "The proposed name changed meanwhile: it is now 'CFHK'" in result.output
    invitation = _invitation(signon_workspace)
    assert (invitation.display_name, invitation.proposed_name) == (None, "CFHK")
    assert [_event_count(signon_workspace)] == counted


def test_approving_a_name_another_organisation_took_meanwhile_is_refused(
    signon_workspace: SignOnWorkspace, web_client, token: str, invoke
) -> None:
    _proposed(signon_workspace, web_client, token)
    with signon_workspace.database.writing() as session:
        taken = CORRECTED.upper()
        session.add(
            Organisation(slug="cfhk-other", name=taken, name_key=name_key(taken), sort_name=taken)
        )
    events_before = _event_count(signon_workspace)
    result = invoke("names", SLUG, "--approve", SLUG_OF_NAME, "--yes")
    assert result.exit_code == 1
    assert "is the name of another organisation on our list" in result.output
    assert _invitation(signon_workspace).display_name is None
    assert _event_count(signon_workspace) == events_before


def test_approve_and_reject_together_is_a_usage_error(
    signon_workspace: SignOnWorkspace, invoke
) -> None:
    result = invoke("names", SLUG, "--approve", "1", "--reject", "1")
    assert result.exit_code == 2
    assert "not both" in result.output


def test_settling_a_proposal_that_is_not_the_one_seen_changes_nothing(
    signon_workspace: SignOnWorkspace, web_client, token: str
) -> None:
    _proposed(signon_workspace, web_client, token)
    events_before = _event_count(signon_workspace)
    with signon_workspace.database.writing() as session:
        campaign = session.scalars(select(Campaign).where(Campaign.slug == SLUG)).one()
        with pytest.raises(SignOnError, match="changed meanwhile"):
            signon.settle_proposed_name(
                session,
                campaign,
                signon_workspace.organisations[NAME],
                approve=True,
                expected="Something Else",
                actor="staff: X",
            )
    assert _invitation(signon_workspace).display_name is None
    assert _event_count(signon_workspace) == events_before


# --- what staff see before sending -------------------------------------------------------


def _built_names(home: Path) -> list[str]:
    page = BeautifulSoup((home / "letters" / SLUG / "out" / "uk.html").read_text("utf-8"), "lxml")
    return [li.get_text() for li in page.select(".signatories ul.names li")]


@pytest.mark.slow
def test_a_proposal_prints_only_after_approval_and_the_build_says_so_at_each_step(
    signon_workspace: SignOnWorkspace, web_client, token: str, invoke
) -> None:
    _proposed(signon_workspace, web_client, token)
    before = invoke("build", SLUG, "--format", "html", "-q")
    assert before.exit_code == 0, before.output
    assert _built_names(signon_workspace.home) == [NAME]
    assert "1 proposed name(s) await approval and are NOT printed" in before.output
    assert f"{CORRECTED!r} for {NAME!r}" in before.output
    assert f"coalitionletter names {SLUG}" in before.output

    approved = invoke("names", SLUG, "--approve", SLUG_OF_NAME, "--yes")
    assert approved.exit_code == 0, approved.output

    after = invoke("build", SLUG, "--format", "html", "-q")
    assert after.exit_code == 0, after.output
    assert _built_names(signon_workspace.home) == [CORRECTED]
    assert "printed under a name other than the registry's" in after.output
    assert f"{CORRECTED!r} for {NAME!r}" in after.output
    assert "await approval" not in after.output


@pytest.mark.slow
def test_the_count_sheet_shows_the_registry_name_beside_a_corrected_one(
    signon_workspace: SignOnWorkspace, web_client, token: str, invoke, tmp_path: Path
) -> None:
    _proposed(signon_workspace, web_client, token)
    pending_sheet = tmp_path / "pending.html"
    assert invoke("counts", SLUG, "--html", str(pending_sheet)).exit_code == 0
    [item] = BeautifulSoup(pending_sheet.read_text("utf-8"), "lxml").select("#confirmed li")
    assert item.select_one(".name").get_text() == NAME
    assert item.select_one(".proposed-name bdi").get_text() == CORRECTED
    assert item.select_one(".registry-name") is None

    assert invoke("names", SLUG, "--approve", SLUG_OF_NAME, "--yes").exit_code == 0
    sheet = tmp_path / "sheet.html"
    result = invoke("counts", SLUG, "--html", str(sheet))
    assert result.exit_code == 0, result.output
    [item] = BeautifulSoup(sheet.read_text("utf-8"), "lxml").select("#confirmed li")
    assert item.select_one(".name").get_text() == CORRECTED
    assert item.select_one(".registry-name bdi").get_text() == NAME
    assert item.select_one(".proposed-name") is None


def test_export_names_the_printed_name_and_tells_staff_it_differs_from_the_registry(
    signon_workspace: SignOnWorkspace, web_client, token: str, invoke
) -> None:
    _proposed(signon_workspace, web_client, token)
    pending = invoke("export", SLUG)
    assert pending.exit_code == 0, pending.output
    assert "1 proposed name(s) await approval and are NOT listed" in pending.output
    assert invoke("names", SLUG, "--approve", SLUG_OF_NAME, "--yes").exit_code == 0
    result = invoke("export", SLUG)
    assert result.exit_code == 0, result.output
    assert f"\n1,{CORRECTED}," in result.output  # position 1, the name as printed
    assert "listed otherwise than the registry has them" in result.output
    assert f"{CORRECTED!r} for {NAME!r}" in result.output


def test_a_staff_recorded_name_is_refused_when_it_is_another_organisations(
    signon_workspace: SignOnWorkspace, invoke
) -> None:
    events_before = _event_count(signon_workspace)
    result = invoke(
        "sign", SLUG, SLUG_OF_NAME, "--confirm", "--signer", "Li Wei", "--title", "Chair",
        "--display-name", OTHER,
    )  # fmt: skip
    assert result.exit_code == 1
    assert "is the name of another organisation on our list" in result.output
    assert _event_count(signon_workspace) == events_before
    with signon_workspace.database.reading() as session:
        assert session.scalar(select(func.count(Invitation.id))) == 0
        assert session.scalar(select(func.count(Organisation.id))) == len(ORGANISATIONS)
