"""The sign-on page: read the letter, confirm or decline, change one's mind until the deadline."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import func, select

from coalitionletter.models import Event, Invitation
from fixtures_letters import LEAD_NAME
from fixtures_signon import (
    BROWSER_AGENT,
    ORGANISATIONS,
    CaptureHandler,
    SignOnWorkspace,
    confirm_form,
    csrf_of,
    invite_one,
)

NAME = ORGANISATIONS[1][0]  # the Chinese-named organisation
HUMAN = {"User-Agent": BROWSER_AGENT}


def _confirm_form(client, token: str, **overrides: str | None) -> dict[str, str]:
    return confirm_form(client, token, **{"display_name": NAME, **overrides})


@pytest.fixture
def token(signon_workspace: SignOnWorkspace, invoke, mailbox: CaptureHandler) -> str:
    return invite_one(signon_workspace, invoke, mailbox, NAME)


def _state(workspace: SignOnWorkspace) -> Invitation:
    with workspace.database.reading() as session:
        return session.scalars(
            select(Invitation).where(Invitation.organisation_id == workspace.organisations[NAME])
        ).one()


def _event_count(workspace: SignOnWorkspace) -> int:
    with workspace.database.reading() as session:
        return session.scalar(select(func.count(Event.id)))


def _confirm(client, token: str, **overrides: str | None):
    return client.post(f"/s/{token}", data=_confirm_form(client, token, **overrides))


# How the page writes the founding letter's placeholders, spelled out here rather than
# taken from the code under test.
PAGE_WORDS = {
    "{{ signatory_count_words }}": "[number of signatories, in words]",
    "{{ signatory_count }}": "[number of signatories]",
    "{{ lead_organisation }}": LEAD_NAME,
}


def _expected_paragraphs(body_md: Path) -> list[str]:
    text = body_md.read_text("utf-8")
    for placeholder, words in PAGE_WORDS.items():
        text = text.replace(placeholder, words)
    assert "{{" not in text, "the founding body uses a placeholder PAGE_WORDS does not spell"
    return [" ".join(block.split()) for block in text.split("\n\n") if block.strip()]


def test_the_page_shows_the_whole_letter_the_listed_name_and_the_form(
    signon_workspace: SignOnWorkspace, web_client, token: str
) -> None:
    response = web_client.get(f"/s/{token}", headers=HUMAN)
    assert response.status_code == 200
    page = BeautifulSoup(response.text, "html.parser")
    letter = page.find("article", class_="letter").get_text(" ", strip=True)
    definition = signon_workspace.definition
    assert definition.title in letter
    shown = [" ".join(p.get_text().split()) for p in page.find("article", class_="letter")("p")]
    for paragraph in _expected_paragraphs(definition.directory / "body.md"):
        assert paragraph in shown
    assert "{{" not in letter
    assert definition.closing in letter
    assert page.find(class_="listed-as").get_text(strip=True) == NAME
    for field in ("signer_name", "signer_title", "display_name", "authorised", "listing"):
        assert page.find("input", attrs={"name": field}) is not None, field
    assert page.find("input", attrs={"name": "text_hash"})["value"] == definition.text_hash
    assert page.find("script") is None


def test_confirming_records_the_signer_and_the_text_it_agreed_to(
    signon_workspace: SignOnWorkspace, web_client, token: str
) -> None:
    response = _confirm(web_client, token)
    assert response.status_code == 303
    assert response.headers["Location"] == f"/s/{token}"
    invitation = _state(signon_workspace)
    assert invitation.state == "confirmed"
    assert invitation.text_hash == signon_workspace.definition.text_hash
    assert (invitation.signer_name, invitation.signer_title) == ("Li Wei", "Chair")
    with signon_workspace.database.reading() as session:
        event = session.scalars(select(Event).where(Event.kind == "confirmed")).one()
    assert event.actor == "token holder"
    assert event.ip == "127.0.0.1"
    assert event.text_hash == signon_workspace.definition.text_hash


def test_once_confirmed_the_same_link_shows_the_status_and_a_withdraw_button(
    signon_workspace: SignOnWorkspace, web_client, token: str
) -> None:
    _confirm(web_client, token)
    page = BeautifulSoup(web_client.get(f"/s/{token}", headers=HUMAN).text, "html.parser")
    assert "Confirmed" in page.find(class_="status").get_text()
    assert "Li Wei, Chair" in page.find(class_="status").get_text()
    actions = [i["value"] for i in page.find_all("input", attrs={"name": "action"})]
    assert actions == ["change_listing", "withdraw"]


@pytest.mark.parametrize(
    ("confirmed_first", "answer", "kept"),
    [
        (True, {"action": "withdraw", "withdraw_confirmed": "yes"}, {"state": "withdrawn"}),
        (
            False,
            {"action": "decline", "reason": "Board has not met"},
            {"state": "declined", "decline_reason": "Board has not met"},
        ),
    ],
    ids=["withdraw", "decline-with-reason"],
)
def test_an_organisation_can_change_its_answer_and_confirm_later(  # noqa: PLR0917 - fixtures
    signon_workspace: SignOnWorkspace, web_client, token: str, confirmed_first, answer, kept
) -> None:
    if confirmed_first:
        _confirm(web_client, token)
    data = {"csrf": csrf_of(web_client, token), **answer}
    assert web_client.post(f"/s/{token}", data=data).status_code == 303
    invitation = _state(signon_workspace)
    assert {field: getattr(invitation, field) for field in kept} == kept
    _confirm(web_client, token)
    assert _state(signon_workspace).state == "confirmed"


def test_a_corrected_name_is_kept_as_a_proposal_and_the_governments_only_choice_as_given(
    signon_workspace: SignOnWorkspace, web_client, token: str
) -> None:
    _confirm(web_client, token, display_name="Canadian Friends of HK", listing="governments_only")
    invitation = _state(signon_workspace)
    assert invitation.proposed_name == "Canadian Friends of HK"
    assert invitation.proposed_by == "Li Wei"
    assert invitation.display_name is None  # printed only once staff approve it
    assert invitation.listing == "governments_only"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"authorised": None}, "authorised to sign"),
        ({"signer_name": "  "}, "Your name is empty"),
        ({"signer_title": ""}, "Your title is empty"),
        ({"display_name": "Evil\u202eOrg"}, "Name as printed has the character"),
        ({"listing": "everyone"}, "Choose how your organisation may be named"),
    ],
)
def test_an_incomplete_confirmation_is_refused_and_changes_nothing(
    signon_workspace: SignOnWorkspace, web_client, token: str, overrides, message: str
) -> None:
    events_before = _event_count(signon_workspace)
    response = _confirm(web_client, token, **overrides)
    assert response.status_code == 400
    assert message in response.text
    assert _state(signon_workspace).state == "invited"
    assert _event_count(signon_workspace) == events_before


def _without_form_token(client, token: str) -> dict[str, str]:
    return {"action": "decline"}


def _for_a_changed_text(client, token: str) -> dict[str, str]:
    return _confirm_form(client, token, text_hash="0" * 64)


@pytest.mark.parametrize(
    ("form", "status", "message"),
    [
        (_without_form_token, 400, "Reload the page"),
        (_for_a_changed_text, 409, "changed while you were reading"),
    ],
    ids=["no-form-token", "text-changed-meanwhile"],
)
def test_a_stale_or_forged_post_is_refused_and_changes_nothing(  # noqa: PLR0917 - fixtures
    signon_workspace: SignOnWorkspace, web_client, token: str, form, status: int, message: str
) -> None:
    data = form(web_client, token)
    events_before = _event_count(signon_workspace)
    response = web_client.post(f"/s/{token}", data=data)
    assert response.status_code == status
    assert message in response.text
    assert _state(signon_workspace).state == "invited"
    assert _event_count(signon_workspace) == events_before


def test_a_double_click_confirms_once_without_an_error_page(
    signon_workspace: SignOnWorkspace, web_client, token: str
) -> None:
    form = _confirm_form(web_client, token)
    first = web_client.post(f"/s/{token}", data=form)
    second = web_client.post(f"/s/{token}", data=form)
    assert (first.status_code, second.status_code) == (303, 303)
    with signon_workspace.database.reading() as session:
        kinds = list(session.scalars(select(Event.kind).where(Event.kind == "confirmed")))
    assert kinds == ["confirmed"]


def test_a_decline_from_a_page_opened_before_a_colleague_confirmed_shows_the_status(
    signon_workspace: SignOnWorkspace, web_client, token: str
) -> None:
    csrf = csrf_of(web_client, token)
    _confirm(web_client, token)
    response = web_client.post(f"/s/{token}", data={"csrf": csrf, "action": "decline"})
    assert response.status_code == 200
    assert "already been recorded" in response.text
    assert _state(signon_workspace).state == "confirmed"


def _urls(html: str) -> list[str]:
    page = BeautifulSoup(html, "html.parser")
    return [
        tag[attribute]
        for tag in page.find_all(True)
        for attribute in ("href", "action", "src")
        if tag.has_attr(attribute)
    ]


def test_links_are_made_from_the_configured_base_url_never_the_host_header(
    signon_workspace: SignOnWorkspace, web_client, token: str
) -> None:
    forged = {**HUMAN, "Host": "attacker.example"}
    response = web_client.get(f"/s/{token}", headers=forged)
    assert response.status_code == 200
    urls = _urls(response.text)
    assert "/static/web.css" in urls  # positive control: the page's links are seen
    assert [url for url in urls if urlsplit(url).netloc] == []
    assert "attacker.example" not in response.text
    form = _confirm_form(web_client, token)
    posted = web_client.post(f"/s/{token}", data=form, headers=forged)
    assert posted.status_code == 303
    assert posted.headers["Location"] == f"/s/{token}"


def test_the_stylesheet_is_served(web_client) -> None:
    with web_client.get("/static/web.css") as response:
        assert response.status_code == 200
        assert "text/css" in response.headers["Content-Type"]
        assert "font" in response.text


def test_the_page_escapes_markup_in_an_organisation_name(
    signon_workspace: SignOnWorkspace, web_client, invoke, mailbox: CaptureHandler
) -> None:
    token = invite_one(signon_workspace, invoke, mailbox, "Justice & <Truth> Initiative")
    response = web_client.get(f"/s/{token}", headers=HUMAN)
    assert "<Truth>" not in response.text
    assert "Justice &amp; &lt;Truth&gt; Initiative" in response.text
