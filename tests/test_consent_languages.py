"""Consent in a letter with several languages: each version has its own hash.

An organisation confirms the version it read; changing one version asks only
those who confirmed that version to reconfirm, and the trail says which
version (language and hash) each confirmation was given to.
"""

from __future__ import annotations

import json

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import select, update

from coalitionletter.models import Campaign, Contact, Event, Invitation
from fixtures_signon import (
    HUMAN,
    ORGANISATIONS,
    SLUG,
    CaptureHandler,
    SignOnWorkspace,
    confirm_form,
    invite_one,
)

ENGLISH_ORG = ORGANISATIONS[0][0]
FRENCH_ORG = ORGANISATIONS[1][0]  # Canadian Friends of Hong Kong (加拿大香港之友)
FRENCH_EDIT = "Nous ajoutons une phrase à la version française"
ENGLISH_EDIT = "We add a sentence to the English version"


def _ok(result) -> str:  # type: ignore[no-untyped-def]
    assert result.exit_code == 0, result.output
    return result.output


def _append(workspace: SignOnWorkspace, name: str, words: str) -> None:
    body = workspace.home / "letters" / SLUG / name
    body.write_text(body.read_text("utf-8") + f"\n{words}.\n", "utf-8")


def _sign(invoke, workspace: SignOnWorkspace, name: str, *language: str) -> None:  # type: ignore[no-untyped-def]
    org = str(workspace.organisations[name])
    args = ["--signer", "Li Wei", "--title", "Chair"]
    _ok(invoke("sign", SLUG, org, "--confirm", *args, *language))


def _agreed(workspace: SignOnWorkspace, name: str) -> str | None:
    with workspace.database.reading() as session:
        return session.scalar(
            select(Invitation.text_hash).where(
                Invitation.organisation_id == workspace.organisations[name]
            )
        )


def _two_confirmations(invoke, workspace: SignOnWorkspace) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    """ENGLISH_ORG confirmed the English text, FRENCH_ORG the French; their hashes."""
    _sign(invoke, workspace, ENGLISH_ORG)
    _sign(invoke, workspace, FRENCH_ORG, "--language", "fr")
    return _agreed(workspace, ENGLISH_ORG) or "", _agreed(workspace, FRENCH_ORG) or ""


def test_each_confirmation_carries_the_hash_of_the_version_it_confirmed(
    signon_workspace: SignOnWorkspace, invoke
):
    english, french = _two_confirmations(invoke, signon_workspace)
    definition = signon_workspace.definition
    assert english == definition.version("en").text_hash
    assert french == definition.version("fr").text_hash
    assert english != french


def test_the_trail_records_the_language_and_hash_of_each_confirmation(
    signon_workspace: SignOnWorkspace, invoke
):
    _english, french = _two_confirmations(invoke, signon_workspace)
    with signon_workspace.database.reading() as session:
        confirmed = session.scalars(
            select(Event).where(Event.kind == "confirmed").order_by(Event.id)
        ).all()
    assert [json.loads(e.detail)["language"] for e in confirmed] == ["en", "fr"]
    assert confirmed[1].text_hash == french
    _ok(invoke("audit", SLUG, "--verify"))


def test_an_unknown_language_is_refused_naming_the_languages_and_nothing_changes(
    signon_workspace: SignOnWorkspace, invoke
):
    org = str(signon_workspace.organisations[FRENCH_ORG])
    result = invoke(
        "sign", SLUG, org, "--confirm", "--signer", "A", "--title", "B", "--language", "de"
    )
    assert result.exit_code != 0
    assert "has no version in 'de'. Its languages are: en, fr." in result.output
    assert _agreed(signon_workspace, FRENCH_ORG) is None


# (the version's file, the words added to it, the organisation that confirmed it, the other)
VERSION_EDITS = {
    "french": ("body.fr.md", FRENCH_EDIT, FRENCH_ORG, ENGLISH_ORG),
    "english": ("body.md", ENGLISH_EDIT, ENGLISH_ORG, FRENCH_ORG),
}


