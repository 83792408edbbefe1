"""The printable count sheet: HTML parsed, PDF read back, on A4 and on Letter."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from click.testing import CliRunner
from pypdf import PdfReader

from coalitionletter.campaigns import catalogue as campaigns
from coalitionletter.cli import cli
from coalitionletter.db import Database, upgrade
from coalitionletter.models import Campaign, Contact
from coalitionletter.reports import countsheet
from coalitionletter.settings import Settings, load_settings
from fixtures_counts import (
    CHINESE_NAME,
    COUNTS_SLUG,
    UYGHUR_NAME,
    CountsWorld,
    act,
    add_org,
    make_world,
)

A4_POINTS = (595, 842)
LETTER_POINTS = (612, 792)


@dataclass(frozen=True)
class SheetFiles:
    """The sheet of the hand-made campaign, written once by the command for this module."""

    html: str
    a4: PdfReader
    letter: PdfReader
    messages: str


@pytest.fixture(scope="module")
def sheet_files(tmp_path_factory: pytest.TempPathFactory) -> SheetFiles:
    """Run `counts --html --pdf` (A4) and `counts --pdf --paper letter` once."""
    home = tmp_path_factory.mktemp("sheet") / "workspace"
    home.mkdir()
    settings = load_settings(home, environ={})
    database = Database(settings.db_url)
    upgrade(database)
    make_world(settings, database, home)
    database.dispose()
    runner = CliRunner()
    base = ["--home", str(home), "--db", str(home / "signatories.db"), "counts", COUNTS_SLUG]
    a4 = runner.invoke(
        cli, [*base, "--html", str(home / "sheet.html"), "--pdf", str(home / "a4.pdf")]
    )
    assert a4.exit_code == 0, a4.output
    letter = runner.invoke(cli, [*base, "--pdf", str(home / "letter.pdf"), "--paper", "letter"])
    assert letter.exit_code == 0, letter.output
    return SheetFiles(
        html=(home / "sheet.html").read_text("utf-8"),
        a4=PdfReader(home / "a4.pdf"),
        letter=PdfReader(home / "letter.pdf"),
        messages=a4.output,
    )


def _soup(html: str) -> BeautifulSoup:
    return BeautifulSoup(html, "lxml")


def _pdf_text(reader: PdfReader) -> str:
    return "\n".join(page.extract_text() for page in reader.pages)


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def test_the_sheet_shows_the_totals(sheet_files: SheetFiles):
    soup = _soup(sheet_files.html)
    shown = {
        key: soup.select_one(f"#total-{key}").get_text()
        for key in ("invited", "confirmed", "not_answered", "declined", "withdrawn")
    }
    assert shown == {
        "invited": "10",
        "confirmed": "4",
        "not_answered": "4",
        "declined": "1",
        "withdrawn": "1",
    }


def test_the_sheet_shows_title_deadline_and_days_left(sheet_files: SheetFiles):
    soup = _soup(sheet_files.html)
    assert soup.h1.get_text() == "Coordinated sanctions for abuses against Uyghurs"
    assert re.fullmatch(
        r"Deadline \d+ \w+ \d{4}, 17:00 \(UTC\): 12 days left",
        soup.select_one(".deadline").get_text(),
    )


def test_the_chart_has_a_bar_per_state_as_long_as_its_share(sheet_files: SheetFiles):
    svg = _soup(sheet_files.html).select_one("svg.chart")
    bars = svg.select("g.bar")
    assert [bar["class"][1] for bar in bars] == [
        "bar-confirmed",
        "bar-declined",
        "bar-withdrawn",
        "bar-viewed",
        "bar-not_viewed",
        "bar-email_failed",
    ]
    track = countsheet.CHART_TRACK
    confirmed = sum(float(r["width"]) for r in bars[0].select("rect[class^=segment]"))
    not_viewed = float(bars[4].select_one("rect.segment-not_viewed")["width"])
    assert (confirmed, not_viewed) == (0.4 * track, 0.2 * track)


def test_the_country_table_names_each_country_and_totals(sheet_files: SheetFiles):
    table = _soup(sheet_files.html).select_one("#by-country")
    countries = [row.td.get_text() for row in table.select("tbody tr")]
    assert countries[:2] == ["Canada", "Germany"]
    assert "United Kingdom" in countries
    total = [cell.get_text() for cell in table.select("tfoot td")]
    assert total[1:3] == ["10", "4"]


def test_the_sheet_lists_the_confirmed_as_the_letter_names_them(sheet_files: SheetFiles):
    names = [
        li.select_one(".name").get_text() for li in _soup(sheet_files.html).select("#confirmed li")
    ]
    assert names == [
        "International Lawyers Project",
        CHINESE_NAME,
        "Exiled Voices Collective",
        "Uyghur Human Rights Project",
    ]


def test_the_sheet_marks_those_named_to_governments_only(sheet_files: SheetFiles):
    marked = [
        li.select_one(".name").get_text()
        for li in _soup(sheet_files.html).select("#confirmed li")
        if li.select_one(".mark")
    ]
    assert marked == ["Exiled Voices Collective"]


def test_the_sheet_lists_whom_to_call_email_failures_first(sheet_files: SheetFiles):
    rows = _soup(sheet_files.html).select("#not-answered tbody tr")
    table = [
        [
            row.select_one(".org .name").get_text(),
            row.select_one(".org .country").get_text() if row.select_one(".org .country") else "",
            row.select_one(".contact").get_text(),
            row.select_one(".email").get_text(),
            row.select_one(".status .state").get_text(),
        ]
        for row in rows
    ]
    assert table == [
        ["Kazakh Rights Bureau", "KZ", "Serikzhan Bilash", "serikzhan@krb.example", "email failed"],
        ["Nordic Solidarity Network", "", "no contact on file", "", "not opened"],
        [UYGHUR_NAME, "TR", "Gulnaz Uighur", "gulnaz@uyghurwomen.example", "not opened"],
        ["Safeguard Defenders", "ES", "Laura Harth", "laura@safeguard.example", table[3][4]],
    ]
    assert table[3][4].startswith("opened ")


def test_a_right_to_left_name_is_marked_as_such(sheet_files: SheetFiles):
    names = _soup(sheet_files.html).select("#not-answered td.org .name")
    name = next(name for name in names if name.get_text() == UYGHUR_NAME)
    assert name["dir"] == "rtl"


def test_the_sheet_leaves_out_those_who_answered_from_the_call_list(sheet_files: SheetFiles):
    text = _soup(sheet_files.html).select_one("#not-answered").get_text()
    for name in ("Tibet Justice Centre", "Hong Kong Watch", "Not Invited Foundation"):
        assert name not in text


def test_the_sheet_needs_nothing_beside_it(sheet_files: SheetFiles):
    soup = _soup(sheet_files.html)
    assert soup.find("script") is None
    assert soup.find("link") is None
    assert soup.find("img") is None
    assert "http://" not in sheet_files.html.replace("http://www.w3.org/2000/svg", "")


def test_the_pdf_holds_the_totals(sheet_files: SheetFiles):
    text = _flat(_pdf_text(sheet_files.a4))
    assert "Where the 10 invitations stand" in text
    assert "Total (8 rows) 10 4 40%" in text
    assert "Confirmed: 3 named publicly, 1 named to governments only." in text


def test_the_pdf_holds_the_names_to_call_and_the_confirmed(sheet_files: SheetFiles):
    # Long names wrap in the narrow columns, so compare without white space.
    text = re.sub(r"\s+", "", _pdf_text(sheet_files.a4))
    for name in (
        "International Lawyers Project",
        "Exiled Voices Collective",
        CHINESE_NAME,
        "Kazakh Rights Bureau",
        "serikzhan@krb.example",
        UYGHUR_NAME,
    ):
        assert re.sub(r"\s+", "", name) in text, name


def test_every_page_says_the_sheet_is_confidential(sheet_files: SheetFiles):
    for page in sheet_files.a4.pages:
        assert "Confidential: lists contact people" in page.extract_text()


def test_the_a4_sheet_is_one_or_two_a4_pages(sheet_files: SheetFiles):
    sizes = {(round(p.mediabox.width), round(p.mediabox.height)) for p in sheet_files.a4.pages}
    assert 1 <= len(sheet_files.a4.pages) <= 2
    assert sizes == {A4_POINTS}


def test_the_letter_sheet_is_one_or_two_letter_pages(sheet_files: SheetFiles):
    sizes = {(round(p.mediabox.width), round(p.mediabox.height)) for p in sheet_files.letter.pages}
    assert 1 <= len(sheet_files.letter.pages) <= 2
    assert sizes == {LETTER_POINTS}


def test_writing_the_sheet_warns_it_holds_contact_data(sheet_files: SheetFiles):
    assert "keep it within the coalition" in sheet_files.messages


def test_markup_in_an_organisation_name_is_printed_as_text(
    counts_world: CountsWorld, settings: Settings, database: Database
):
    with database.writing() as session:
        campaign = session.query(Campaign).filter_by(slug=COUNTS_SLUG).one()
        organisation = add_org(session, "<b>Bold</b> & <script>alert(1)</script> Co", "FR")
        act(session, campaign, organisation.id, "invite", "")
    with database.reading() as session:
        sheet = countsheet.build_sheet(settings, session, COUNTS_SLUG)
    soup = _soup(countsheet.render_html(sheet))
    assert soup.find("script") is None
    assert soup.select_one("#not-answered b") is None
    names = [name.get_text() for name in soup.select("#not-answered td.org .name")]
    assert "<b>Bold</b> & <script>alert(1)</script> Co" in names


def test_an_unknown_paper_size_is_refused(
    counts_world: CountsWorld, settings: Settings, database: Database
):
    from coalitionletter.errors import ReportError

    with database.reading() as session, pytest.raises(ReportError) as caught:
        countsheet.build_sheet(settings, session, COUNTS_SLUG, paper="a3")
    assert "a3" in str(caught.value)
    assert "a4, letter" in str(caught.value)


def test_a_campaign_without_answers_says_so(settings: Settings, database: Database, home: Path):
    from datetime import UTC, datetime

    from coalitionletter.campaigns import catalogue as campaigns
    from fixtures_counts import write_counts_campaign

    write_counts_campaign(home, datetime(2099, 1, 1, tzinfo=UTC), slug="quiet-letter")
    with database.writing() as session:
        campaigns.sync(session, campaigns.load(settings, "quiet-letter"))
    with database.reading() as session:
        sheet = countsheet.build_sheet(settings, session, "quiet-letter")
    soup = _soup(countsheet.render_html(sheet))
    assert soup.select_one("#total-invited").get_text() == "0"
    assert "No organisation has confirmed yet." in soup.get_text()


# Names of the lengths real lists hold (from 20 to 55 characters).
NAME_STEMS = (
    "Uyghur Rights Advocacy Network",
    "Coalition for Human Rights in Central Asia",
    "Justice for Hong Kong Association",
    "Society for Threatened Peoples",
    "Interfaith Council on Freedom of Religion and Belief",
    "Tibet Action Group",
    "Lawyers for Accountability in Exile",
    "Women's Voices for Democracy",
)


def _founding_scale(settings: Settings, database: Database) -> None:
    """A campaign the size of the founding one: 71 confirmed, 33 to chase, 106 invited."""
    countries = ["GB", "CA", "US", "DE", "FR", "NL", "TR", "KZ", "AU", "JP", "SE", "NO", None]
    with database.writing() as session:
        campaign = session.query(Campaign).filter_by(slug=COUNTS_SLUG).one()
        text = campaigns.load(settings, COUNTS_SLUG).text_hash
        for number in range(96):
            name = f"{NAME_STEMS[number % len(NAME_STEMS)]} {number}"
            organisation = add_org(session, name, countries[number % len(countries)], "NGO")
            session.add(
                Contact(
                    organisation_id=organisation.id,
                    name=f"Amina Rahimova-Smith {number}",
                    email=f"coordinator{number}@rights-network.example",
                )
            )
            act(session, campaign, organisation.id, "invite", "")
            if number < 67:
                act(session, campaign, organisation.id, "confirm", text)


@pytest.mark.slow
@pytest.mark.parametrize("paper", ["a4", "letter"])
def test_a_campaign_of_a_hundred_organisations_fits_two_pages(
    counts_world: CountsWorld, settings: Settings, database: Database, paper: str
):
    _founding_scale(settings, database)
    with database.reading() as session:
        sheet = countsheet.build_sheet(settings, session, COUNTS_SLUG, paper=paper)
    assert (sheet.counts.totals.invited, sheet.counts.totals.confirmed) == (106, 71)
    reader = PdfReader(io.BytesIO(countsheet.render_pdf(sheet)))
    assert len(reader.pages) == 2


def test_a_sheet_marks_confirmations_of_an_earlier_text(
    counts_world: CountsWorld, settings: Settings, database: Database, home: Path
):
    body = home / "letters" / COUNTS_SLUG / "body.md"
    body.write_text("We, {{ signatory_count }} organisations, now ask something else.\n", "utf-8")
    with database.reading() as session:
        sheet = countsheet.build_sheet(settings, session, COUNTS_SLUG)
    soup = _soup(countsheet.render_html(sheet))
    stale = [li for li in soup.select("#confirmed li") if "‡" in li.get_text()]
    assert len(stale) == 4
    assert "ask them to reconfirm" in soup.select_one(".signed .note").get_text()


def test_a_chinese_name_is_kept_on_one_line_and_carries_its_language(sheet_files: SheetFiles):
    item = next(
        li for li in _soup(sheet_files.html).select("#confirmed li") if "加拿大" in li.get_text()
    )
    run = item.select_one("span.han")
    assert (run.get_text(), run["lang"]) == ("加拿大香港之友", "zh")
    assert ".han { white-space: nowrap; }" in sheet_files.html


@pytest.mark.browser
def test_the_sheet_has_no_serious_accessibility_violation(
    sheet_files: SheetFiles, browser_page, axe
):
    browser_page.set_content(sheet_files.html)
    assert axe(browser_page) == []
