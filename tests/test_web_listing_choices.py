"""The sign-on page after confirming: withdrawing asks once more, the listing can change
without withdrawing, and the signer chooses whether their name may be public."""

from __future__ import annotations

import json
from typing import NamedTuple
from urllib.parse import urljoin

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import func, select

from coalitionletter.models import Event, Invitation
from fixtures_signon import BROWSER_AGENT, SLUG, SignOnWorkspace, confirm_form, csrf_of

HUMAN = {"User-Agent": BROWSER_AGENT}


def _invitation(workspace: SignOnWorkspace) -> Invitation:
    with workspace.database.reading() as session:
        return session.scalars(select(Invitation)).one()


def _events(workspace: SignOnWorkspace, kind: str) -> list[Event]:
    with workspace.database.reading() as session:
        return list(session.scalars(select(Event).where(Event.kind == kind).order_by(Event.seq)))


def _event_count(workspace: SignOnWorkspace) -> int:
    """Entries other than views (opening the page counts a view, which is no answer)."""
    with workspace.database.reading() as session:
        query = select(func.count(Event.id)).where(Event.kind != "viewed")
        return session.scalar(query) or 0


def _detail(event: Event) -> dict:
    return json.loads(event.detail)


def _outcome(event: Event) -> dict:
    return json.loads(event.outcome or "{}")


def _confirm(client, token: str, **overrides: str | None) -> None:  # type: ignore[no-untyped-def]
    response = client.post(f"/s/{token}", data=confirm_form(client, token, **overrides))
    assert response.status_code == 303, response.text


def _post(client, token: str, **fields: str):  # type: ignore[no-untyped-def]
    return client.post(f"/s/{token}", data={"csrf": csrf_of(client, token), **fields})


def _page(client, token: str) -> BeautifulSoup:  # type: ignore[no-untyped-def]
    return BeautifulSoup(client.get(f"/s/{token}", headers=HUMAN).text, "html.parser")


# --- withdrawing asks once more ----------------------------------------------------------


def test_a_withdraw_post_asks_once_more_and_changes_nothing(
    signon_workspace: SignOnWorkspace, web_client, token: str
) -> None:
    _confirm(web_client, token)
    before = _event_count(signon_workspace)

    response = _post(web_client, token, action="withdraw")

    assert response.status_code == 200
    page = BeautifulSoup(response.text, "html.parser")
    assert page.h1.get_text() == "Withdraw your organisation's signature?"
    assert page.find("script") is None  # a plain form: no script needed
    form = {i["name"]: i.get("value") for i in page.form.find_all("input")}
    assert form["action"] == "withdraw" and form["withdraw_confirmed"] == "yes"
    assert _invitation(signon_workspace).state == "confirmed"
    assert _event_count(signon_workspace) == before


def test_the_confirmation_pages_own_post_withdraws(
    signon_workspace: SignOnWorkspace, web_client, token: str
) -> None:
    _confirm(web_client, token)
    asked = BeautifulSoup(_post(web_client, token, action="withdraw").text, "html.parser")
    answer = {i["name"]: i["value"] for i in asked.form.find_all("input")}

    response = web_client.post(f"/s/{token}", data=answer)

    assert response.status_code == 303
    assert _invitation(signon_workspace).state == "withdrawn"
    assert len(_events(signon_workspace, "withdrawn")) == 1


def test_going_back_from_the_confirmation_page_keeps_the_signature(
    signon_workspace: SignOnWorkspace, web_client, token: str
) -> None:
    _confirm(web_client, token)
    asked = BeautifulSoup(_post(web_client, token, action="withdraw").text, "html.parser")
    keep = asked.find("a", string="No, keep our signature")
    url = urljoin(f"http://localhost/s/{token}", keep["href"])
    assert url == f"http://localhost/s/{token}"  # the link's own page, by GET

    page = BeautifulSoup(web_client.get(url, headers=HUMAN).text, "html.parser")

    assert "Confirmed" in page.find(class_="status").get_text()
    assert _invitation(signon_workspace).state == "confirmed"
    assert _events(signon_workspace, "withdrawn") == []