@pytest.mark.parametrize("edit", VERSION_EDITS.values(), ids=VERSION_EDITS.keys())
def test_changing_one_version_makes_only_its_confirmations_stale(
    signon_workspace: SignOnWorkspace, invoke, edit: tuple[str, str, str, str]
):
    body, words, confirmed_it, confirmed_other = edit
    _two_confirmations(invoke, signon_workspace)
    _append(signon_workspace, body, words)

    result = invoke("build", "--format", "html", "-q")

    assert result.exit_code != 0
    assert "1 confirmation was given to an earlier text" in result.output
    assert confirmed_it in result.output and confirmed_other not in result.output


def test_leave_out_stale_leaves_out_only_the_changed_versions_confirmations(
    signon_workspace: SignOnWorkspace, invoke
):
    _two_confirmations(invoke, signon_workspace)
    _append(signon_workspace, "body.fr.md", FRENCH_EDIT)

    output = _ok(invoke("build", "--format", "html", "-q", "--leave-out-stale"))

    assert "Left out 1 organisation that confirmed an earlier text" in output
    assert f"  - {FRENCH_ORG}" in output
    built = signon_workspace.home / "letters" / SLUG / "out" / "canada.html"
    for article in BeautifulSoup(built.read_text("utf-8"), "html.parser").find_all("article"):
        names = [li.get_text() for li in article.select(".signatories li")]
        assert names == [ENGLISH_ORG]


def test_counts_count_stale_only_the_confirmations_of_the_changed_version(
    signon_workspace: SignOnWorkspace, invoke
):
    _two_confirmations(invoke, signon_workspace)
    before = json.loads(_ok(invoke("counts", SLUG, "--format", "json")))["totals"]
    assert (before["confirmed_current"], before["confirmed_stale"]) == (2, 0)
    _append(signon_workspace, "body.fr.md", FRENCH_EDIT)

    after = json.loads(_ok(invoke("counts", SLUG, "--format", "json")))["totals"]

    assert (after["confirmed"], after["confirmed_current"], after["confirmed_stale"]) == (2, 1, 1)


def test_reconfirm_asks_only_the_french_confirmer_with_the_french_changes(
    signon_workspace: SignOnWorkspace, invoke, mailbox: CaptureHandler
):
    _two_confirmations(invoke, signon_workspace)
    _append(signon_workspace, "body.fr.md", FRENCH_EDIT)

    output = _ok(invoke("reconfirm", SLUG))

    assert "Queued 1 request(s) to reconfirm" in output
    received = mailbox.for_address(signon_workspace.emails[FRENCH_ORG][0])
    assert len(received) == 1
    assert f"{{+{FRENCH_EDIT}.+}}" in received[0].text()
    # positive control above; the English confirmer's version did not change
    assert mailbox.for_address(signon_workspace.emails[ENGLISH_ORG][0]) == []


def test_publish_freezes_every_version_and_a_french_draft_reaches_nobody(
    signon_workspace: SignOnWorkspace, invoke
):
    output = _ok(invoke("publish", SLUG))
    definition = signon_workspace.definition
    assert f"fr {definition.version('fr').text_hash[:12]}" in output
    _sign(invoke, signon_workspace, FRENCH_ORG, "--language", "fr")
    _append(signon_workspace, "body.fr.md", FRENCH_EDIT)

    built = _ok(invoke("build", "--format", "html", "-q", "--recipient", "canada"))

    assert "holds changes to the text that are not published" in built
    letter = (signon_workspace.home / "letters" / SLUG / "out" / "canada.html").read_text("utf-8")
    assert FRENCH_EDIT not in letter
    assert _agreed(signon_workspace, FRENCH_ORG) == definition.version("fr").text_hash


def test_publishing_a_french_change_publishes_it_and_makes_only_french_confirmations_stale(
    signon_workspace: SignOnWorkspace, invoke
):
    _ok(invoke("publish", SLUG))
    english, french = _two_confirmations(invoke, signon_workspace)
    _append(signon_workspace, "body.fr.md", FRENCH_EDIT)

    output = _ok(invoke("publish", SLUG))

    assert "Version fr:" in output and f"{{+{FRENCH_EDIT}.+}}" in output
    assert "Version en:" not in output
    assert "1 confirmation(s) are of an earlier text" in output
    with signon_workspace.database.reading() as session:
        campaign = session.scalars(select(Campaign)).one()
        event = session.scalars(
            select(Event).where(Event.kind == "published").order_by(Event.id.desc()).limit(1)
        ).one()
    now = json.loads(campaign.published_versions)["fr"]
    assert now != french and campaign.published_hash == english
    detail = json.loads(event.detail)
    assert detail["versions"] == {"en": english, "fr": now}
    assert detail["previous_versions"] == {"en": english, "fr": french}


