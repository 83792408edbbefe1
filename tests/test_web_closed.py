"""After the sign-on closes, a personal link says so, and shows what the organisation answered."""

from __future__ import annotations

from bs4 import BeautifulSoup
from sqlalchemy import func, select

from coalitionletter.models import Event, Invitation
from fixtures_signon import (
    HUMAN,
    ORGANISATIONS,
    SIGNER,
    SLUG,
    SignOnWorkspace,
    confirm,
    confirm_form,
    set_deadline,
)

NAME = ORGANISATIONS[0][0]


def _main(response) -> str:
    return BeautifulSoup(response.text, "html.parser").find("main").get_text(" ", strip=True)


def _close(invoke) -> None:
    result = invoke("close", SLUG, "--yes")
    assert result.exit_code == 0, result.output


def test_a_confirmed_organisations_link_shows_the_sign_on_closed_and_its_confirmation(
    web_client, token: str, invoke
) -> None:
    confirm(web_client, token, **SIGNER)
    _close(invoke)
    response = web_client.get(f"/s/{token}", headers=HUMAN)
    assert response.status_code == 410
    text = _main(response)
    assert "The sign-on for this letter has closed" in text
    assert "Confirmed by Aynur Tursun, Director" in text
    assert NAME in text
    assert "ask for a new one" not in response.text
    assert BeautifulSoup(response.text, "html.parser").find("form") is None


def test_an_unanswered_organisations_link_says_no_answer_arrived_before_closing(
    web_client, token: str, invoke
) -> None:
    _close(invoke)
    text = _main(web_client.get(f"/s/{token}", headers=HUMAN))
    assert "has closed" in text
    assert "No answer was received before the sign-on closed" in text
    assert "Confirmed" not in text


def test_a_declined_organisations_link_says_it_declined(
    signon_workspace: SignOnWorkspace, web_client, token: str, invoke
) -> None:
    form = confirm_form(web_client, token, **SIGNER)
    declined = web_client.post(f"/s/{token}", data={"csrf": form["csrf"], "action": "decline"})
    assert declined.status_code == 303
    _close(invoke)
    text = _main(web_client.get(f"/s/{token}", headers=HUMAN))
    assert "Declined" in text
    assert "No answer" not in text


def test_a_confirmation_of_an_earlier_text_is_shown_as_such_after_closing(
    signon_workspace: SignOnWorkspace, web_client, token: str, invoke
) -> None:
    web_client.post(f"/s/{token}", data=confirm_form(web_client, token, **SIGNER))
    body = signon_workspace.home / "letters" / SLUG / "body.md"
    body.write_text(body.read_text(encoding="utf-8") + "\nA new last paragraph.\n", "utf-8")
    _close(invoke)
    text = _main(web_client.get(f"/s/{token}", headers=HUMAN))
    assert "Confirmed an earlier version of the text" in text
    assert "had not confirmed the final text" in text


def test_a_post_after_closing_changes_nothing_and_answers_with_the_closed_page(
    signon_workspace: SignOnWorkspace, web_client, token: str, invoke
) -> None:
    form = confirm_form(web_client, token, **SIGNER)
    _close(invoke)
    with signon_workspace.database.reading() as session:
        events_before = session.scalar(select(func.count(Event.id)))
    response = web_client.post(f"/s/{token}", data=form)
    assert response.status_code == 410
    assert "has closed" in _main(response)
    with signon_workspace.database.reading() as session:
        assert session.scalars(select(Invitation.state)).one() == "invited"
        assert session.scalar(select(func.count(Event.id))) == events_before


def test_the_closed_page_says_when_the_deadline_in_letter_toml_closed_it(
    signon_workspace: SignOnWorkspace, web_client, token: str
) -> None:
    set_deadline(signon_workspace.home)
    response = web_client.get(f"/s/{token}", headers=HUMAN)
    assert response.status_code == 410
    assert "It closed on 14 August 2020, 17:00 (UTC+01:00)." in _main(response)
