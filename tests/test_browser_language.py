"""In a real browser: a French contact's page is in French, confirms, and switches language."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from coalitionletter.models import Contact, Invitation
from fixtures_signon import CaptureHandler, LiveServer, SignOnWorkspace, serving
from test_browser_signon import ARTIFACTS
from test_right_to_left import TEST_WORDS, write_test_catalog

SLUG = "ilp-magnitsky-2020"
NAME = "Uyghur Rights Advocacy Network"
ADDRESS = "aynur@uran.example"


def _french_link(workspace: SignOnWorkspace, invoke, mailbox: CaptureHandler) -> str:
    """Invite the organisation whose contact reads French; its emailed link."""
    with workspace.database.writing() as session:
        session.execute(update(Contact).where(Contact.email == ADDRESS).values(language="fr"))
    result = invoke("invite", SLUG, "--org", str(workspace.organisations[NAME]))
    assert result.exit_code == 0, result.output
    (email,) = mailbox.for_address(ADDRESS)
    assert "La lettre est rédigée en français." in email.text()
    base, token = email.link()
    return f"{base}/s/{token}"


@pytest.mark.slow
@pytest.mark.browser
def test_a_french_contact_reads_confirms_and_switches_language_in_the_browser(
    signon_workspace: SignOnWorkspace,
    live_server: LiveServer,
    *,
    invoke,
    mailbox: CaptureHandler,
    chromium,
    console_axe,
) -> None:
    from playwright.sync_api import expect

    link = _french_link(signon_workspace, invoke, mailbox)
    ARTIFACTS.mkdir(exist_ok=True)
    # The browser asks for English: the contact's language wins on its own link.
    context = chromium.new_context(locale="en-GB")
    try:
        page = context.new_page()
        page.goto(link)
        expect(page.locator("html")).to_have_attribute("lang", "fr")
        expect(page.locator("#status-heading")).to_have_text("Réponse de votre organisation")
        # The letter has a French version, which a French contact reads.
        expect(page.locator(".letter")).to_have_attribute("lang", "fr")
        assert console_axe(page) == []
        page.fill("#signer_name", "Aynur Tursun")
        page.fill("#signer_title", "Directrice")
        page.check("input[name=authorised]")
        page.click("text=Confirmer notre signature")
        expect(page.locator(".status")).to_contain_text(
            "Signature confirmée par Aynur Tursun, Directrice, le "
        )
        page.screenshot(path=str(ARTIFACTS / "signon-fr-confirmed.png"), full_page=True)
        # The switch is a plain link: English, then back to French, no script involved.
        page.click("nav.languages >> text=English")
        expect(page.locator("html")).to_have_attribute("lang", "en")
        expect(page.locator(".status")).to_contain_text("Confirmed by Aynur Tursun, Directrice")
        assert page.url == f"{link}?lang=en"
        page.click("nav.languages >> text=Français")
        expect(page.locator("html")).to_have_attribute("lang", "fr")
        assert context.cookies() == [c for c in context.cookies() if c["name"] == "cl_visit"]
    finally:
        context.close()

    with signon_workspace.database.reading() as session:
        invitation = session.scalars(select(Invitation)).one()
    assert (invitation.state, invitation.signer_title) == ("confirmed", "Directrice")


@pytest.mark.slow
@pytest.mark.browser
def test_a_right_to_left_page_mirrors_its_layout_in_the_browser(
    signon_workspace: SignOnWorkspace, browser_page, console_axe
) -> None:
    from playwright.sync_api import expect

    write_test_catalog(signon_workspace.home)  # before `serve` starts: it reads catalogs once
    with serving(signon_workspace) as live_server:
        page = browser_page
        # Each page's language switch lines up at the end of the line: right in
        # English, left in a right-to-left language.
        edges = {}
        for language in ("en", "ar"):
            page.goto(f"{live_server.url}/s/unknown?lang={language}")
            expect(page.locator("html")).to_have_attribute(
                "dir", "rtl" if language == "ar" else "ltr"
            )
            box = page.locator("nav.languages li").last.bounding_box()
            main = page.locator("main").bounding_box()
            edges[language] = (
                box["x"] - main["x"],
                main["x"] + main["width"] - box["x"] - box["width"],
            )
        expect(page.locator("h1")).to_have_text(
            TEST_WORDS["This link does not open a sign-on page"]
        )
        page.screenshot(path=str(ARTIFACTS / "signon-rtl.png"))
        assert console_axe(page) == []
    # English: the last language sits near main's right edge; Arabic: near its left.
    assert edges["en"][1] < edges["en"][0]
    assert edges["ar"][0] < edges["ar"][1]
