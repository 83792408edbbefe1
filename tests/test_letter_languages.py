"""A letter in several languages: the versions letter.toml defines, their hashes, the files built.

One list of signatories for every version: an organisation that confirmed the
French text is a signatory of the English letter too, named exactly as written.
"""

from __future__ import annotations

import re
import subprocess
import textwrap
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from pypdf import PdfReader

from coalitionletter.campaigns import catalogue as campaigns
from coalitionletter.campaigns.letter_text import consent_hash
from coalitionletter.errors import CampaignError, RenderError
from coalitionletter.render import number_words
from fixtures_letters import CHINESE_NAME, LEAD_NAME, SIGNED, UYGHUR_NAME, write_campaign

FOUNDING = "ilp-magnitsky-2020"
FRENCH_SIGNER = "Ligue des droits « Québec » – Montréal"
# A name in a third script, confirmed to the French text.
ARMENIAN_SIGNER = "Հայաստանի Հելսինկյան Կոմիտե"

BILINGUAL_TOML = textwrap.dedent(
    """\
    title = "A test letter"
    letter_date = 2020-08-18
    closing = "Yours sincerely,"
    language = "en"
    bilingual = "one-pdf"

    [languages.fr]
    title = "Une lettre d'essai"
    closing = "Veuillez agréer nos salutations distinguées."

    [lead]
    name = "International Lawyers Project"

    [[recipients]]
    key = "canada"
    name = "Test Minister"
    title = "Minister"
    address_lines = ["Ottawa"]
    salutation = "Dear Minister,"
    locale = "en-CA"
    languages = ["en", "fr"]

    [recipients.translations.fr]
    title = "Ministre"
    salutation = "Monsieur le Ministre,"
    """
)
FRENCH_BODY = "Nous, {{ signatory_count_words }} ({{ signatory_count }}) organisations, écrivons.\n"


def write_bilingual(home: Path, toml: str = BILINGUAL_TOML) -> Path:
    """A small campaign in English and French; returns its folder."""
    folder = write_campaign(home, toml=toml)
    (folder / "body.fr.md").write_text(FRENCH_BODY, "utf-8")
    return folder


def out_dir(home: Path) -> Path:
    return home / "letters" / FOUNDING / "out"


def _ok(result) -> str:  # type: ignore[no-untyped-def]
    assert result.exit_code == 0, result.output
    return result.output


# --- the versions letter.toml defines ---------------------------------------------------


def test_the_founding_letter_is_in_english_and_french(founding_home, settings):
    definition = campaigns.load(settings, FOUNDING)
    assert definition.languages == ("en", "fr")
    uk, canada = definition.recipients
    assert uk.languages == ("en",)
    assert canada.languages == ("en", "fr")
    french = canada.in_language("fr")
    assert french.salutation == "Monsieur le Ministre,"
    assert french.full_name == "L'honorable François-Philippe Champagne, c.p., député"
    assert french.locale == "fr-CA"
    assert definition.version("fr").closing.startswith("Veuillez agréer, Monsieur le Ministre")


def test_each_language_version_has_its_own_hash_of_its_own_words(founding_home, settings):
    definition = campaigns.load(settings, FOUNDING)
    folder = founding_home / "letters" / FOUNDING
    french = definition.version("fr")
    assert french.text_hash == consent_hash(
        (folder / "body.fr.md").read_text("utf-8"), french.title, french.closing, LEAD_NAME, "fr"
    )
    assert definition.version("en").text_hash == definition.text_hash
    assert french.text_hash != definition.text_hash
    assert definition.current_hashes >= {definition.text_hash, french.text_hash}


def test_a_one_language_campaign_keeps_its_hash_and_has_one_version(home, settings):
    write_campaign(home)
    definition = campaigns.load(settings, "test-letter")
    assert definition.languages == ("en",)
    assert definition.recipients[0].languages == ("en",)
    body = (home / "letters" / "test-letter" / "body.md").read_text("utf-8")
    assert definition.text_hash == consent_hash(
        body, "A test letter", "Yours sincerely,", LEAD_NAME
    )


def test_a_recipient_translation_falls_back_to_its_own_fields(home, settings):
    write_bilingual(home)
    (recipient,) = campaigns.load(settings, "test-letter").recipients
    french = recipient.in_language("fr")
    assert (french.title, french.salutation) == ("Ministre", "Monsieur le Ministre,")
    assert french.name == "Test Minister" and french.address_lines == ("Ottawa",)
    assert french.locale == "fr-CA"  # the recipient's region in the version's language


