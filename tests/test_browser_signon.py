"""A person opens the emailed link in a real browser, confirms, reloads, and withdraws."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from coalitionletter.models import Event, Invitation
from fixtures_signon import ORGANISATIONS, CaptureHandler, LiveServer, SignOnWorkspace

SLUG = "ilp-magnitsky-2020"
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
NAME = ORGANISATIONS[1][0]  # Canadian Friends of Hong Kong (加拿大香港之友)


@pytest.mark.slow
@pytest.mark.browser
def test_a_person_confirms_from_the_emailed_link_reloads_and_withdraws(
    own_browser,
    signon_workspace: SignOnWorkspace,
    live_server: LiveServer,
    invoke,
    mailbox: CaptureHandler,
) -> None:
    from playwright.sync_api import expect

    result = invoke("invite", SLUG, "--org", str(signon_workspace.organisations[NAME]))
    assert result.exit_code == 0, result.output
    (email,) = mailbox.received
    base, token = email.link()
    assert base == live_server.url
    ARTIFACTS.mkdir(exist_ok=True)

    browser = own_browser
    page = browser.new_page(viewport={"width": 1000, "height": 900})
    page.goto(f"{base}/s/{token}")
    expect(page.locator("h1")).to_contain_text("Magnitsky")
    expect(page.locator(".listed-as")).to_have_text(NAME)
    page.screenshot(path=str(ARTIFACTS / "signon-invited.png"), full_page=True)
    page.fill("#signer_name", "Li Wei")
    page.fill("#signer_title", "Chair")
    page.check("input[name=authorised]")
    page.click("text=Confirm our signature")
    expect(page.locator(".status")).to_contain_text("Confirmed by Li Wei, Chair")
    page.reload()
    expect(page.locator(".status")).to_contain_text("Confirmed by Li Wei, Chair")
    page.screenshot(path=str(ARTIFACTS / "signon-confirmed.png"), full_page=True)
    page.click("text=Withdraw our signature")
    expect(page.locator("h1")).to_contain_text("Withdraw your organisation's signature?")
    page.click("text=Yes, withdraw our signature")
    expect(page.locator(".status")).to_contain_text("Withdrawn")
    page.screenshot(path=str(ARTIFACTS / "signon-withdrawn.png"))
    browser.close()

    with signon_workspace.database.reading() as session:
        state = session.scalars(select(Invitation.state)).one()
        decisions = list(
            session.scalars(
                select(Event.kind).where(Event.actor == "token holder").order_by(Event.seq)
            )
        )
    assert state == "withdrawn"
    assert [k for k in decisions if k != "viewed"] == ["confirmed", "withdrawn"]
