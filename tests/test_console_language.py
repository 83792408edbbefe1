"""The staff console in the reader's language: the choice, the browser's, else English."""

from __future__ import annotations

import re

import pytest
from babel.dates import format_date
from bs4 import BeautifulSoup

from fixtures_console import STAFF_EMAIL, csrf_in, sign_in
from fixtures_counts import COUNTS_SLUG, CountsWorld

pytestmark = pytest.mark.usefixtures("console_accounts")


def _page(response) -> BeautifulSoup:  # type: ignore[no-untyped-def]
    return BeautifulSoup(response.text, "html.parser")


def _text(response) -> str:  # type: ignore[no-untyped-def]
    return _page(response).get_text(" ", strip=True)


def _french(console_client):  # type: ignore[no-untyped-def]
    """A browser that asks for French first."""
    client = console_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "fr-CA,fr;q=0.9,en;q=0.5"
    return client


def test_the_sign_in_page_follows_the_browsers_french(console_client) -> None:
    page = _french(console_client).get("/staff/login")
    assert page.status_code == 200
    assert "Se connecter" in _text(page)
    assert "Sign in" not in _text(page)
    html = _page(page).html
    assert (html["lang"], html["dir"]) == ("fr", "ltr")


def test_english_is_the_default_without_accept_language(console_client) -> None:
    page = console_client().get("/staff/login")
    assert "Sign in" in _text(page)
    assert "Se connecter" not in _text(page)
    assert _page(page).html["lang"] == "en"


def test_a_browser_language_without_a_catalog_gets_english(console_client) -> None:
    client = console_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "de"
    page = client.get("/staff/login")
    assert "Sign in" in _text(page)
    assert _page(page).html["lang"] == "en"


def test_the_header_offers_each_language_by_a_plain_link(console_client) -> None:
    page = _page(console_client().get("/staff/login?x=1"))
    switch = page.find("nav", class_="languages")
    links = {a.get_text(strip=True): a["href"] for a in switch.find_all("a")}
    assert links == {"English": "?x=1&lang=en", "Français": "?x=1&lang=fr"}
    assert switch.find("a", attrs={"aria-current": "true"}).get_text(strip=True) == "English"
    assert page.find("script") is None


def test_the_switch_changes_the_language_and_keeps_it_across_pages(signed_in) -> None:
    client = signed_in(STAFF_EMAIL)
    assert "Campaigns" in _text(client.get("/staff/"))
    switched = client.get("/staff/?lang=fr")
    assert "Campagnes" in _text(switched)
    # A later page without ?lang= stays in French: the choice is in the console's session.
    later = client.get("/staff/organisations")
    assert _page(later).html["lang"] == "fr"
    assert "Organisations" in _text(later)
    assert "Se déconnecter" in _text(later)
    back = client.get("/staff/organisations?lang=en")
    assert "Sign out" in _text(back)
    assert "Sign out" in _text(client.get("/staff/"))


def test_the_choice_beats_the_browsers_language(console_client) -> None:
    client = _french(console_client)
    assert "Sign in" in _text(client.get("/staff/login?lang=en"))
    assert "Sign in" in _text(client.get("/staff/login"))


def test_the_choice_made_before_signing_in_survives_signing_in_and_out(console_client) -> None:
    client = console_client()
    client.get("/staff/login?lang=fr")
    response = sign_in(client, STAFF_EMAIL)
    assert response.status_code == 302, response.text
    assert "Se déconnecter" in _text(client.get("/staff/"))
    token = csrf_in(client.get("/staff/").text)
    assert client.post("/staff/logout", data={"csrf_token": token}).status_code == 302
    assert "Se connecter" in _text(client.get("/staff/login"))


def test_a_failed_sign_in_says_so_in_french(console_client) -> None:
    client = _french(console_client)
    response = sign_in(client, STAFF_EMAIL, "not the password at all")
    assert response.status_code == 401
    assert "L’adresse e-mail ou le mot de passe est incorrect." in _text(response)


