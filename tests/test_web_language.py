"""The sign-on pages in the invited contact's language, switched by a plain link, no cookie."""

from __future__ import annotations

from datetime import UTC, datetime

from babel.dates import format_date
from bs4 import BeautifulSoup
from sqlalchemy import select, update

from coalitionletter.models import Contact, Invitation
from fixtures_signon import (
    HUMAN,
    ORGANISATIONS,
    SLUG,
    CaptureHandler,
    SignOnWorkspace,
    confirm_form,
    invite_one,
)

FRENCH_ORG = ORGANISATIONS[0][0]  # Uyghur Rights Advocacy Network, contact aynur@uran.example


def _speak(workspace: SignOnWorkspace, email: str, language: str | None) -> None:
    with workspace.database.writing() as session:
        session.execute(update(Contact).where(Contact.email == email).values(language=language))


def _french_token(workspace: SignOnWorkspace, invoke, mailbox: CaptureHandler) -> str:
    _speak(workspace, "aynur@uran.example", "fr")
    return invite_one(workspace, invoke, mailbox, FRENCH_ORG)


def _page(response) -> BeautifulSoup:
    return BeautifulSoup(response.text, "html.parser")


def _close(invoke) -> None:
    result = invoke("close", SLUG, "--yes")
    assert result.exit_code == 0, result.output


def test_a_page_that_names_nobody_follows_the_browsers_language(web_client) -> None:
    french = _page(web_client.get("/s/unknown", headers={"Accept-Language": "fr-CA,en;q=0.5"}))
    english = _page(web_client.get("/s/unknown", headers={"Accept-Language": "en-GB"}))
    assert french.html["lang"] == "fr"
    assert french.h1.get_text() == "Ce lien n’ouvre aucune page de signature"
    assert english.html["lang"] == "en"
    assert english.h1.get_text() == "This link does not open a sign-on page"


def test_the_address_chooses_the_language_over_the_browser(web_client) -> None:
    page = _page(web_client.get("/s/unknown?lang=fr", headers={"Accept-Language": "en"}))
    assert page.html["lang"] == "fr"
    assert page.h1.get_text() == "Ce lien n’ouvre aucune page de signature"


def test_a_language_without_a_catalog_in_the_address_is_ignored(web_client) -> None:
    page = _page(web_client.get("/s/unknown?lang=xx", headers={"Accept-Language": "fr"}))
    assert page.html["lang"] == "fr"  # the browser's choice still holds


def test_every_page_offers_each_catalogs_language_by_a_plain_link(web_client) -> None:
    page = _page(web_client.get("/s/unknown?lang=fr"))
    switch = page.find("nav", class_="languages")
    links = {a["hreflang"]: a for a in switch.find_all("a")}
    assert {"en", "fr"} <= set(links)
    assert links["en"]["href"] == "?lang=en"
    assert links["en"].get_text() == "English"
    assert links["fr"].get_text() == "Français"
    assert links["fr"].get("aria-current") == "true"
    assert links["en"].get("aria-current") is None
    assert page.find("script") is None


def test_an_error_page_is_in_the_visitors_language(
    signon_workspace: SignOnWorkspace, web_client
) -> None:
    response = web_client.post(
        "/s/unknown?lang=fr", data={"action": "nonsense"}, headers={"Accept-Language": "en"}
    )
    assert response.status_code == 400
    page = _page(response)
    assert page.h1.get_text() == "Cette opération n’a pas abouti"
    assert "Le formulaire n’a pas pu être lu." in page.main.get_text()
    assert page.title.get_text() == "Erreur 400"


def test_a_french_contacts_closed_page_is_in_french_with_a_french_date(
    signon_workspace: SignOnWorkspace, web_client, invoke, mailbox: CaptureHandler
) -> None:
    token = _french_token(signon_workspace, invoke, mailbox)
    _close(invoke)
    page = _page(web_client.get(f"/s/{token}", headers=HUMAN))
    assert page.html["lang"] == "fr"
    text = page.main.get_text(" ", strip=True)
    assert "La période de signature de cette lettre est close" in text
    today = format_date(datetime.now(UTC).date(), "long", locale="fr")
    assert f"Elle a pris fin le {today}" in text
    assert "Aucune réponse n’a été reçue avant la clôture des signatures." in text


