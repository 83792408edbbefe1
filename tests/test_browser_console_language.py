"""The staff console in French in a real browser: sign in, switch, and axe on two pages."""

from __future__ import annotations

import pytest

from fixtures_console import PASSWORD, make_account
from fixtures_signon import LiveServer, SignOnWorkspace

SLUG = "ilp-magnitsky-2020"


@pytest.mark.slow
@pytest.mark.browser
def test_staff_sign_in_in_french_and_the_pages_pass_axe(
    signon_workspace: SignOnWorkspace,
    live_server: LiveServer,
    console_axe,
    *,
    own_browser,
) -> None:
    from playwright.sync_api import expect

    workspace = signon_workspace
    make_account(workspace.settings, workspace.database, "ana@example.org", name="Ana Lima")

    browser = own_browser
    context = browser.new_context(locale="fr-FR", viewport={"width": 1100, "height": 900})
    page = context.new_page()
    page.goto(f"{live_server.url}/staff/login")
    expect(page.locator("h1")).to_have_text("Se connecter")
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    assert console_axe(page) == []
    page.fill("#email", "ana@example.org")
    page.fill("#password", PASSWORD)
    page.click("button.primary")
    expect(page.locator("h1")).to_have_text("Campagnes")
    page.goto(f"{live_server.url}/staff/c/{SLUG}")
    expect(page.locator("#totals")).to_have_text("Où en sont les signatures")
    assert console_axe(page) == []
    # The switch is a plain link; English then holds on the next page.
    page.click("nav.languages a[hreflang=en]")
    expect(page.locator("#totals")).to_have_text("Where the sign-on stands")
    page.goto(f"{live_server.url}/staff/organisations")
    expect(page.locator("h1")).to_have_text("Organisations")
    expect(page.locator("form.signout button")).to_have_text("Sign out")
    browser.close()
