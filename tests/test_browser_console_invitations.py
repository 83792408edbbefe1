"""The console's invitations in a real browser against `serve`, mail through a real SMTP server.

Staff tick three organisations and send; the progress bar (a <progress> the
page's own script refreshes) reaches 3/3, also across a reload and across a
server killed mid-send and started again; an emailed link is opened and
confirmed; the invitations page then shows the answer. Every page of the area
is checked with axe-core and at 320 px.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from fixtures_console import PASSWORD, STAFF_EMAIL, check_console_page, make_account
from fixtures_signon import ORGANISATIONS, CaptureHandler, SignOnWorkspace, serving

SLUG = "ilp-magnitsky-2020"
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
TICKED = [ORGANISATIONS[0][0], ORGANISATIONS[1][0], ORGANISATIONS[2][0]]
CORRECTED = "Uyghur Rights Network"  # proposed for "Uyghur Rights Advocacy Network"

# `invoke` makes each test run on PostgreSQL too when COALITIONLETTER_TEST_PG is set.
pytestmark = [pytest.mark.slow, pytest.mark.browser, pytest.mark.usefixtures("invoke")]


def _browser(browser: Any) -> tuple[Any, Any, list[str]]:
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    return browser, page, errors


def _sign_in(page: Any, url: str) -> None:
    page.goto(f"{url}/staff/login")
    page.fill("#email", STAFF_EMAIL)
    page.fill("#password", PASSWORD)
    page.click("button:text('Sign in')")


def _tick_and_send(page: Any, workspace: SignOnWorkspace) -> None:
    for name in TICKED:
        page.check(f"#org-{workspace.organisations[name]}")
    page.click("button:text('Invite the ticked organisations')")


def _every_ticked_address_once(workspace: SignOnWorkspace, mailbox: CaptureHandler) -> None:
    got = Counter(address for r in mailbox.received for address in r.recipients)
    assert dict(got) == {workspace.emails[name][0]: 1 for name in TICKED}


def _kill_all(process: Any) -> None:
    """SIGKILL a server and every worker process it forked."""
    import contextlib
    import os
    import signal

    children = Path(f"/proc/{process.pid}/task/{process.pid}/children")
    pids = [int(p) for p in children.read_text().split()] if children.exists() else []
    process.kill()
    process.wait()
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):  # it may have gone with its parent
            os.kill(pid, signal.SIGKILL)


@pytest.fixture
def workspace(signon_workspace: SignOnWorkspace) -> SignOnWorkspace:
    """The sign-on workspace with a staff account (Ana Lima)."""
    make_account(signon_workspace.settings, signon_workspace.database, STAFF_EMAIL, name="Ana Lima")
    ARTIFACTS.mkdir(exist_ok=True)
    return signon_workspace


def test_staff_send_three_invitations_watch_the_progress_and_see_an_answer(
    own_browser, workspace: SignOnWorkspace, mailbox: CaptureHandler, console_axe
) -> None:
    from playwright.sync_api import expect

    mailbox.block_at = 2  # the server holds the second message until released
    with serving(workspace) as server:
        browser, page, errors = _browser(own_browser)
        _sign_in(page, server.url)
        page.goto(f"{server.url}/staff/c/{SLUG}")
        page.click("text=Invitations")
        expect(page.locator("h1")).to_have_text(f"Invitations of {workspace.definition.title}")
        check_console_page(page, console_axe, "invitations")

        _tick_and_send(page, workspace)
        expect(page.locator(".notice")).to_contain_text("Queued 3 invitations.")
        expect(page.locator("#send-total")).to_have_text("3")
        assert mailbox.blocked.wait(30)
        expect(page.locator("#send-done")).to_have_text("2")  # the script's doing: no reload
        expect(page.locator("#send-state")).to_contain_text("Sending in the background")
        check_console_page(page, console_axe, "invitations-sending")
        page.reload()  # the bar is the database's, not the page's
        expect(page.locator("#send-progress")).to_have_attribute("value", "2")
        mailbox.release.set()
        expect(page.locator("#send-state")).to_contain_text("Finished at", timeout=30_000)
        expect(page.locator("#send-progress")).to_have_attribute("value", "3")
        expect(page.locator("#send-progress")).to_have_attribute("max", "3")
        expect(page.locator("#send-state")).to_contain_text("3 message(s) handed over")
        _every_ticked_address_once(workspace, mailbox)

        # One organisation opens its emailed link and confirms.
        address = workspace.emails[TICKED[0]][0]
        _base, token = mailbox.for_address(address)[-1].link()
        signer = page.context.new_page()
        signer.goto(f"{server.url}/s/{token}")
        signer.fill("#signer_name", "Aynur Tursun")
        signer.fill("#signer_title", "Director")
        signer.fill("#display_name", CORRECTED)  # a proposal, for staff to decide
        signer.check("input[name=authorised]")
        signer.click("text=Confirm our signature")
        expect(signer.locator(".status")).to_contain_text("Confirmed")
        signer.close()
        page.select_option("#show", "confirmed")
        page.click("button:text('Show')")
        rows = page.locator("table.invitations tbody tr")
        expect(rows).to_have_count(1)
        expect(rows.first).to_contain_text("by Aynur Tursun, Director")
        expect(rows.first).to_contain_text("through the link")
        assert token not in page.content()

        # The other pages of the area.
        rows.first.locator("text=New link").click()
        expect(page.locator("h1")).to_contain_text("Send a new link to")
        check_console_page(page, console_axe, "resend")
        page.go_back()
        page.select_option("#show", "not-invited")
        page.click("button:text('Show')")
        page.locator("table.invitations tbody tr").first.locator("text=Record an answer").click()
        expect(page.locator("h1")).to_contain_text("Record an answer from")
        check_console_page(page, console_axe, "answer")
        page.check("text=Confirmed: signs the letter")
        page.click("button:text('Record the answer')")  # no signer: refused, shown at the field
        expect(page.locator("#signer-error")).to_contain_text("needs the name of the person")
        check_console_page(page, console_axe, "answer-refused")
        page.goto(f"{server.url}/staff/c/{SLUG}/names")
        expect(page.locator("h1")).to_contain_text("Proposed names")
        expect(page.locator("dd.diff del")).to_contain_text("Advocacy")  # what goes
        expect(page.locator("dd.diff ins")).to_have_count(0)
        check_console_page(page, console_axe, "names")
        page.check("text=Approve: print this name")
        page.fill("input[name=reason]", "Checked with the director")
        page.click("button:text('Decide')")
        expect(page.locator(".notice")).to_contain_text(f"Approved: {CORRECTED} is printed")
        check_console_page(page, console_axe, "names-decided")
        assert not [e for e in errors if "Content Security Policy" in e], errors
        browser.close()


@pytest.mark.parametrize("workers", [1, 2])
def test_a_send_cut_by_a_server_kill_resumes_after_the_restart_and_sends_nothing_twice(
    own_browser, workspace: SignOnWorkspace, mailbox: CaptureHandler, workers: int
) -> None:
    from playwright.sync_api import expect

    mailbox.block_at = 2
    browser, page, errors = _browser(own_browser)
    with serving(workspace, workers) as server:
        _sign_in(page, server.url)
        page.goto(f"{server.url}/staff/c/{SLUG}/invitations")
        _tick_and_send(page, workspace)
        assert mailbox.blocked.wait(30)
        _kill_all(server.process)  # SIGKILL mid-send: no clean-up of any kind
    mailbox.release.set()
    assert len(mailbox.received) == 2
    with serving(workspace, workers) as server:
        # The cookie is the same host's; the next console request resumes the send.
        page.goto(f"{server.url}/staff/c/{SLUG}/invitations")
        expect(page.locator("#send-state")).to_contain_text("Finished at", timeout=30_000)
        expect(page.locator("#send-progress")).to_have_attribute("value", "3")
        # The message in flight at the kill reached the server; nobody knows it: staff are told.
        expect(page.locator("#sending")).to_contain_text("Outcome unknown")
    browser.close()
    _every_ticked_address_once(workspace, mailbox)
    assert not [e for e in errors if "Content Security Policy" in e], errors