# --- the sign-on page ---------------------------------------------------------------------


def _set_contact_language(workspace: SignOnWorkspace, name: str, language: str) -> None:
    with workspace.database.writing() as session:
        session.execute(
            update(Contact)
            .where(Contact.organisation_id == workspace.organisations[name])
            .values(language=language)
        )


def _page(web_client, token: str, query: str = "") -> BeautifulSoup:  # type: ignore[no-untyped-def]
    response = web_client.get(f"/s/{token}{query}", headers=HUMAN)
    assert response.status_code == 200
    return BeautifulSoup(response.text, "html.parser")


def _shown_hash(page: BeautifulSoup) -> str:
    return page.find("input", attrs={"name": "text_hash"})["value"]


def test_the_page_shows_the_version_in_the_contacts_language_with_links_to_the_others(
    signon_workspace: SignOnWorkspace, web_client, invoke, mailbox: CaptureHandler
):
    _set_contact_language(signon_workspace, FRENCH_ORG, "fr-CA")
    token = invite_one(signon_workspace, invoke, mailbox, FRENCH_ORG)

    page = _page(web_client, token)

    definition = signon_workspace.definition
    assert _shown_hash(page) == definition.version("fr").text_hash
    assert page.find("article", class_="letter").find("h3").get_text() == (
        definition.version("fr").title
    )
    links = {a.get_text(): a["href"] for a in page.select("nav.versions a")}
    assert links == {"English": "?version=en"}
    assert page.select_one("nav.versions [aria-current]").get_text() == "Français"


def test_the_letter_body_on_the_page_is_marked_with_the_language_it_is_in(
    signon_workspace: SignOnWorkspace, web_client, invoke, mailbox: CaptureHandler
):
    token = invite_one(signon_workspace, invoke, mailbox, ENGLISH_ORG)

    french = _page(web_client, token, "?version=fr").select_one("article.letter")
    english = _page(web_client, token, "?version=en").select_one("article.letter")

    assert french["lang"] == "fr" and "Nous vous écrivons" in french.get_text()
    assert english["lang"] == "en" and "We write as" in english.get_text()


def test_a_contact_without_a_language_sees_the_campaigns_own_version(
    signon_workspace: SignOnWorkspace, web_client, invoke, mailbox: CaptureHandler
):
    token = invite_one(signon_workspace, invoke, mailbox, ENGLISH_ORG)
    page = _page(web_client, token)
    assert _shown_hash(page) == signon_workspace.definition.text_hash
    assert {a.get_text() for a in page.select("nav.versions a")} == {"Français"}


def test_the_version_parameter_switches_the_text_and_changes_nothing(
    signon_workspace: SignOnWorkspace, web_client, invoke, mailbox: CaptureHandler
):
    _set_contact_language(signon_workspace, FRENCH_ORG, "fr")
    token = invite_one(signon_workspace, invoke, mailbox, FRENCH_ORG)
    definition = signon_workspace.definition

    english = _page(web_client, token, "?version=en")
    unknown = _page(web_client, token, "?version=xx")

    assert _shown_hash(english) == definition.text_hash
    assert _shown_hash(unknown) == definition.version("fr").text_hash  # the contact's
    assert _agreed(signon_workspace, FRENCH_ORG) is None
    # no cookie carries the choice: the link says it
    response = web_client.get(f"/s/{token}?version=en", headers=HUMAN)
    assert all("version" not in c for c in response.headers.getlist("Set-Cookie"))


def test_confirming_the_french_page_binds_the_french_text_and_lists_it_once_in_both_letters(
    signon_workspace: SignOnWorkspace, web_client, invoke, mailbox: CaptureHandler
):
    _set_contact_language(signon_workspace, FRENCH_ORG, "fr")
    token = invite_one(signon_workspace, invoke, mailbox, FRENCH_ORG)
    form = confirm_form(web_client, token, display_name=FRENCH_ORG)

    answered = web_client.post(f"/s/{token}", data=form)

    assert answered.status_code == 303
    french = signon_workspace.definition.version("fr").text_hash
    assert _agreed(signon_workspace, FRENCH_ORG) == french
    with signon_workspace.database.reading() as session:
        event = session.scalars(select(Event).where(Event.kind == "confirmed")).one()
    assert event.text_hash == french and json.loads(event.detail)["language"] == "fr"
    _ok(invoke("build", "--format", "html", "-q", "--recipient", "canada"))
    built = signon_workspace.home / "letters" / SLUG / "out" / "canada.html"
    articles = BeautifulSoup(built.read_text("utf-8"), "html.parser").find_all("article")
    assert [a["lang"] for a in articles] == ["en-CA", "fr-CA"]
    for article in articles:
        assert [li.get_text() for li in article.select(".signatories li")] == [FRENCH_ORG]