# --- validation: the message says file, field and what to do, and nothing is built -----

FRENCH_CLOSING = 'closing = "Veuillez agréer nos salutations distinguées."\n'
FRENCH_ADDRESS = (
    '[recipients.translations.fr]\ntitle = "Ministre"\nsalutation = "Monsieur le Ministre,"\n'
)
ENGLISH_TABLE = '[languages.en]\ntitle = "x"\nclosing = "y"\n\n[languages.fr]'
INVALID = {
    "the French body is missing": (
        lambda folder: (folder / "body.fr.md").unlink(),
        ["body.fr.md does not exist", "[languages.fr]", "remove the [languages.fr] table"],
    ),
    "a body without its table": (
        lambda folder: (folder / "body.de.md").write_text("Wir schreiben.\n", "utf-8"),
        ["body.de.md", "no [languages.de] table", "or remove body.de.md"],
    ),
    "a version without its closing": (
        lambda folder: _edit(folder, FRENCH_CLOSING, ""),
        ["letter.toml", "closing is missing in [languages.fr]", 'Add closing = "..."'],
    ),
    "a recipient asking for a language the letter lacks": (
        lambda folder: _edit(folder, '"en", "fr"]', '"en", "fr", "de"]'),
        [
            "letter.toml:",
            "recipients.languages",
            "'de' is not a language of this letter",
            "[languages.de]",
        ],
    ),
    "a recipient receiving French without its French salutation": (
        lambda folder: _edit(folder, FRENCH_ADDRESS, ""),
        [
            "letter.toml:",
            "canada receives 'fr' but has no [recipients.translations.fr]",
            "salutation",
        ],
    ),
    "an unknown bilingual choice": (
        lambda folder: _edit(folder, 'bilingual = "one-pdf"', 'bilingual = "both"'),
        ["letter.toml:5", "bilingual", "'both' is not one of one-pdf, separate"],
    ),
    "a language name instead of a code": (
        lambda folder: _edit(folder, 'language = "en"', 'language = "English"'),
        ["letter.toml:4", "language", "'English' is not a language code such as \"en\""],
    ),
    "a table for the campaign's own language": (
        lambda folder: _edit(folder, "[languages.fr]", ENGLISH_TABLE),
        ["[languages.en]", "is the campaign's own language", "Remove the [languages.en] table"],
    ),
    "an unknown field in a version's table": (
        lambda folder: _edit(folder, "[languages.fr]\n", '[languages.fr]\nsubject = "x"\n'),
        ["languages.fr.subject", "is not a letter.toml field here (known: closing, title)"],
    ),
}


