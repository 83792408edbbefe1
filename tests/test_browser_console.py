"""The staff console in a real browser: set a password, sign in, follow a campaign, print.

Every console page is checked with axe-core (no serious or critical violation)
and at 320 px wide (nothing wider than the screen).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from fixtures_console import PASSWORD, check_console_page, make_account
from fixtures_signon import ORGANISATIONS, CaptureHandler, LiveServer, SignOnWorkspace

SLUG = "ilp-magnitsky-2020"
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
INVITED = [ORGANISATIONS[0][0], ORGANISATIONS[1][0], ORGANISATIONS[2][0]]


@pytest.mark.slow
@pytest.mark.browser
def test_staff_set_a_password_sign_in_follow_the_campaign_and_print_the_sheet(
    signon_workspace: SignOnWorkspace,
    live_server: LiveServer,
    invoke,
    mailbox: CaptureHandler,
    console_axe,
    *,
    own_browser,
) -> None:
    from playwright.sync_api import expect

    workspace = signon_workspace
    token = make_account(
        workspace.settings, workspace.database, "ana@example.org", name="Ana Lima", password=None
    )
    for name in INVITED:
        result = invoke("invite", SLUG, "--org", str(workspace.organisations[name]))
        assert result.exit_code == 0, result.output
    ARTIFACTS.mkdir(exist_ok=True)

    browser = own_browser
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

    page.goto(f"{live_server.url}/staff/set-password/{token}")
    expect(page.locator("h1")).to_have_text("Set your password")
    check_console_page(page, console_axe, "set-password")
    page.fill("#password", PASSWORD)
    page.fill("#confirmation", PASSWORD)
    page.click("text=Set password")
    expect(page.locator("h1")).to_have_text("Your password is set")
    check_console_page(page, console_axe, "password-set")
    page.goto(f"{live_server.url}/staff/set-password/{token}")
    expect(page.locator("h1")).to_have_text("This link is not valid")  # used once
    check_console_page(page, console_axe, "link-gone")
    page.goto(f"{live_server.url}/staff/login")

    expect(page.locator("h1")).to_have_text("Sign in")
    check_console_page(page, console_axe, "login")
    page.fill("#email", "ana@example.org")
    page.fill("#password", PASSWORD)
    page.click("button:text('Sign in')")
    expect(page.locator("h1")).to_have_text("Campaigns")
    check_console_page(page, console_axe, "campaigns")
    row = page.locator("tbody tr").first
    expect(row.locator("td").nth(0)).to_have_text("3")  # invited

    page.goto(f"{live_server.url}/staff/c/no-such-campaign")
    expect(page.locator("h1")).to_have_text("Sorry, that did not work")
    check_console_page(page, console_axe, "problem")
    page.go_back()
    row.locator("a").click()
    expect(page.locator("table[aria-labelledby=chase] tbody tr")).to_have_count(3)
    check_console_page(page, console_axe, "dashboard")

    # An organisation confirms from its emailed link; the dashboard shows it.
    address = workspace.emails[INVITED[0]][0]
    _base, sign_token = mailbox.for_address(address)[-1].link()
    signer = context.new_page()
    signer.goto(f"{live_server.url}/s/{sign_token}")
    assert "/staff" not in signer.content()  # the console is never linked from sign-on
    signer.fill("#signer_name", "Aynur Tursun")
    signer.fill("#signer_title", "Director")
    signer.check("input[name=authorised]")
    signer.click("text=Confirm our signature")
    expect(signer.locator(".status")).to_contain_text("Confirmed")
    signer.close()
    page.reload()
    totals = page.locator("table[aria-labelledby=totals] tbody tr")
    expect(totals.nth(1).locator("td").first).to_have_text("1")  # confirmed
    expect(page.locator("table[aria-labelledby=chase] tbody tr")).to_have_count(2)

    with page.expect_download() as download_info:
        page.click("text=Print count sheet")
    sheet = download_info.value
    assert sheet.suggested_filename == f"{SLUG}-count-sheet.pdf"
    assert Path(sheet.path()).read_bytes().startswith(b"%PDF")

    page.click("text=Trail")
    expect(page.locator(".verify")).to_contain_text("The trail verifies")
    page.select_option("#kind", "confirmed")
    page.click("button:text('Show')")
    expect(page.locator("table.trail tbody tr")).to_have_count(1)
    check_console_page(page, console_axe, "audit")

    page.click("button:text('Sign out')")
    expect(page.locator("h1")).to_have_text("Sign in")
    page.goto(f"{live_server.url}/staff/c/{SLUG}")
    expect(page.locator("h1")).to_have_text("Sign in")  # signed out: nothing to see
    assert not [e for e in errors if "Content Security Policy" in e], errors
    browser.close()


@pytest.mark.browser
def test_the_axe_check_finds_a_serious_violation_when_there_is_one(
    own_browser, console_axe
) -> None:
    browser = own_browser
    page = browser.new_page()
    page.set_content('<html lang="en"><title>x</title><main><input type="text"></main></html>')
    found = console_axe(page)
    browser.close()
    assert [v["id"] for v in found] == ["label"]
