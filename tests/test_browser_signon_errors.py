"""A refused sign-on form in a real browser on a phone: the problems first, readable, accessible."""

from __future__ import annotations

from pathlib import Path

import pytest

from fixtures_signon import ORGANISATIONS, CaptureHandler, LiveServer, SignOnWorkspace

SLUG = "ilp-magnitsky-2020"
NAME = ORGANISATIONS[0][0]
LEAD = "International Lawyers Project"
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


@pytest.mark.slow
@pytest.mark.browser
def test_a_refused_form_opens_at_its_summary_on_a_phone_with_no_serious_violation(
    signon_workspace: SignOnWorkspace,
    live_server: LiveServer,
    *,
    invoke,
    mailbox: CaptureHandler,
    browser_page,
    console_axe,
) -> None:
    result = invoke("invite", SLUG, "--org", str(signon_workspace.organisations[NAME]))
    assert result.exit_code == 0, result.output
    base, token = mailbox.received[0].link()
    page = browser_page
    page.set_viewport_size({"width": 320, "height": 700})
    page.goto(f"{base}/s/{token}")
    assert console_axe(page) == []  # the page as first opened, as a control
    page.fill("#signer_name", "Aynur Tursun")
    page.fill("#signer_title", "Director")
    page.fill("#display_name", LEAD)  # the lead's name is refused: it would print first
    page.check("#authorised")
    page.click("text=Confirm our signature")

    page.wait_for_selector("#errors")
    assert page.url.endswith("#errors")  # the browser opens the answer at the summary
    summary = page.locator("#errors")
    assert "cannot be printed" in summary.inner_text() or "lead" in summary.inner_text()
    assert page.get_attribute("#display_name", "aria-invalid") == "true"
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "signon-refused-320.png"), full_page=True)
    assert console_axe(page) == []


@pytest.mark.slow
@pytest.mark.browser
def test_a_signed_organisation_changes_its_listing_and_backs_out_of_withdrawing_in_a_browser(
    signon_workspace: SignOnWorkspace,
    live_server: LiveServer,
    *,
    invoke,
    mailbox: CaptureHandler,
    browser_page,
    console_axe,
) -> None:
    from playwright.sync_api import expect
    from sqlalchemy import select

    from coalitionletter.models import Invitation

    result = invoke("invite", SLUG, "--org", str(signon_workspace.organisations[NAME]))
    assert result.exit_code == 0, result.output
    base, token = mailbox.received[0].link()
    page = browser_page
    page.set_viewport_size({"width": 320, "height": 700})
    page.goto(f"{base}/s/{token}")
    page.fill("#signer_name", "Aynur Tursun")
    page.fill("#signer_title", "Director")
    page.check("#authorised")
    page.click("text=Confirm our signature")
    expect(page.locator(".status")).to_contain_text("They do not appear on the public list")
    assert console_axe(page) == []  # the signed page, with its change-of-listing form

    page.check("input[name=listing][value=governments_only]")
    page.check("#signer_public")
    page.click("text=Save how we are listed")
    expect(page.locator(".listing-note")).to_contain_text("Named only in the copies delivered")
    expect(page.locator(".status")).to_contain_text("They also appear on the public list")

    page.click("text=Withdraw our signature")
    expect(page.locator("h1")).to_have_text("Withdraw your organisation's signature?")
    assert console_axe(page) == []
    page.go_back()
    page.reload()
    expect(page.locator(".status")).to_contain_text("Confirmed")
    with signon_workspace.database.reading() as session:
        invitation = session.scalars(select(Invitation)).one()
    assert (invitation.state, invitation.listing, invitation.signer_public) == (
        "confirmed",
        "governments_only",
        True,
    )