def _edit(folder: Path, old: str, new: str) -> None:
    path = folder / "letter.toml"
    text = path.read_text("utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new), "utf-8")


@pytest.mark.parametrize("case", INVALID, ids=list(INVALID))
def test_a_wrong_language_setup_is_refused_with_what_to_do_and_builds_nothing(
    case, home, database, invoke
):
    folder = write_bilingual(home)
    # positive control: the campaign as written builds
    _ok(invoke("init"))
    _ok(invoke("build", "test-letter", "--format", "html", "-q", "--out", str(home / "ok")))
    break_it, expected = INVALID[case]
    break_it(folder)

    result = invoke("build", "test-letter", "--format", "html", "-q")

    assert result.exit_code != 0
    for fragment in expected:
        assert fragment in result.output, (fragment, result.output)
    assert not (folder / "out").exists()


def test_a_recipient_translation_for_a_language_it_does_not_receive_is_refused(home, settings):
    folder = write_bilingual(home)
    _edit(folder, 'languages = ["en", "fr"]', 'languages = ["en"]')
    with pytest.raises(CampaignError, match=r"canada does not receive a version in 'fr'"):
        campaigns.load(settings, "test-letter")


# --- the count sentence in each language ------------------------------------------------


@pytest.mark.parametrize(
    ("count", "words"),
    [
        (1, "une"),
        (8, "huit"),
        (21, "vingt et une"),
        (71, "soixante et onze"),
        (80, "quatre-vingts"),
        (81, "quatre-vingt-une"),
        (101, "cent une"),
        (1001, "mille une"),
    ],
)
def test_french_counts_of_organisations_are_written_in_the_feminine(count, words):
    assert number_words(count, "fr-CA") == words


def test_english_counts_are_unchanged_by_the_other_languages():
    assert number_words(71, "en-CA") == "seventy-one"
    assert number_words(21, "en-GB") == "twenty-one"


def test_a_language_num2words_cannot_spell_is_refused_naming_what_to_do():
    with pytest.raises(RenderError, match=r"Numbers cannot be written in words in 'ug'"):
        number_words(3, "ug")


UYGHUR_TOML = (
    BILINGUAL_TOML.replace("[languages.fr]", "[languages.ug]")
    .replace('languages = ["en", "fr"]', 'languages = ["en", "ug"]')
    .replace("[recipients.translations.fr]", "[recipients.translations.ug]")
)


@pytest.mark.parametrize(
    ("body", "built"),
    [("بىز {{ signatory_count }} تەشكىلات.\n", True), ("{{ signatory_count_words }}\n", False)],
    ids=["counts in figures", "counts in words"],
)
def test_a_version_in_a_language_without_number_words_builds_only_with_figures(
    body, built, home, database, invoke
):
    folder = write_campaign(home, toml=UYGHUR_TOML)
    (folder / "body.ug.md").write_text(body, "utf-8")
    _ok(invoke("init"))

    result = invoke("build", "test-letter", "--format", "html", "-q")

    assert (result.exit_code == 0) is built, result.output
    assert (folder / "out" / "canada.html").exists() is built
    if not built:
        assert "Numbers cannot be written in words in 'ug'" in result.output


# --- one list in every version ----------------------------------------------------------


@pytest.fixture
def french_signed(founding, add_signatories, signed_founding):
    """The founding campaign with SIGNED confirmed to English and two organisations to French."""
    french = founding.version("fr").text_hash
    add_signatories(founding, [FRENCH_SIGNER, ARMENIAN_SIGNER], text_hash=french)
    return founding


def _articles(path: Path) -> list[BeautifulSoup]:
    return BeautifulSoup(path.read_text("utf-8"), "html.parser").find_all("article")


def _listed(article) -> list[str]:  # type: ignore[no-untyped-def]
    return [li.get_text() for li in article.select(".signatories li")]


def test_an_organisation_that_confirmed_the_french_text_is_in_every_letter_once(
    french_signed, founding_home, invoke
):
    _ok(invoke("build", "--format", "html", "-q"))

    english, french = _articles(out_dir(founding_home) / "canada.html")
    (uk,) = _articles(out_dir(founding_home) / "uk.html")
    for article in (english, french, uk):
        names = _listed(article)
        assert names.count(FRENCH_SIGNER) == 1
        assert names.count(ARMENIAN_SIGNER) == 1
        assert len(names) == len(SIGNED) + 2 == len(set(names))
    assert _listed(english) == _listed(french) == _listed(uk)


def test_the_list_beside_the_letters_names_the_hash_of_every_version(
    french_signed, founding_home, invoke
):
    import json

    _ok(invoke("build", "--format", "html", "-q", "--recipient", "uk"))

    listing = json.loads((out_dir(founding_home) / "signatories.json").read_text("utf-8"))
    assert listing["text_hashes"] == {
        "en": french_signed.text_hash,
        "fr": french_signed.version("fr").text_hash,
    }
    assert [row["name"] for row in listing["signatories"]].count(FRENCH_SIGNER) == 1


def test_names_in_every_script_print_exactly_as_written_in_both_versions(
    french_signed, founding_home, invoke
):
    _ok(invoke("build", "--format", "html", "-q", "--recipient", "canada"))

    for article in _articles(out_dir(founding_home) / "canada.html"):
        names = _listed(article)
        for name in (CHINESE_NAME, UYGHUR_NAME, ARMENIAN_SIGNER, FRENCH_SIGNER, "<b>X</b> & Co"):
            assert name in names


def test_each_version_is_addressed_dated_and_counted_in_its_language(
    french_signed, founding_home, invoke
):
    _ok(invoke("build", "--format", "html", "-q", "--recipient", "canada"))

    english, french = _articles(out_dir(founding_home) / "canada.html")
    assert english["lang"] == "en-CA" and french["lang"] == "fr-CA"
    count = len(SIGNED) + 2
    english_text = " ".join(english.get_text().split())
    french_text = " ".join(french.get_text().split())
    assert f"We write as ten ({count}) human rights organisations" in english_text
    assert f"Nous vous écrivons au nom de dix ({count}) organisations" in french_text
    assert "Dear Minister," in english_text and "Monsieur le Ministre," in french_text
    assert "August 18, 2020" in english_text and "18 août 2020" in french_text
    subject = french.find("h1").get_text(" ", strip=True)
    assert subject.startswith("Objet : Sanctions coordonnées de type Magnitski")
    assert french.find("h2").get_text() == "Signataires"


def test_the_french_count_takes_the_feminine_after_twenty(
    founding, add_signatories, founding_home, invoke
):
    add_signatories(founding, [f"Organisation numéro {n}" for n in range(21)])
    _ok(invoke("build", "--format", "html", "-q", "--recipient", "canada"))

    _english, french = _articles(out_dir(founding_home) / "canada.html")
    assert "au nom de vingt et une (21) organisations" in " ".join(french.get_text().split())


def test_a_withheld_count_reads_in_each_language(founding, add_signatories, founding_home, invoke):
    from fixtures_letters import Org

    hidden = [Org(name, listing="governments_only") for name in ("Hidden one", "Hidden two")]
    add_signatories(founding, [LEAD_NAME, *hidden])
    _ok(invoke("build", "--format", "html", "-q", "--recipient", "canada"))

    english, french = _articles(out_dir(founding_home) / "canada.public.html")
    assert english.find(class_="withheld").get_text() == (
        "and 2 organisations that cannot be named for their safety"
    )
    assert french.find(class_="withheld").get_text() == (
        "et 2 organisations qui ne peuvent être nommées pour leur sécurité"
    )


# --- PDFs: one bilingual PDF, or one per language -----------------------------------------


def _pdftotext(path: Path) -> str:
    done = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(path), "-"],
        capture_output=True,
        text=True,
        check=True,
    )
    return " ".join(done.stdout.split())