def test_an_error_page_is_in_french(french_staff) -> None:
    response = french_staff.get("/staff/c/no-such-campaign")
    assert response.status_code == 404
    assert "Cette page ou cette campagne n’existe pas." in _text(response)
    assert _page(response).html["lang"] == "fr"


def test_the_sign_on_pages_still_set_no_cookie_when_the_console_has_a_language(
    console_client,
) -> None:
    client = console_client()
    client.get("/staff/login?lang=fr")
    assert client.get_cookie("cl_staff", path="/staff") is not None  # positive control
    response = client.get("/s/no-such-link?lang=fr")
    assert response.status_code == 404
    assert _page(response).html["lang"] == "fr"  # a sign-on page, in the address's language
    assert response.headers.getlist("Set-Cookie") == []


# --- every page in French -------------------------------------------------------------------

# (path, French words the page shows, the English words they replace)
FRENCH_PAGES = [
    ("/staff/", "Avancement de chaque campagne", "Progress of each campaign"),
    (f"/staff/c/{COUNTS_SLUG}", "Où en sont les signatures", "Where the sign-on stands"),
    (f"/staff/c/{COUNTS_SLUG}/audit", "Entrées du journal, les plus anciennes", "oldest first"),
    ("/staff/organisations", "Organisations par ordre de nom de tri", "in sort-name order"),
    ("/staff/organisations/{org_id}", "Réponses aux campagnes", "Answers to campaigns"),
    ("/staff/organisations/import", "Vérifier le fichier", "Check the file"),
    (f"/staff/c/{COUNTS_SLUG}/invitations", "Inviter les organisations cochées", "ticked"),
    (f"/staff/c/{COUNTS_SLUG}/names", "Aucun nom proposé n’attend de décision", "await a decision"),
    ("/staff/organisations/duplicates", "Fusionner deux organisations au choix", "Merge any two"),
    ("/staff/organisations/new", "Ajouter l’organisation", "Add the organisation"),
    (f"/staff/c/{COUNTS_SLUG}/letters", "Fichiers de la dernière production", "Files of the last"),
    (
        f"/staff/c/{COUNTS_SLUG}/letters/delivered/signatories-delivered.csv",
        "Ceci est la liste remise.",
        "This is the delivered list.",
    ),
]


@pytest.fixture
def french_staff(console_client, staff_login):  # type: ignore[no-untyped-def]
    """A French browser signed in as staff."""
    client = _french(console_client)
    staff_login(client, STAFF_EMAIL)
    return client


@pytest.fixture
def english_staff(signed_in):  # type: ignore[no-untyped-def]
    """A browser that says no language, signed in as staff."""
    return signed_in(STAFF_EMAIL)


# A browser asking for French gets French; one that asks for no language, English.
BROWSERS = {"fr": ("french_staff", "Se déconnecter"), "en": ("english_staff", "Sign out")}


@pytest.mark.parametrize("language", BROWSERS)
@pytest.mark.parametrize("words", FRENCH_PAGES, ids=[path for path, *_ in FRENCH_PAGES])
def test_every_console_page_is_in_the_browsers_language(
    request: pytest.FixtureRequest,
    counts_world: CountsWorld,
    words: tuple[str, str, str],
    language: str,
) -> None:
    browser, sign_out = BROWSERS[language]
    path, french, english = words
    shown, replaced = (french, english) if language == "fr" else (english, french)
    page = request.getfixturevalue(browser).get(path.format(org_id=min(counts_world.ids.values())))
    assert page.status_code == 200, page.text
    assert shown in _text(page)
    assert replaced not in _text(page)
    assert _page(page).html["lang"] == language
    assert sign_out in _text(page)


def test_the_dashboards_counts_words_dates_and_numbers_are_french(
    french_staff, counts_world: CountsWorld
) -> None:
    page = french_staff.get(f"/staff/c/{COUNTS_SLUG}")
    text = _text(page)
    # Core's labels, translated at the page; percentages with a decimal comma.
    assert "sur le texte actuel (imprimées)" in text
    assert "to the current text (printed)" not in text
    assert re.search(r"\d+,\d\u00a0%", text), text
    chart = _page(page).find("svg")
    assert "Sans réponse, lien ouvert" in chart.get_text()
    assert chart["aria-label"].startswith("Invitations par état")
    # The deadline in French words, in the campaign's zone.
    month = format_date(counts_world.deadline, "MMMM", locale="fr")
    assert f"Date limite {counts_world.deadline.day} {month}" in text


