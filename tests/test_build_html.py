"""`coalitionletter build`: the HTML letters and the list beside them, checked by parsing."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from coalitionletter.build.output_files import safe_join
from coalitionletter.campaigns import catalogue as campaigns
from coalitionletter.errors import OutputPathError
from fixtures_letters import CHINESE_NAME, LEAD_NAME, SIGNED, UYGHUR_NAME, Org

FOUNDING = "ilp-magnitsky-2020"
HIDDEN = Org("Hidden Voices", listing="governments_only")


def out_dir(home: Path) -> Path:
    return home / "letters" / FOUNDING / "out"


def build_html(invoke, *args: str):
    """Build the HTML letters, which must succeed."""
    result = invoke("build", "--format", "html", "-q", *args)
    assert result.exit_code == 0, result.output
    return result


def refused_build(invoke, *args: str):
    """Build the HTML letters, which must be refused."""
    result = invoke("build", "--format", "html", "-q", *args)
    assert result.exit_code != 0, result.output
    return result


def soup(path: Path) -> BeautifulSoup:
    return BeautifulSoup(path.read_text("utf-8"), "lxml")


def listed_names(page: BeautifulSoup) -> list[str]:
    return [li.get_text() for li in page.select(".signatories ul.names li")]


def placeholder(page: BeautifulSoup, name: str) -> str:
    return page.select_one(f'.body span[data-placeholder="{name}"]').get_text()


def test_the_uk_letter_is_addressed_dated_and_greeted(invoke, signed_founding, founding_home):
    build_html(invoke)
    page = soup(out_dir(founding_home) / "uk.html")
    address = page.select_one("address.recipient")
    assert address.select_one(".recipient-name").get_text() == "The Rt Hon Dominic Raab MP"
    lines = [span.get_text() for span in address.select(".address-line")]
    assert lines == ["King Charles Street", "London SW1A 2AH", "United Kingdom"]
    assert page.select_one("p.date").get_text() == "18 August 2020"
    assert page.select_one("p.salutation").get_text() == "Dear Foreign Secretary,"
    assert page.html["lang"] == "en-GB"


def test_the_canadian_letter_is_dated_the_canadian_way(invoke, signed_founding, founding_home):
    build_html(invoke, "--recipient", "canada")
    page = soup(out_dir(founding_home) / "canada.html")
    assert page.select_one("p.date").get_text() == "August 18, 2020"
    assert page.select_one(".recipient-name").get_text() == (
        "The Honourable François-Philippe Champagne, P.C., M.P."
    )
    assert not (out_dir(founding_home) / "uk.html").exists()


def test_every_confirmed_name_is_listed_once_lead_first(invoke, signed_founding, founding_home):
    build_html(invoke)
    names = listed_names(soup(out_dir(founding_home) / "uk.html"))
    assert sorted(names) == sorted(SIGNED)
    assert names[0] == LEAD_NAME
    assert names.index(CHINESE_NAME) < names.index("Free Tibet Example") < names.index(UYGHUR_NAME)


def test_the_count_in_the_body_equals_the_names_in_the_list(invoke, signed_founding, founding_home):
    build_html(invoke)
    page = soup(out_dir(founding_home) / "uk.html")
    assert int(placeholder(page, "signatory_count")) == len(listed_names(page)) == len(SIGNED)
    assert placeholder(page, "signatory_count_words") == "eight"
    sentence = page.select_one(".body p").get_text()
    assert "We write as eight (8) human rights organisations, listed below" in sentence


def test_a_name_full_of_html_prints_exactly_as_written(invoke, signed_founding, founding_home):
    build_html(invoke)
    html = (out_dir(founding_home) / "uk.html").read_text("utf-8")
    assert "<b>X</b>" not in html
    assert "&lt;b&gt;X&lt;/b&gt; &amp; Co" in html
    assert "<b>X</b> & Co" in listed_names(soup(out_dir(founding_home) / "uk.html"))


def test_a_right_to_left_name_is_marked_right_to_left(invoke, signed_founding, founding_home):
    build_html(invoke)
    page = soup(out_dir(founding_home) / "uk.html")
    item = next(li for li in page.select("ul.names li") if li.get_text() == UYGHUR_NAME)
    assert item["dir"] == "rtl"


def test_the_list_of_who_is_named_is_written_beside_the_letters(
    invoke, signed_founding, founding_home
):
    build_html(invoke)
    listing = json.loads((out_dir(founding_home) / "signatories.json").read_text("utf-8"))
    assert listing["count"] == len(SIGNED) and listing["withheld"] == 0
    assert [row["name"] for row in listing["signatories"]] == listed_names(
        soup(out_dir(founding_home) / "uk.html")
    )
    assert listing["text_hash"] == signed_founding.text_hash


def _csv_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))


def test_the_list_beside_the_letters_is_the_export(invoke, signed_founding, founding_home):
    build_html(invoke)
    exported = invoke("export", FOUNDING)
    assert exported.exit_code == 0, exported.output
    beside = _csv_rows((out_dir(founding_home) / "signatories.csv").read_text("utf-8"))
    assert len(beside) == len(SIGNED)  # positive control: the list holds everyone signed
    assert _csv_rows(exported.stdout) == beside  # the same columns, rows and values


def test_the_csv_list_cannot_run_spreadsheet_formulas(
    invoke, founding, add_signatories, founding_home
):
    add_signatories(founding, [LEAD_NAME, '=HYPERLINK("http://x")', "@Rights"])
    build_html(invoke)
    with (out_dir(founding_home) / "signatories.csv").open(encoding="utf-8-sig", newline="") as f:
        names = [row["name"] for row in csv.DictReader(f)]
    assert sorted(names) == sorted([LEAD_NAME, '\'=HYPERLINK("http://x")', "'@Rights"])


def test_the_csv_list_starts_with_a_byte_order_mark_and_the_json_does_not(
    invoke, founding, add_signatories, founding_home
):
    add_signatories(founding, [LEAD_NAME, "加拿大香港之友"])
    assert build_html(invoke).exit_code == 0
    assert (
        (out_dir(founding_home) / "signatories.csv")
        .read_bytes()
        .startswith(b"\xef\xbb\xbfposition,name,")
    )
    assert (out_dir(founding_home) / "signatories.json").read_bytes().startswith(b"{")


def test_public_copies_never_contain_names_withheld_for_safety(
    invoke, founding, add_signatories, founding_home
):
    add_signatories(
        founding, [LEAD_NAME, "Open Rights", Org("Hidden Voices", listing="governments_only")]
    )
    build_html(invoke)
    folder = out_dir(founding_home)
    public = (folder / "uk.public.html").read_bytes() + (
        folder / "signatories.public.csv"
    ).read_bytes()
    public += (folder / "signatories.public.json").read_bytes()
    assert b"Hidden" not in public
    page = soup(folder / "uk.public.html")
    assert listed_names(page) == [LEAD_NAME, "Open Rights"]
    assert page.select_one("p.withheld").get_text() == (
        "and 1 organisation that cannot be named for its safety"
    )
    assert placeholder(page, "signatory_count") == "3"


def test_delivered_copies_name_everyone(invoke, founding, add_signatories, founding_home):
    add_signatories(
        founding, [LEAD_NAME, "Open Rights", Org("Hidden Voices", listing="governments_only")]
    )
    build_html(invoke)
    page = soup(out_dir(founding_home) / "uk.delivered.html")
    assert listed_names(page) == [LEAD_NAME, "Hidden Voices", "Open Rights"]
    assert page.select_one("p.withheld") is None
    assert not (out_dir(founding_home) / "uk.html").exists()


def test_when_nobody_is_withheld_there_is_one_plain_copy(invoke, signed_founding, founding_home):
    build_html(invoke)
    names = sorted(p.name for p in out_dir(founding_home).iterdir() if not p.name.startswith("."))
    assert names == ["canada.html", "signatories.csv", "signatories.json", "uk.html"]


def test_superseded_variant_files_are_removed(invoke, founding, add_signatories, founding_home):
    add_signatories(founding, [LEAD_NAME])
    build_html(invoke)
    add_signatories(founding, [Org("Hidden Voices", listing="governments_only")])
    result = build_html(invoke)
    assert "Removed superseded uk.html" in result.output
    assert not (out_dir(founding_home) / "uk.html").exists()
    assert (out_dir(founding_home) / "uk.public.html").exists()


def test_a_campaign_template_overrides_and_extends_the_default(
    invoke, signed_founding, founding_home
):
    templates = founding_home / "letters" / FOUNDING / "templates"
    templates.mkdir()
    (templates / "letter.html").write_text(
        '{% extends "default:letter.html" %}\n'
        '{% block subject %}<p class="subject">Re: Magnitsky sanctions (override)</p>'
        "{% endblock %}\n",
        "utf-8",
    )
    build_html(invoke)
    page = soup(out_dir(founding_home) / "uk.html")
    assert page.select_one("p.subject").get_text() == "Re: Magnitsky sanctions (override)"
    assert page.select_one("p.salutation").get_text() == "Dear Foreign Secretary,"


@pytest.mark.parametrize("reference", ["{server}/spy.css", "file:///etc/passwd"])
def test_a_template_reaching_outside_is_refused_and_nothing_is_written(
    invoke, signed_founding, founding_home, http_server, reference
):
    server, requests = http_server
    url = reference.format(server=server)
    templates = founding_home / "letters" / FOUNDING / "templates"
    templates.mkdir()
    (templates / "letter.html").write_text(
        '{% extends "default:letter.html" %}\n'
        f'{{% block head %}}<link rel="stylesheet" href="{url}">{{% endblock %}}\n',
        "utf-8",
    )
    result = invoke("build", "-q")
    assert result.exit_code != 0
    assert url in result.output and "nothing was fetched" in result.output
    assert requests == []
    assert not out_dir(founding_home).exists()


@pytest.mark.parametrize("website", ["{server}/logo.png", "file:///etc/passwd"])
def test_a_website_field_used_as_an_image_is_refused(  # noqa: PLR0917 - pytest fixtures
    invoke, founding, add_signatories, founding_home, http_server, website
):
    server, requests = http_server
    add_signatories(founding, [Org(LEAD_NAME, website=website.format(server=server))])
    templates = founding_home / "letters" / FOUNDING / "templates" / "letter"
    templates.mkdir(parents=True)
    (templates / "signatories.html").write_text(
        '{% for group in groups %}{% for entry in group.entries %}<img src="{{ entry.website }}">'
        "{% endfor %}{% endfor %}",
        "utf-8",
    )
    result = invoke("build", "-q", "--recipient", "uk")
    assert result.exit_code != 0
    assert website.format(server=server) in result.output
    assert "nothing was fetched" in result.output
    assert requests == []
    assert not out_dir(founding_home).exists()


def test_stale_consent_is_refused_and_nothing_is_written(
    invoke, founding, add_signatories, founding_home
):
    add_signatories(founding, [LEAD_NAME])
    add_signatories(founding, ["Old Text Org"], text_hash="0" * 64)
    result = refused_build(invoke)
    assert "earlier text" in result.output and "Old Text Org" in result.output
    assert "--allow-stale" in result.output
    assert not out_dir(founding_home).exists()


def test_allow_stale_lists_them_with_a_warning(invoke, founding, add_signatories, founding_home):
    add_signatories(founding, [LEAD_NAME])
    add_signatories(founding, ["Old Text Org"], text_hash="0" * 64)
    result = build_html(invoke, "--allow-stale")
    assert "Warning: Listed 1 organisation(s) whose confirmation was given to an earlier" in (
        result.output
    )
    assert "Old Text Org" in listed_names(soup(out_dir(founding_home) / "uk.html"))


TOTO = "Toto Rights \U0001e290\U0001e291"


def test_a_name_no_font_can_draw_stops_the_build(invoke, founding, add_signatories, founding_home):
    add_signatories(founding, [LEAD_NAME, TOTO])
    result = refused_build(invoke)
    assert f"organisation {TOTO!r}: no installed font has U+1E290 TOTO LETTER PA" in result.output
    assert "--allow-missing-glyphs" in result.output
    assert not out_dir(founding_home).exists()


def test_allow_missing_glyphs_builds_with_a_warning(
    invoke, founding, add_signatories, founding_home
):
    add_signatories(founding, [LEAD_NAME, TOTO])
    result = build_html(invoke, "--allow-missing-glyphs")
    assert "Warning: Missing glyphs: organisation" in result.output
    assert TOTO in listed_names(soup(out_dir(founding_home) / "uk.html"))


def test_an_unchanged_rebuild_writes_nothing(invoke, signed_founding, founding_home):
    build_html(invoke)
    before = (out_dir(founding_home) / "uk.html").stat().st_mtime_ns
    result = build_html(invoke)
    assert result.exit_code == 0
    assert "Nothing changed" in result.output
    assert (out_dir(founding_home) / "uk.html").stat().st_mtime_ns == before


def test_a_new_signatory_rebuilds(invoke, signed_founding, add_signatories, founding_home):
    build_html(invoke)
    add_signatories(signed_founding, ["Late Rights"])
    result = build_html(invoke)
    assert "Built 4 file(s)" in result.output
    assert "Late Rights" in listed_names(soup(out_dir(founding_home) / "uk.html"))


def test_force_rebuilds_byte_for_byte(invoke, signed_founding, founding_home):
    build_html(invoke)
    first = (out_dir(founding_home) / "uk.html").read_bytes()
    result = build_html(invoke, "--force")
    assert "Built 4 file(s)" in result.output
    assert (out_dir(founding_home) / "uk.html").read_bytes() == first


def test_out_puts_the_files_elsewhere(invoke, signed_founding, founding_home, tmp_path):
    target = tmp_path / "elsewhere"
    build_html(invoke, "--out", str(target))
    assert (target / "uk.html").is_file() and not out_dir(founding_home).exists()


def test_an_unknown_recipient_lists_the_real_ones(invoke, signed_founding, founding_home):
    result = refused_build(invoke, "--recipient", "france")
    assert "has no recipient 'france'. Its recipients are: uk, canada." in result.output
    assert not out_dir(founding_home).exists()


def test_building_before_init_says_to_run_init(invoke, founding_home):
    result = invoke("build")
    assert result.exit_code != 0
    assert "coalitionletter init" in result.output


def test_output_names_cannot_leave_the_output_folder(tmp_path):
    for name in ("../escape.html", "/etc/passwd", "a/../../b.pdf", ".hidden"):
        with pytest.raises(OutputPathError):
            safe_join(tmp_path, name)
    assert safe_join(tmp_path, "uk.public.pdf") == tmp_path.resolve() / "uk.public.pdf"


def test_progress_is_shown_file_by_file(invoke, signed_founding, founding_home):
    result = invoke("build", "--format", "html")
    assert result.exit_code == 0, result.output
    for step, name in enumerate(["uk.html", "canada.html"], start=1):
        assert f"[{step}/4] {name}" in result.output


def test_an_unchanged_rebuild_loads_neither_jinja_nor_weasyprint(
    invoke, signed_founding, founding_home, settings
):
    build_html(invoke)
    script = (
        "import sys\n"
        "from coalitionletter.cli import cli\n"
        f"cli(['--home', {str(founding_home)!r}, '--db', {settings.db_url!r},"
        " 'build', '--format', 'html'],"
        " standalone_mode=False)\n"
        "print('loaded:', sorted(m for m in ('jinja2', 'weasyprint', 'markdown_it', 'pyuca')"
        " if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    assert "Nothing changed" in result.stdout
    assert "loaded: []" in result.stdout


def test_names_can_be_grouped_by_country(
    invoke, founding_home, settings, database, add_signatories
):
    toml = founding_home / "letters" / FOUNDING / "letter.toml"
    toml.write_text(toml.read_text("utf-8").replace('"none"', '"country"'), "utf-8")
    definition = campaigns.load(settings, FOUNDING)
    with database.writing() as session:
        campaigns.sync(session, definition)
    add_signatories(
        definition,
        [Org(LEAD_NAME), Org("Uyghur Hjelp", country="NO"), Org("Rights Canada", country="CA")],
    )
    build_html(invoke)
    page = soup(out_dir(founding_home) / "uk.html")
    assert [h.get_text() for h in page.select(".signatories h3.group")] == ["Canada", "Norway"]
    assert listed_names(page) == [LEAD_NAME, "Rights Canada", "Uyghur Hjelp"]


def test_the_recording_server_would_see_a_request(http_server):
    """The control for the SSRF tests: a fetch that did happen is recorded."""
    server, requests = http_server
    with urllib.request.urlopen(f"{server}/probe", timeout=10) as response:
        assert response.status == 200
    assert requests == ["/probe"]


def test_a_build_date_letter_takes_its_date_from_source_date_epoch(
    invoke, signed_founding, founding_home
):
    toml = founding_home / "letters" / FOUNDING / "letter.toml"
    toml.write_text(
        toml.read_text("utf-8").replace("letter_date = 2020-08-18", 'letter_date = "build date"'),
        "utf-8",
    )
    result = invoke("build", "--format", "html", "-q", env={"SOURCE_DATE_EPOCH": "1600000000"})
    assert result.exit_code == 0, result.output
    assert soup(out_dir(founding_home) / "uk.html").select_one("p.date").get_text() == (
        "13 September 2020"
    )


def test_a_bad_source_date_epoch_is_refused(invoke, signed_founding, founding_home):
    result = invoke("build", "--format", "html", env={"SOURCE_DATE_EPOCH": "yesterday"})
    assert result.exit_code != 0
    assert "SOURCE_DATE_EPOCH='yesterday' is not a number of seconds" in result.output
    assert not out_dir(founding_home).exists()


def bytes_and_time(path: Path) -> tuple[bytes, int]:
    return path.read_bytes(), path.stat().st_mtime_ns


def test_an_unchanged_rebuild_leaves_the_manifest_as_it_was(invoke, signed_founding, founding_home):
    build_html(invoke)
    manifest = out_dir(founding_home) / ".coalitionletter-build.json"
    before = bytes_and_time(manifest)
    result = build_html(invoke)
    assert "Nothing changed" in result.output
    assert bytes_and_time(manifest) == before


def test_force_renders_again_but_leaves_identical_files_untouched(
    invoke, signed_founding, founding_home
):
    build_html(invoke)
    letter = out_dir(founding_home) / "uk.html"
    before = bytes_and_time(letter)
    result = build_html(invoke, "--force")
    assert "Built 4 file(s)" in result.output
    assert bytes_and_time(letter) == before


def test_a_letter_edited_on_disk_is_written_over_by_the_next_build(
    invoke, signed_founding, founding_home
):
    build_html(invoke)
    letter = out_dir(founding_home) / "uk.html"
    built = letter.read_bytes()
    letter.write_bytes(built.replace(b"International Lawyers Project", b"Someone Else", 1))
    result = build_html(invoke)
    assert "uk.html" in result.output
    assert letter.read_bytes() == built


def test_the_letter_page_has_a_viewport_one_h1_and_a_main(invoke, signed_founding, founding_home):
    assert build_html(invoke).exit_code == 0
    page = soup(out_dir(founding_home) / "uk.html")
    viewport = page.select_one('head meta[name="viewport"]')
    assert viewport is not None and "width=device-width" in viewport["content"]
    [heading] = page.select("h1")
    assert heading.get_text() == f"Re: {signed_founding.title}"
    [main] = page.select("main")
    assert main.select_one("article.letter .signatories") is not None


def test_each_chinese_run_in_a_name_is_one_unbreakable_span_with_its_language(
    invoke, founding, add_signatories, founding_home
):
    add_signatories(
        founding,
        [
            LEAD_NAME,
            Org("Hong Kong Democracy Council (香港民主委員會)", country="US"),
            Org("世界维吾尔代表大会", country="DE"),
            Org("加拿大香港之友", country="HK"),
            Org("Plain Latin Group", country="GB"),
        ],
    )
    assert build_html(invoke).exit_code == 0
    page = soup(out_dir(founding_home) / "uk.html")
    spans = {span.get_text(): span["lang"] for span in page.select("ul.names li span.han")}
    assert spans == {
        "香港民主委員會": "zh-Hant",
        "世界维吾尔代表大会": "zh-Hans",
        "加拿大香港之友": "zh-Hant",
    }
    assert "Hong Kong Democracy Council (香港民主委員會)" in listed_names(page)
    assert ".han { white-space: nowrap; }" in page.select_one("style").get_text()


@pytest.mark.browser
def test_the_letter_page_has_no_serious_accessibility_violation(
    invoke, signed_founding, founding_home, browser_page, axe
):
    assert build_html(invoke).exit_code == 0
    browser_page.set_content((out_dir(founding_home) / "uk.html").read_text("utf-8"))
    assert axe(browser_page) == []


def test_the_lists_beside_the_letters_name_only_the_signers_who_agreed_to_the_public_list(
    invoke, founding, add_signatories, founding_home
):
    add_signatories(
        founding,
        [
            Org(LEAD_NAME, signer=("Ewelina Ochab", "Co-founder"), signer_public=True),
            Org("Quiet Rights", signer=("Aynur Tursun", "Director")),
        ],
    )
    assert build_html(invoke).exit_code == 0
    folder = out_dir(founding_home)
    rows = _csv_rows((folder / "signatories.csv").read_text("utf-8"))
    signers = {row["name"]: (row["signer_name"], row["signer_title"]) for row in rows}
    assert signers == {LEAD_NAME: ("Ewelina Ochab", "Co-founder"), "Quiet Rights": ("", "")}
    listing = (folder / "signatories.json").read_text("utf-8")
    assert "Ewelina Ochab" in listing  # positive control: the agreed signer is named
    assert "Aynur Tursun" not in listing
