"""Right-to-left languages: pages and HTML emails set dir="rtl" and mirror their layout.

No Arabic catalog ships (a translation is a translator's work, not ours): each test
makes a small workspace catalog with two messages, marked as test words.
"""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import write_po
from bs4 import BeautifulSoup
from sqlalchemy import update

from coalitionletter.models import Contact
from coalitionletter.web.app import create_app
from fixtures_signon import CaptureHandler, SignOnWorkspace

SLUG = "ilp-magnitsky-2020"
HEADING = "This link does not open a sign-on page"
LINK_LINE = "Your organisation's personal link:"
TEST_WORDS = {HEADING: "[اختبار] عنوان", LINK_LINE: "[اختبار] رابط"}  # "[test] heading/link"
WEB_CSS = Path(__file__).resolve().parents[1] / "templates" / "static" / "web.css"


def write_test_catalog(home: Path, language: str = "ar") -> None:
    """A workspace catalog for `language` holding the two test messages."""
    catalog = Catalog(locale=language)
    for msgid, msgstr in TEST_WORDS.items():
        catalog.add(msgid, msgstr)
    folder = home / "translations" / language / "LC_MESSAGES"
    folder.mkdir(parents=True)
    with (folder / "messages.po").open("wb") as po:
        write_po(po, catalog)


def _page(workspace: SignOnWorkspace, address: str) -> BeautifulSoup:
    client = create_app(workspace.settings, workspace.database).test_client()
    return BeautifulSoup(client.get(address).text, "html.parser")


def test_a_right_to_left_language_sets_dir_on_the_page(
    signon_workspace: SignOnWorkspace,
) -> None:
    write_test_catalog(signon_workspace.home)
    page = _page(signon_workspace, "/s/unknown?lang=ar")
    assert (page.html["lang"], page.html["dir"]) == ("ar", "rtl")
    assert page.h1.get_text() == TEST_WORDS[HEADING]
    # A message the catalog does not hold falls back to English, not to nothing.
    assert "reply to the email" in page.main.get_text()


def test_a_left_to_right_page_keeps_dir_ltr(signon_workspace: SignOnWorkspace) -> None:
    write_test_catalog(signon_workspace.home)
    page = _page(signon_workspace, "/s/unknown?lang=en")
    assert (page.html["lang"], page.html["dir"]) == ("en", "ltr")
    links = {a["hreflang"] for a in page.find("nav", class_="languages").find_all("a")}
    assert "ar" in links  # the workspace's catalog is offered in the switch


def test_a_right_to_left_contact_gets_an_rtl_html_email(
    signon_workspace: SignOnWorkspace, mailbox: CaptureHandler, invoke
) -> None:
    write_test_catalog(signon_workspace.home)
    with signon_workspace.database.writing() as session:
        session.execute(
            update(Contact)
            .where(Contact.email == "gulnar@uyghur-women.example")
            .values(language="ar")
        )
    result = invoke("invite", SLUG, "--all")
    assert result.exit_code == 0, result.output
    (arabic,) = mailbox.for_address("gulnar@uyghur-women.example")
    (english,) = mailbox.for_address("li@cfhk.example")
    html = BeautifulSoup(arabic.html(), "html.parser")
    assert (html.html["lang"], html.html["dir"]) == ("ar", "rtl")
    assert TEST_WORDS[LINK_LINE] in arabic.text()
    # The link itself stays left to right inside the mirrored message.
    assert html.find("a").find_parent("p")["dir"] == "ltr"
    assert "text-align: start" in html.body["style"]
    assert BeautifulSoup(english.html(), "html.parser").html["dir"] == "ltr"


def test_the_pages_stylesheet_uses_no_physical_sides() -> None:
    css = WEB_CSS.read_text("utf-8")
    assert "border-inline-start" in css  # positive control: the logical form is used
    physical = re.findall(
        r"(?:margin|padding|border)-(?:left|right)|text-align:\s*(?:left|right)|float:\s*(?:left|right)",
        css,
    )
    assert physical == []
