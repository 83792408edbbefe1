"""An answer staff record (`sign --confirm`, the console's "Record an answer") says, as the
sign-on page does, whether the signer may appear on the public list: never unless asked.

The CLI and the console leave the same invitation and the same trail entry; the public
list (`export`) names the signer only when the answer said so.
"""

from __future__ import annotations

import csv
import io
import json

import pytest
from sqlalchemy import func, select

from coalitionletter.models import Event, Invitation
from fixtures_console import STAFF_EMAIL, csrf_in, make_account, sign_in
from fixtures_signon import ORGANISATIONS, SLUG, SignOnWorkspace

# `invoke` makes each test run on PostgreSQL too when COALITIONLETTER_TEST_PG is set.
pytestmark = pytest.mark.usefixtures("invoke")
FIRST, SECOND = ORGANISATIONS[0][0], ORGANISATIONS[1][0]
BASE = f"/staff/c/{SLUG}/invitations"
SIGNER = ("Aynur Tursun", "Director")


@pytest.fixture
def staff(signon_workspace: SignOnWorkspace):  # type: ignore[no-untyped-def]
    """A console client signed in as staff (Ana Lima)."""
    from coalitionletter.web.app import create_app

    workspace = signon_workspace
    make_account(workspace.settings, workspace.database, STAFF_EMAIL, name="Ana Lima")
    client = create_app(workspace.settings, workspace.database).test_client()
    assert sign_in(client, STAFF_EMAIL).status_code == 302
    return client


def _invitation(workspace: SignOnWorkspace, name: str) -> Invitation:
    with workspace.database.reading() as session:
        return session.scalars(
            select(Invitation).where(Invitation.organisation_id == workspace.organisations[name])
        ).one()


def _last_event(workspace: SignOnWorkspace, name: str) -> Event:
    with workspace.database.reading() as session:
        return session.scalars(
            select(Event)
            .where(Event.organisation_id == workspace.organisations[name])
            .order_by(Event.id.desc())
        ).first()


def _count(workspace: SignOnWorkspace, model: type) -> int:
    with workspace.database.reading() as session:
        return session.scalar(select(func.count()).select_from(model))


def _sign(invoke, workspace: SignOnWorkspace, name: str, *flags: str):  # type: ignore[no-untyped-def]
    org = str(workspace.organisations[name])
    return invoke("sign", SLUG, org, "--confirm", "--signer", SIGNER[0], "--title", SIGNER[1],
                  *flags)  # fmt: skip


def _record(client, workspace: SignOnWorkspace, name: str, **extra: str):  # type: ignore[no-untyped-def]
    org = workspace.organisations[name]
    token = csrf_in(client.get(f"{BASE}/{org}/answer").text)
    form = {"action": "confirm", "signer": SIGNER[0], "title": SIGNER[1], "listing": "public"}
    return client.post(f"{BASE}/{org}/answer", data={"csrf_token": token, **form, **extra})


def _public_signers(invoke) -> dict[str, tuple[str, str]]:  # type: ignore[no-untyped-def]
    result = invoke("export", SLUG, "--format", "csv")
    assert result.exit_code == 0, result.output
    rows = csv.DictReader(io.StringIO(result.output.lstrip("\ufeff")))
    return {row["name"]: (row["signer_name"], row["signer_title"]) for row in rows}


def test_sign_confirm_keeps_the_signer_off_the_public_list_unless_public_is_given(
    signon_workspace: SignOnWorkspace, invoke
) -> None:
    quiet = _sign(invoke, signon_workspace, FIRST)
    public = _sign(invoke, signon_workspace, SECOND, "--public")

    assert quiet.exit_code == 0, quiet.output
    assert public.exit_code == 0, public.output
    assert _invitation(signon_workspace, FIRST).signer_public is False
    assert _invitation(signon_workspace, SECOND).signer_public is True
    assert json.loads(_last_event(signon_workspace, FIRST).detail)["signer_public"] is False
    assert json.loads(_last_event(signon_workspace, SECOND).detail)["signer_public"] is True


def test_the_public_list_names_only_the_signer_who_agreed(
    signon_workspace: SignOnWorkspace, invoke
) -> None:
    assert _sign(invoke, signon_workspace, FIRST, "--not-public").exit_code == 0
    assert _sign(invoke, signon_workspace, SECOND, "--public").exit_code == 0

    signers = _public_signers(invoke)

    assert signers[SECOND] == SIGNER
    assert signers[FIRST] == ("", "")  # listed, its signer not named


@pytest.mark.parametrize("public", [False, True], ids=["not-public", "public"])
def test_the_console_and_sign_leave_the_same_invitation_and_trail_entry(
    signon_workspace: SignOnWorkspace, invoke, staff, public: bool
) -> None:
    ticked = {"signer_public": "y"} if public else {}
    response = _record(staff, signon_workspace, FIRST, **ticked)
    cli = _sign(invoke, signon_workspace, SECOND, "--public" if public else "--not-public")

    assert response.status_code == 302, response.text
    assert cli.exit_code == 0, cli.output
    web, line = _invitation(signon_workspace, FIRST), _invitation(signon_workspace, SECOND)
    fields = ("state", "signer_name", "signer_title", "signer_public", "listing", "text_hash")
    assert [getattr(web, f) for f in fields] == [getattr(line, f) for f in fields]
    assert web.signer_public is public
    web_entry, cli_entry = (_last_event(signon_workspace, n) for n in (FIRST, SECOND))
    assert (web_entry.kind, web_entry.detail) == (cli_entry.kind, cli_entry.detail)
    assert json.loads(web_entry.detail)["signer_public"] is public


def test_the_console_form_offers_the_choice_unticked(
    signon_workspace: SignOnWorkspace, staff
) -> None:
    org = signon_workspace.organisations[FIRST]
    from bs4 import BeautifulSoup

    page = BeautifulSoup(staff.get(f"{BASE}/{org}/answer").text, "html.parser")

    box = page.find("input", id="signer_public")
    assert box is not None and box["type"] == "checkbox"
    assert not box.has_attr("checked")
    label = page.find("label", attrs={"for": "signer_public"}).get_text(" ", strip=True)
    assert "public list of signatories" in label


def test_public_without_confirm_is_refused_and_records_nothing(
    signon_workspace: SignOnWorkspace, invoke
) -> None:
    org = str(signon_workspace.organisations[FIRST])

    result = invoke("sign", SLUG, org, "--decline", "--public")

    assert result.exit_code == 2, result.output
    assert "--public says the signer may appear on the public list" in result.output
    assert "give it with --confirm only" in result.output
    assert _count(signon_workspace, Invitation) == 0
    declined = invoke("sign", SLUG, org, "--decline")  # control: without it, it is taken
    assert declined.exit_code == 0, declined.output


def test_the_console_refuses_a_public_signer_on_a_decline_and_records_nothing(
    signon_workspace: SignOnWorkspace, staff
) -> None:
    response = _record(staff, signon_workspace, FIRST, action="decline", signer_public="y")

    assert response.status_code == 400
    assert "Only a confirmation can put its signer on the public list" in response.text
    assert _count(signon_workspace, Invitation) == 0