def test_the_switch_shows_a_french_contacts_page_in_english(
    signon_workspace: SignOnWorkspace, web_client, invoke, mailbox: CaptureHandler
) -> None:
    token = _french_token(signon_workspace, invoke, mailbox)
    _close(invoke)
    page = _page(web_client.get(f"/s/{token}?lang=en", headers=HUMAN))
    assert page.html["lang"] == "en"
    assert "The sign-on for this letter has closed" in page.main.get_text(" ", strip=True)


def test_choosing_a_language_sets_no_cookie(
    signon_workspace: SignOnWorkspace, web_client, invoke, mailbox: CaptureHandler
) -> None:
    token = _french_token(signon_workspace, invoke, mailbox)
    plain = web_client.get(f"/s/{token}", headers=HUMAN)
    chosen = web_client.get(f"/s/{token}?lang=en", headers=HUMAN)
    assert plain.status_code == chosen.status_code == 200
    assert _page(chosen).html["lang"] == "en"  # positive control: the choice took
    cookies = chosen.headers.getlist("Set-Cookie")
    # Compared by name: a cookie's Expires moves with the clock between the two requests.
    names = [cookie.split("=", 1)[0] for cookie in cookies]
    assert names == [cookie.split("=", 1)[0] for cookie in plain.headers.getlist("Set-Cookie")]
    assert not any("lang" in cookie.lower() for cookie in cookies)


def test_a_language_chosen_in_the_address_stays_after_answering(
    signon_workspace: SignOnWorkspace, web_client, invoke, mailbox: CaptureHandler
) -> None:
    token = _french_token(signon_workspace, invoke, mailbox)
    form = confirm_form(web_client, token, display_name=FRENCH_ORG)
    page = _page(web_client.get(f"/s/{token}?lang=en", headers=HUMAN))
    assert {f["action"] for f in page.find_all("form")} == {"?lang=en#errors"}
    answered = web_client.post(f"/s/{token}?lang=en", data=form)
    assert answered.status_code == 303
    assert answered.headers["Location"] == f"/s/{token}?lang=en"
    with signon_workspace.database.reading() as session:
        state = session.scalar(select(Invitation.state))
    assert state == "confirmed"


def test_form_errors_are_in_the_pages_language(
    signon_workspace: SignOnWorkspace, web_client, invoke, mailbox: CaptureHandler
) -> None:
    token = _french_token(signon_workspace, invoke, mailbox)
    form = confirm_form(web_client, token, signer_name="", authorised=None)
    response = web_client.post(f"/s/{token}", data=form)
    assert response.status_code == 400
    summary = _page(response).find(id="errors")
    assert summary.h2.get_text() == "Veuillez corriger ces 2 points avant de renvoyer le formulaire"
    items = [li.get_text() for li in summary.find_all("li")]
    assert items == [
        "Le champ «\u00a0Votre nom\u00a0» est vide. Veuillez le remplir (il est obligatoire).",
        "Cochez la case pour indiquer que vous avez qualité pour signer au nom de votre "
        "organisation.",
    ]
    with signon_workspace.database.reading() as session:
        assert session.scalar(select(Invitation.state)) == "invited"  # nothing changed


def test_the_withdraw_question_is_in_the_pages_language_and_keeps_it(
    signon_workspace: SignOnWorkspace, web_client, invoke, mailbox: CaptureHandler
) -> None:
    token = _french_token(signon_workspace, invoke, mailbox)
    confirmed = web_client.post(f"/s/{token}", data=confirm_form(web_client, token))
    assert confirmed.status_code == 303
    csrf = _page(web_client.get(f"/s/{token}", headers=HUMAN)).find("input", {"name": "csrf"})
    asked = web_client.post(
        f"/s/{token}?lang=fr", data={"csrf": csrf["value"], "action": "withdraw"}
    )
    page = _page(asked)
    assert page.h1.get_text() == "Retirer la signature de votre organisation\u00a0?"
    assert page.find("form")["action"] == "?lang=fr#errors"
    with signon_workspace.database.reading() as session:
        assert session.scalar(select(Invitation.state)) == "confirmed"  # nothing changed yet