def test_a_signed_organisation_is_offered_a_change_of_listing(
    signon_workspace: SignOnWorkspace, web_client, token: str
) -> None:
    assert _page(web_client, token).find(id="listing-heading") is None  # not before signing
    _confirm(web_client, token)

    page = _page(web_client, token)

    assert page.find(id="listing-heading").get_text() == "Change how we are listed"
    choices = page.find("input", attrs={"name": "action", "value": "change_listing"}).parent
    assert choices.find("input", attrs={"name": "listing", "value": "public"}).has_attr("checked")


def test_changing_the_listing_keeps_the_signature_and_its_consent(
    signon_workspace: SignOnWorkspace, web_client, token: str
) -> None:
    _confirm(web_client, token)
    signed = _invitation(signon_workspace)

    response = _post(web_client, token, action="change_listing", listing="governments_only")

    assert response.status_code == 303
    now = _invitation(signon_workspace)
    assert now.listing == "governments_only"
    assert (now.state, now.text_hash, now.decided_at) == (
        "confirmed",
        signed.text_hash,
        signed.decided_at,
    )
    assert (now.signer_name, now.signer_title) == (signed.signer_name, signed.signer_title)
    assert "Named only in the copies delivered to governments" in response.text or (
        "Named only in the copies delivered to governments" in _page(web_client, token).get_text()
    )


def test_a_change_of_listing_is_in_the_trail_with_its_outcome(
    signon_workspace: SignOnWorkspace, web_client, token: str, invoke
) -> None:
    _confirm(web_client, token)

    _post(web_client, token, action="change_listing", listing="governments_only")

    (event,) = _events(signon_workspace, "listing changed")
    assert event.actor == "token holder"
    assert _detail(event) == {"listing": "governments_only", "signer_public": False}
    assert _outcome(event)["listing"] == "governments_only"
    assert _outcome(event)["state"] == "confirmed"
    assert _outcome(event)["found"]["listing"] == "public"
    verified = invoke("audit", SLUG, "--verify")
    assert verified.exit_code == 0, verified.output


def test_a_change_of_listing_that_changes_nothing_is_not_logged(
    signon_workspace: SignOnWorkspace, web_client, token: str
) -> None:
    _confirm(web_client, token)
    before = _event_count(signon_workspace)

    response = _post(web_client, token, action="change_listing", listing="public")

    assert response.status_code == 303
    assert _event_count(signon_workspace) == before
    _post(web_client, token, action="change_listing", listing="governments_only")
    assert _event_count(signon_workspace) == before + 1  # positive control


def _state(workspace: SignOnWorkspace) -> tuple[str, str, int]:
    """What a refused answer must leave as it was: the state, the listing and the trail."""
    invitation = _invitation(workspace)
    return invitation.state, invitation.listing, _event_count(workspace)


def _change_text(workspace: SignOnWorkspace) -> None:
    body = workspace.home / "letters" / SLUG / "body.md"
    body.write_text(body.read_text("utf-8") + "\nA paragraph added later.\n", "utf-8")


class Refusal(NamedTuple):
    """An answer the page refuses, with the status and the words that say why."""

    signed: bool  # the organisation confirmed first
    text_changed: bool  # then the letter's text changed
    posted: dict[str, str]
    status: int
    words: str


REFUSALS = {
    "withdrawing-without-a-signature": Refusal(
        False, False, {"action": "withdraw"}, 409, "no confirmed signature to withdraw"
    ),
    "an-unknown-listing": Refusal(
        True,
        False,
        {"action": "change_listing", "listing": "everyone"},
        400,
        "Choose how your organisation may be named.",
    ),
    "a-listing-without-a-signature": Refusal(
        False,
        False,
        {"action": "change_listing", "listing": "governments_only"},
        409,
        "has not signed, so there is no listing to change",
    ),
    "a-listing-after-a-text-change": Refusal(
        True,
        True,
        {"action": "change_listing", "listing": "governments_only"},
        409,
        "confirm it below",
    ),
}


@pytest.mark.parametrize("refusal", REFUSALS.values(), ids=REFUSALS.keys())
def test_a_refused_answer_says_why_and_changes_nothing(
    signon_workspace: SignOnWorkspace, web_client, token: str, refusal: Refusal
) -> None:
    if refusal.signed:
        _confirm(web_client, token)
    if refusal.text_changed:
        _change_text(signon_workspace)
    before = _state(signon_workspace)

    response = _post(web_client, token, **refusal.posted)

    assert response.status_code == refusal.status
    assert refusal.words in response.text
    assert _state(signon_workspace) == before


