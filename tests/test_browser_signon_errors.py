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