def test_confirming_the_english_page_of_a_french_contact_binds_the_english_text(
    signon_workspace: SignOnWorkspace, web_client, invoke, mailbox: CaptureHandler
):
    _set_contact_language(signon_workspace, FRENCH_ORG, "fr")
    token = invite_one(signon_workspace, invoke, mailbox, FRENCH_ORG)
    page = _page(web_client, token, "?version=en")
    form = confirm_form(web_client, token, display_name=FRENCH_ORG)
    form["text_hash"] = _shown_hash(page)

    answered = web_client.post(f"/s/{token}?version=en", data=form)

    assert answered.status_code == 303
    assert answered.headers["Location"] == f"/s/{token}?version=en"
    assert _agreed(signon_workspace, FRENCH_ORG) == signon_workspace.definition.text_hash


def test_a_confirmation_of_a_french_text_that_changed_meanwhile_is_refused_and_changes_nothing(
    signon_workspace: SignOnWorkspace, web_client, invoke, mailbox: CaptureHandler
):
    _set_contact_language(signon_workspace, FRENCH_ORG, "fr")
    token = invite_one(signon_workspace, invoke, mailbox, FRENCH_ORG)
    form = confirm_form(web_client, token, display_name=FRENCH_ORG)
    _append(signon_workspace, "body.fr.md", FRENCH_EDIT)

    answered = web_client.post(f"/s/{token}", data=form)

    assert answered.status_code == 409
    shown = BeautifulSoup(answered.text, "html.parser").get_text(" ")
    # The page is in the contact's language, French.
    assert "Le texte de la lettre a été modifié pendant votre lecture" in shown
    assert FRENCH_EDIT in shown  # the page shows the French text as it is now
    assert _agreed(signon_workspace, FRENCH_ORG) is None


def _add_german(workspace: SignOnWorkspace) -> None:
    """A German version in the files, which Canada's letter asks for."""
    folder = workspace.home / "letters" / SLUG
    (folder / "body.de.md").write_text("Wir, {{ signatory_count }} Organisationen.\n", "utf-8")
    toml = folder / "letter.toml"
    text = toml.read_text("utf-8")
    text = text.replace(
        "[lead]", '[languages.de]\ntitle = "Ein Brief"\nclosing = "Hochachtungsvoll"\n\n[lead]'
    )
    text = text.replace('languages = ["en", "fr"]', 'languages = ["en", "fr", "de"]')
    text += '\n[recipients.translations.de]\nsalutation = "Sehr geehrter Herr Minister,"\n'
    toml.write_text(text, "utf-8")


def _canada_languages(workspace: SignOnWorkspace) -> list[str]:
    built = workspace.home / "letters" / SLUG / "out" / "canada.html"
    articles = BeautifulSoup(built.read_text("utf-8"), "html.parser").find_all("article")
    return [article["lang"] for article in articles]


def test_a_language_added_after_publishing_is_printed_nowhere_until_it_is_published(
    signon_workspace: SignOnWorkspace, invoke
):
    _ok(invoke("publish", SLUG))
    _sign(invoke, signon_workspace, ENGLISH_ORG)
    _add_german(signon_workspace)

    output = _ok(invoke("build", "--format", "html", "-q", "--recipient", "canada"))

    assert "The 'de' version (body.de.md) is not published" in output
    assert _canada_languages(signon_workspace) == ["en-CA", "fr-CA"]
    _ok(invoke("publish", SLUG))
    published = _ok(invoke("build", "--format", "html", "-q", "--recipient", "canada"))
    assert "is not published" not in published
    assert _canada_languages(signon_workspace)[:2] == ["en-CA", "fr-CA"]
    assert _canada_languages(signon_workspace)[2].startswith("de")