def test_the_english_dashboard_keeps_its_numbers_as_before(
    signed_in, counts_world: CountsWorld
) -> None:
    client = signed_in(STAFF_EMAIL)
    text = _text(client.get(f"/staff/c/{COUNTS_SLUG}"))
    assert "to the current text (printed)" in text
    assert re.search(r"\d+\.\d%", text), text
    assert "days left" in text


def test_an_answer_forms_error_labels_and_choices_are_in_french(french_staff, counts_world) -> None:
    client = french_staff
    org_id = min(counts_world.ids.values())
    page = client.get(f"/staff/c/{COUNTS_SLUG}/invitations/{org_id}/answer")
    token = csrf_in(page.text)
    response = client.post(
        f"/staff/c/{COUNTS_SLUG}/invitations/{org_id}/answer",
        data={"csrf_token": token, "action": "confirm", "signer": "", "title": ""},
    )
    assert response.status_code == 400
    text = _text(response)
    assert "Une confirmation doit indiquer le nom de la personne qui l’a donnée." in text
    assert "Réponse de l’organisation" in text  # a field's label
    assert "Confirmée\u00a0: signe la lettre" in text  # a choice's label


def test_the_invitations_list_names_answers_and_messages_in_french(
    french_staff, english_staff, counts_world: CountsWorld
) -> None:
    path = f"/staff/c/{COUNTS_SLUG}/invitations"
    english = _text(english_staff.get(path))
    assert "invite: sent" in english  # positive control: the core's words, in English
    text = _text(french_staff.get(path))
    assert "invitation\u00a0: envoyé" in text
    assert "confirmée" in text
    assert "invite: sent" not in text
    assert "11 organisations affichées sur 11." in text


def test_signing_out_after_the_idle_timeout_keeps_the_language(
    signed_in, monkeypatch: pytest.MonkeyPatch
) -> None:
    import time

    from coalitionletter.web.console import auth

    client = signed_in(STAFF_EMAIL)
    assert "Campagnes" in _text(client.get("/staff/?lang=fr"))
    now = time.time()
    monkeypatch.setattr(auth.time, "time", lambda: now + 31 * 60)
    response = client.get("/staff/")
    assert response.headers["Location"] == "/staff/login"
    login = _text(client.get("/staff/login"))
    assert "Votre session a été fermée après 30 minutes d’inactivité." in login


def test_countries_are_named_in_french_on_french_pages(
    french_staff, english_staff, counts_world: CountsWorld
) -> None:
    dashboard = f"/staff/c/{COUNTS_SLUG}"
    assert "United Kingdom" in _text(english_staff.get(dashboard))  # positive control
    assert "Royaume-Uni" not in _text(english_staff.get(dashboard))
    text = _text(french_staff.get(dashboard))
    assert "Royaume-Uni" in text
    assert "United Kingdom" not in text
    listing = _text(french_staff.get("/staff/organisations"))
    assert "États-Unis" in listing
    assert "United States" not in listing


def test_wtforms_own_messages_are_in_french(french_staff, counts_world: CountsWorld) -> None:
    from coalitionletter.models import NAME_MAX

    org_id = min(counts_world.ids.values())
    path = f"/staff/c/{COUNTS_SLUG}/invitations/{org_id}/answer"
    token = csrf_in(french_staff.get(path).text)
    response = french_staff.post(
        path,
        data={"csrf_token": token, "action": "decline", "signer": "x" * (NAME_MAX + 1)},
    )
    assert response.status_code == 400
    text = _text(response)
    assert f"Le champ ne peut pas contenir plus de {NAME_MAX} caractères." in text
    assert "cannot be longer" not in text
