"""The core's refusals and counts on a French console page, and the same words in English.

The core raises its refusals as words with values (catalogs.N_, N_plural); the
console translates them into the page's language, while the CLI (and an English
page) keep the English words they always printed.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from bs4 import BeautifulSoup

from coalitionletter.db import Database
from fixtures_console import STAFF_EMAIL, csrf_in
from fixtures_counts import COUNTS_SLUG, CountsWorld
from fixtures_registry import snapshot

pytestmark = pytest.mark.usefixtures("console_accounts")

NBSP = "\u00a0"
NEW = "/staff/organisations/new"
IMPORT = "/staff/organisations/import"
LETTERS = f"/staff/c/{COUNTS_SLUG}/letters"
OLD = "0" * 64
BAD_LINE = (
    b"Organisation,Country,Type,Email,Website\r\n"
    b"PEN America,US,international NGO,ada@pen.example,pen.example\r\n"
    b"Bad Line,Narnia,NGO,,\r\n"
)


def _soup(response: Any) -> BeautifulSoup:
    return BeautifulSoup(response.text, "html.parser")


def _text(response: Any) -> str:
    return _soup(response).get_text(" ", strip=True)


@pytest.fixture
def french(console_client, staff_login):  # type: ignore[no-untyped-def]
    """Staff signed in from a browser that asks for French."""
    client = console_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "fr-CA,fr;q=0.9,en;q=0.5"
    staff_login(client, STAFF_EMAIL)
    return client


@pytest.fixture
def english(console_client, staff_login):  # type: ignore[no-untyped-def]
    """Staff signed in from a browser that names no language."""
    client = console_client()
    staff_login(client, STAFF_EMAIL)
    return client


def _add(client: Any, **fields: str) -> Any:
    token = csrf_in(client.get(NEW).text)
    return client.post(NEW, data={"csrf_token": token, "name": "", **fields})


def _field_error(page: Any, field: str) -> str:
    """The message the form shows beside one field."""
    error = _soup(page).find(id=f"{field}-error")
    assert error is not None, f"no error beside {field}: {_text(page)}"
    return error.get_text(" ", strip=True)


def _upload(client: Any, data: bytes, name: str = "orgs.csv") -> Any:
    form = {"csrf_token": csrf_in(client.get(IMPORT).text), "file": (io.BytesIO(data), name)}
    return client.post(IMPORT, data=form, content_type="multipart/form-data")


def _confirm(client: Any, page: Any) -> Any:
    form = _soup(page).select_one("form[action='/staff/organisations/import/confirm']")
    assert form is not None, _text(page)
    data = {i["name"]: i.get("value", "") for i in form.select("input")}
    return client.post("/staff/organisations/import/confirm", data=data)


def _build(client: Any, slug: str = COUNTS_SLUG) -> Any:
    page = f"/staff/c/{slug}/letters"
    token = csrf_in(client.get(page).text)
    return client.post(f"{page}/build", data={"csrf_token": token})


# --- (a) a field refused on the add-organisation form ----------------------------------


def test_a_refused_country_is_said_in_french_beside_its_field_and_nothing_is_added(
    french, database: Database
) -> None:
    before = snapshot(database)
    page = _add(french, name="Lantern Harbour Friends", country="Narnia")
    assert page.status_code == 400
    assert _field_error(page, "country") == (
        "Le pays 'Narnia' n’est pas un pays de la norme ISO 3166-1. Indiquez un code à "
        "deux lettres comme GB ou un nom anglais comme United Kingdom, ou laissez le champ "
        "vide."
    )
    assert "is not an ISO 3166-1 country" not in page.text
    assert snapshot(database) == before


def test_a_refused_character_names_the_field_and_the_reason_in_french(
    french, database: Database
) -> None:
    before = snapshot(database)
    page = _add(french, name="Human Rights\u202e First")
    assert page.status_code == 400
    assert _field_error(page, "name") == (
        f"Le champ «{NBSP}Nom{NBSP}» contient le caractère U+202E RIGHT-TO-LEFT OVERRIDE à la "
        "position 13 (un contrôle bidirectionnel invisible peut faire lire un nom imprimé "
        "comme un autre). Supprimez-le et réessayez."
    )
    assert snapshot(database) == before


def test_the_english_form_and_the_cli_give_todays_english_for_the_same_country(
    english, invoke, database: Database
) -> None:
    before = snapshot(database)
    english_words = (
        "Country 'Narnia' is not an ISO 3166-1 country. Give a two-letter code such as GB or "
        "an English name such as United Kingdom, or leave it empty."
    )
    page = _add(english, name="Lantern Harbour Friends", country="Narnia")
    assert page.status_code == 400
    assert _field_error(page, "country") == english_words
    result = invoke("org", "add", "Lantern Harbour Friends", "--country", "Narnia")
    assert result.exit_code != 0
    assert english_words in result.output
    assert snapshot(database) == before


def test_a_merge_the_registry_refuses_is_said_in_french(french, database: Database) -> None:
    added = _add(french, name="Lantern Harbour Friends")
    assert added.status_code == 302, _text(added)
    before = snapshot(database)
    page = french.get("/staff/organisations/merge?keep=lantern-harbour-friends&other=1")
    assert page.status_code == 400
    assert (
        "#1 Lantern Harbour Friends (slug lantern-harbour-friends) ne peut pas être fusionnée "
        "avec elle-même."
    ) in _text(page)
    assert snapshot(database) == before


# --- (b) an import problem, by line and column -----------------------------------------


def test_an_import_problem_is_listed_in_french_with_its_line_and_column(
    french, database: Database
) -> None:
    before = snapshot(database)
    page = _upload(french, BAD_LINE)
    assert page.status_code == 400
    problems = [li.get_text() for li in _soup(page).select("ul.problems li")]
    assert problems == [
        f"orgs.csv, ligne 3, colonne B (Country){NBSP}: Le pays 'Narnia' n’est pas un pays de "
        "la norme ISO 3166-1. Indiquez un code à deux lettres comme GB ou un nom anglais "
        "comme United Kingdom, ou laissez le champ vide."
    ]
    assert snapshot(database) == before


def test_the_same_import_problem_stays_english_on_an_english_page_and_in_the_cli(
    english, invoke, tmp_path: Path
) -> None:
    words = (
        "orgs.csv, line 3, column B (Country): Country 'Narnia' is not an ISO 3166-1 country. "
        "Give a two-letter code such as GB or an English name such as United Kingdom, or "
        "leave it empty."
    )
    page = _upload(english, BAD_LINE)
    assert [li.get_text() for li in _soup(page).select("ul.problems li")] == [words]
    (tmp_path / "orgs.csv").write_bytes(BAD_LINE)
    result = invoke("org", "import", str(tmp_path / "orgs.csv"), "--dry-run")
    assert result.exit_code == 1
    assert result.output.splitlines()[0] == "Error: 1 problem found; nothing was imported:"
    assert result.output.splitlines()[1] == f"  {tmp_path / 'orgs.csv'!s}{words[8:]}"


# --- a count notice with each language's plural forms ----------------------------------


@pytest.mark.parametrize(
    ("rows", "would", "done"),
    [
        (1, "1 organisation serait ajoutée", "1 organisation ajoutée"),
        (2, "2 organisations seraient ajoutées", "2 organisations ajoutées"),
    ],
)
def test_the_imports_count_is_said_with_the_french_singular_or_plural(
    french, rows: int, would: str, done: str
) -> None:
    data = b"Organisation\r\n" + b"".join(b"Org %d\r\n" % n for n in range(rows))
    dry_run = _upload(french, data)
    assert f"orgs.csv{NBSP}: {would}{NBSP}; mises à jour{NBSP}: 0" in _text(dry_run)
    confirmed = _confirm(french, dry_run)
    assert confirmed.status_code == 302
    shown = _text(french.get(confirmed.headers["Location"]))
    assert f"orgs.csv{NBSP}: {done}{NBSP}; mises à jour{NBSP}: 0" in shown


def test_the_imports_count_keeps_its_english_words_on_an_english_page(english) -> None:
    data = b"Organisation\r\nOrg 1\r\nOrg 2\r\n"
    done = _confirm(english, _upload(english, data))
    shown = _text(english.get(done.headers["Location"]))
    assert "orgs.csv: 2 organisations were added, 0 updated, 0 skipped" in shown


def test_a_french_build_says_how_many_files_with_the_french_plural(
    french, counts_world: CountsWorld, home: Path
) -> None:
    assert _build(french).status_code == 302
    said = _soup(french.get(LETTERS)).select_one("#result").get_text()
    folder = home / "letters" / COUNTS_SLUG / "out"
    assert f"8 fichiers produits pour {COUNTS_SLUG} dans {folder}{NBSP}: " in said
    assert "(dont 1 nommée uniquement dans les exemplaires remis)" in said
    assert f"Le journal de {COUNTS_SLUG} est vérifié{NBSP}; son ancre{NBSP}: " in said
    assert "Built 8 file(s)" not in said


# --- (c) a build refused ---------------------------------------------------------------


def test_a_build_refused_for_stale_consent_is_said_in_french_and_writes_nothing(
    french, signed_founding, add_signatories, founding_home: Path
) -> None:
    add_signatories(signed_founding, ["Old Text Org"], text_hash=OLD)
    slug = signed_founding.slug
    refused = _build(french, slug)
    assert refused.status_code == 409
    refusal = _soup(refused).select_one("#refusal").get_text()
    assert (
        f"1 confirmation a été donnée pour un texte antérieur de la lettre {slug}, elle ne "
        f"peut donc pas être imprimée sous le texte actuel{NBSP}:\n  - Old Text Org\n"
        f"Demandez une nouvelle confirmation (coalitionletter reconfirm {slug}){NBSP}; "
    ) in refusal
    assert "given to an earlier text" not in refusal
    assert not (founding_home / "letters" / slug / "out").exists()


def test_the_same_refusal_is_todays_english_in_the_cli(
    signed_founding, add_signatories, invoke
) -> None:
    add_signatories(signed_founding, ["Old Text Org"], text_hash=OLD)
    result = invoke("build", signed_founding.slug, "-q")
    assert result.exit_code != 0
    assert (
        f"1 confirmation was given to an earlier text of the {signed_founding.slug} letter, "
        "so it cannot be printed under the current text:\n  - Old Text Org\n"
    ) in result.output


# --- (d) the trail's kinds on the audit page -------------------------------------------


def _kinds(page: Any) -> tuple[dict[str, str], set[str]]:
    """The kind filter's choices (value: shown) and the kinds shown in the table."""
    soup = _soup(page)
    choices = {o["value"]: o.get_text() for o in soup.select("select#kind option") if o["value"]}
    shown = {row.select("td")[2].get_text() for row in soup.select("table.trail tbody tr")}
    return choices, shown


def test_the_audit_page_names_the_trails_kinds_in_french(french, counts_world: CountsWorld) -> None:
    choices, shown = _kinds(french.get(f"/staff/c/{COUNTS_SLUG}/audit"))
    assert choices["confirmed"] == "confirmée"
    assert choices["withdrawn"] == "retirée"
    assert {"confirmée", "retirée"} <= shown
    assert "confirmed" not in shown


def test_the_english_audit_page_names_the_kinds_as_the_trail_stores_them(
    english, counts_world: CountsWorld
) -> None:
    choices, shown = _kinds(english.get(f"/staff/c/{COUNTS_SLUG}/audit"))
    assert choices["confirmed"] == "confirmed"
    assert all(value == label for value, label in choices.items())
    assert {"confirmed", "withdrawn"} <= shown