def _part_languages(path: Path) -> list[str | None]:
    """The /Lang of each top-level tagged part of a PDF, page by page."""
    reader = PdfReader(path)
    document = reader.trailer["/Root"]["/StructTreeRoot"]["/K"][0].get_object()
    return [part.get_object().get("/Lang") for part in document["/K"]]


@pytest.mark.slow
def test_one_bilingual_pdf_holds_both_versions_each_tagged_in_its_language(
    french_signed, founding_home, invoke
):
    _ok(invoke("build", "--format", "pdf", "-q", "--recipient", "canada"))

    pdf = out_dir(founding_home) / "canada.pdf"
    text = _pdftotext(pdf)
    assert text.index("Dear Minister,") < text.index("Monsieur le Ministre,")
    assert "Veuillez agréer, Monsieur le Ministre" in text and "Yours sincerely," in text
    assert text.count(FRENCH_SIGNER) == 2  # once in each version's list
    reader = PdfReader(pdf)
    assert reader.trailer["/Root"]["/Lang"] == "en-CA"
    languages = _part_languages(pdf)
    assert languages[0] == "en-CA" and languages[-1] == "fr-CA"
    assert languages == sorted(languages)  # English pages first, then French
    first_french = languages.index("fr-CA")
    page_text = reader.pages[first_french].extract_text()
    assert "Monsieur le Ministre," in page_text and "Dear Minister," not in page_text
    assert re.search(r"Page \d+ de \d+", page_text)
    assert reader.metadata.title.startswith("Coordinated Magnitsky sanctions")
    assert " / Sanctions coordonnées de type Magnitski" in reader.metadata.title


@pytest.mark.slow
def test_separate_pdfs_name_their_language_and_hold_only_it(french_signed, founding_home, invoke):
    toml = founding_home / "letters" / FOUNDING / "letter.toml"
    toml.write_text(
        toml.read_text("utf-8").replace('bilingual = "one-pdf"', 'bilingual = "separate"'),
        "utf-8",
    )
    _ok(invoke("build", "-q"))

    names = sorted(p.name for p in out_dir(founding_home).iterdir() if not p.name.startswith("."))
    assert names == [
        "canada.en.html", "canada.en.pdf", "canada.fr.html", "canada.fr.pdf",
        "signatories.csv", "signatories.json", "uk.html", "uk.pdf",
    ]  # fmt: skip
    english = _pdftotext(out_dir(founding_home) / "canada.en.pdf")
    french = _pdftotext(out_dir(founding_home) / "canada.fr.pdf")
    assert "Dear Minister," in english and "Monsieur le Ministre," not in english
    assert "Monsieur le Ministre," in french and "Dear Minister," not in french
    assert FRENCH_SIGNER in english and FRENCH_SIGNER in french
    assert re.search(r"Page 1 de \d+", french)
    assert PdfReader(out_dir(founding_home) / "canada.fr.pdf").trailer["/Root"]["/Lang"] == "fr-CA"
    page = BeautifulSoup(
        (out_dir(founding_home) / "canada.fr.html").read_text("utf-8"), "html.parser"
    )
    assert page.html["lang"] == "fr-CA"
