"""The letters page in a real browser: see what changed, preview, build, download.

Every page of the area is checked with axe-core (no serious or critical
violation) and at 320 px wide.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from coalitionletter.campaigns import catalogue
from coalitionletter.models import Event
from coalitionletter.signon import states
from fixtures_console import PASSWORD, STAFF_EMAIL, check_console_page, make_account
from fixtures_signon import ORGANISATIONS, LiveServer, SignOnWorkspace

SLUG = "ilp-magnitsky-2020"
PUBLIC_ORG, WITHHELD_ORG = ORGANISATIONS[0][0], ORGANISATIONS[1][0]

# `invoke` makes the test run on PostgreSQL too when COALITIONLETTER_TEST_PG is set.
pytestmark = pytest.mark.usefixtures("invoke")


def _confirm(workspace: SignOnWorkspace, name: str, listing: str) -> None:
    """An organisation confirms the current text (as the sign-on page records it)."""
    with workspace.database.writing() as session:
        campaign = catalogue.campaign_row(session, SLUG)
        states.transition(
            session,
            campaign,
            workspace.organisations[name],
            "confirm",
            actor="organisation",
            text_hash=workspace.definition.text_hash,
            fields={"listing": listing},
        )


@pytest.mark.slow
@pytest.mark.browser
def test_staff_preview_build_and_download_the_letters(
    signon_workspace: SignOnWorkspace, live_server: LiveServer, console_axe, own_browser
) -> None:
    from playwright.sync_api import expect

    workspace = signon_workspace
    make_account(workspace.settings, workspace.database, STAFF_EMAIL, name="Ana Lima")
    _confirm(workspace, PUBLIC_ORG, "public")
    _confirm(workspace, WITHHELD_ORG, "governments_only")
    url = live_server.url
    browser = own_browser
    context = browser.new_context(viewport={"width": 1100, "height": 900}, accept_downloads=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(f"{url}/staff/login")
    page.fill("#email", STAFF_EMAIL)
    page.fill("#password", PASSWORD)
    page.click("button:text('Sign in')")
    page.goto(f"{url}/staff/c/{SLUG}")
    page.click("text=Letters: preview, build, download")
    expect(page.locator("h1")).to_have_text(f"Letters of {workspace.definition.title}")
    expect(page.locator("#changes + p")).to_contain_text("have not been built yet")
    check_console_page(page, console_axe, "letters")

    page.click("a:text-is('uk.public.html')")
    expect(page.locator("h1.subject")).to_be_visible()
    assert PUBLIC_ORG in page.content()
    assert WITHHELD_ORG not in page.content()
    # Not axe here: the preview's CSP sandboxes it, so axe's script would never finish;
    # the same HTML passes axe in test_build_html.py.
    page.go_back()

    page.click("button:text('Build the letters')")
    expect(page.locator("#result")).to_contain_text("The letters were built")
    expect(page.locator("#result")).to_contain_text("(1 named only in the delivered copies)")
    expect(page.locator("#changes + p")).to_contain_text("Nothing changed since the last build")
    check_console_page(page, console_axe, "letters-built")

    with page.expect_download() as public_pdf:
        page.click("a:text-is('uk.public.pdf')")
    assert Path(public_pdf.value.path()).read_bytes().startswith(b"%PDF")

    page.click("text=The delivered list with signers")
    expect(page.locator("h1")).to_have_text("Before you take signatories-delivered.csv")
    check_console_page(page, console_axe, "delivered-warning")
    page.click("button:text('Download signatories-delivered.csv')")
    expect(page.locator("#understood-error")).to_contain_text("Tick the box")
    check_console_page(page, console_axe, "delivered-refused")
    page.check("#understood")
    with page.expect_download() as delivered:
        page.click("button:text('Download signatories-delivered.csv')")
    assert WITHHELD_ORG in Path(delivered.value.path()).read_text("utf-8-sig")

    page.goto(f"{url}/staff/c/{SLUG}/audit?kind=delivered_exported")
    expect(page.locator("table.trail tbody tr")).to_have_count(1)
    expect(page.locator("table.trail tbody tr")).to_contain_text("staff: Ana Lima")
    assert not [e for e in errors if "Content Security Policy" in e], errors
    browser.close()
    with workspace.database.reading() as session:
        kinds = session.scalars(select(Event.kind).where(Event.kind == "delivered_exported"))
        assert list(kinds) == ["delivered_exported"]