def test_after_a_text_change_a_change_of_listing_is_not_offered(
    signon_workspace: SignOnWorkspace, web_client, token: str
) -> None:
    _confirm(web_client, token)
    assert _page(web_client, token).find(id="listing-heading") is not None  # offered: control

    _change_text(signon_workspace)

    assert _page(web_client, token).find(id="listing-heading") is None


def test_a_whitespace_only_edit_does_not_stop_a_change_of_listing(
    signon_workspace: SignOnWorkspace, web_client, token: str
) -> None:
    _confirm(web_client, token)
    body = signon_workspace.home / "letters" / SLUG / "body.md"
    body.write_text(body.read_text("utf-8") + "\n\n\n", "utf-8")

    response = _post(web_client, token, action="change_listing", listing="governments_only")

    assert response.status_code == 303
    assert _invitation(signon_workspace).listing == "governments_only"


# --- the signer's name and title: sent to the recipients, public only by choice -------------


def test_the_form_says_the_signer_goes_to_the_recipients_and_is_public_only_if_ticked(
    web_client, token: str
) -> None:
    page = _page(web_client, token)

    notice = page.find(id="signer-public-note").get_text(" ", strip=True)
    assert "sent to the recipients with the letter" in notice
    assert "not published unless you tick this box" in notice
    box = page.find("input", attrs={"name": "signer_public"})
    assert box["type"] == "checkbox" and box["value"] == "yes"
    assert not box.has_attr("checked")  # not public unless the signer opts in


@pytest.mark.parametrize(
    ("box", "public", "status_words"),
    [
        pytest.param(None, False, "They do not appear on the public list", id="not-ticked"),
        pytest.param("yes", True, "They also appear on the public list", id="ticked"),
    ],
)
def test_the_signers_choice_of_the_public_list_is_kept_with_the_consent_and_in_the_trail(
    signon_workspace: SignOnWorkspace,
    web_client,
    token: str,
    *,
    box: str | None,
    public: bool,
    status_words: str,
) -> None:
    _confirm(web_client, token, signer_public=box)

    assert _invitation(signon_workspace).signer_public is public
    (event,) = _events(signon_workspace, "confirmed")
    assert _detail(event)["signer_public"] is public
    assert _outcome(event)["signer_public"] is public
    status = _page(web_client, token).find(class_="status").get_text()
    assert status_words in status


def test_the_signer_can_leave_the_public_list_without_withdrawing(
    signon_workspace: SignOnWorkspace, web_client, token: str
) -> None:
    _confirm(web_client, token, signer_public="yes")
    page = _page(web_client, token)
    assert page.find(id="signer_public").has_attr("checked")  # the change form shows the choice

    response = _post(web_client, token, action="change_listing", listing="public")

    assert response.status_code == 303
    invitation = _invitation(signon_workspace)
    assert (invitation.state, invitation.signer_public) == ("confirmed", False)
    (event,) = _events(signon_workspace, "listing changed")
    assert _detail(event) == {"listing": "public", "signer_public": False}


def test_audit_catches_a_signer_made_public_behind_the_programs_back(
    signon_workspace: SignOnWorkspace, web_client, token: str, invoke
) -> None:
    _confirm(web_client, token)
    untouched = invoke("audit", SLUG, "--verify")
    assert untouched.exit_code == 0, untouched.output  # positive control
    with signon_workspace.database.writing() as session:
        session.execute(Invitation.__table__.update().values(signer_public=True))

    result = invoke("audit", SLUG, "--verify")

    assert result.exit_code != 0
    assert "signer on the public list True (trail: False)" in result.output


def test_the_box_is_never_ticked_in_advance_on_a_confirmation_of_a_changed_text(
    signon_workspace: SignOnWorkspace, web_client, token: str
) -> None:
    _confirm(web_client, token, signer_public="yes")
    assert _page(web_client, token).find(id="signer_public").has_attr("checked")  # control
    _change_text(signon_workspace)

    page = _page(web_client, token)

    assert page.find(id="confirm-heading") is not None
    assert page.find(id="signer_name")["value"] == "Li Wei"  # the signer is filled in
    assert not page.find(id="signer_public").has_attr("checked")  # the choice is made again
