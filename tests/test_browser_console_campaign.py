"""A whole campaign run from the browser: the end-to-end test of issue #14.

Against a real `serve` and a real SMTP server (aiosmtpd), a staff member signs
in, imports a CSV of organisations (dry run, then confirm), invites them,
one answers from the emailed link, the dashboard shows it, the count sheet is
printed, and the letter is built and downloaded with the new signatory in it.
With COALITIONLETTER_SCREENSHOTS=DIR set, it saves the README's walkthrough
screenshots there (see CONTRIBUTING.md). Runs on `serve` and
`serve --workers 2`, on SQLite and, with COALITIONLETTER_TEST_PG, on PostgreSQL.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from coalitionletter.models import Event, Organisation
from fixtures_console import PASSWORD, STAFF_EMAIL, make_account
from fixtures_signon import CaptureHandler, LiveServer, SignOnWorkspace, serving

SLUG = "ilp-magnitsky-2020"
NEW = {"Tibet Justice Centre": "tenzin@tjc.example", "Free Press Collective": "press@fpc.example"}
CSV = (
    "Organisation,Country,Type,Contact,Email\r\n"
    "Tibet Justice Centre,IN,national NGO,Tenzin Dolma,tenzin@tjc.example\r\n"
    "Free Press Collective,,media freedom group,Ola Berg,press@fpc.example\r\n"
)

# `invoke` makes the test run on PostgreSQL too when COALITIONLETTER_TEST_PG is set.
pytestmark = [pytest.mark.slow, pytest.mark.browser, pytest.mark.usefixtures("invoke")]


@pytest.fixture(params=[1, 2], ids=["serve", "serve --workers 2"])
def console_server(request, signon_workspace: SignOnWorkspace) -> Iterator[LiveServer]:
    """`coalitionletter serve`, in one process and with two worker processes."""
    with serving(signon_workspace, request.param) as server:
        yield server


def _ids(workspace: SignOnWorkspace) -> dict[str, int]:
    with workspace.database.reading() as session:
        rows = session.execute(
            select(Organisation.name, Organisation.id).where(Organisation.name.in_(NEW))
        ).all()
    return dict(rows)  # type: ignore[arg-type]


def test_staff_run_a_campaign_from_the_browser(
    signon_workspace: SignOnWorkspace,
    console_server: LiveServer,
    mailbox: CaptureHandler,
    *,
    console_axe,
    screenshot,
    own_browser,
) -> None:
    from playwright.sync_api import expect

    workspace = signon_workspace
    make_account(workspace.settings, workspace.database, STAFF_EMAIL, name="Ana Lima")
    csv_file = workspace.home.parent / "coalition.csv"
    csv_file.write_text(CSV, encoding="utf-8")
    url = console_server.url
    browser = own_browser
    context = browser.new_context(viewport={"width": 1024, "height": 800})
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

    # Sign in.
    page.goto(f"{url}/staff/login")
    page.fill("#email", STAFF_EMAIL)
    page.fill("#password", PASSWORD)
    screenshot(page, "1-sign-in")
    page.click("button:text('Sign in')")
    expect(page.locator("h1")).to_have_text("Campaigns")
    screenshot(page, "2-campaigns")

    # Import a CSV: the dry run first, then confirm.
    page.click("nav >> text=Organisations")
    page.click("a:text('Import a CSV file')")
    page.set_input_files("#file", str(csv_file))
    page.click("button:text('Check the file')")
    expect(page.locator("main")).to_contain_text("2 organisations would be added")
    assert _ids(workspace) == {}  # nothing written before Confirm
    screenshot(page, "3-import-dry-run")
    page.click("button:text('Confirm: import coalition.csv')")
    expect(page.locator(".notice")).to_contain_text("2 organisations were added")
    ids = _ids(workspace)
    assert set(ids) == set(NEW)

    # Invite them; the mail goes through the real SMTP server.
    page.goto(f"{url}/staff/c/{SLUG}")
    page.click("text=Invitations")
    for organisation_id in ids.values():
        page.check(f"#org-{organisation_id}")
    page.click("button:text('Invite the ticked organisations')")
    expect(page.locator("#send-state")).to_contain_text("Finished at", timeout=30_000)
    expect(page.locator("#send-state")).to_contain_text("2 message(s) handed over")
    screenshot(page, "4-invitations-sent")
    assert sorted(a for r in mailbox.received for a in r.recipients) == sorted(NEW.values())

    # A first build, before any answer: the letters name nobody yet.
    page.goto(f"{url}/staff/c/{SLUG}/letters")
    expect(page.locator("#changes + p")).to_contain_text("have not been built yet")
    page.click("button:text('Build the letters')")
    expect(page.locator("#result")).to_contain_text("No organisation has confirmed yet")

    # The dashboard before any answer.
    page.goto(f"{url}/staff/c/{SLUG}")
    totals = page.locator("table[aria-labelledby=totals] tbody tr")
    expect(totals.nth(0).locator("td").first).to_have_text("2")  # invited
    expect(totals.nth(1).locator("td").first).to_have_text("0")  # confirmed

    # Tibet Justice Centre answers from the link in its email.
    _base, token = mailbox.for_address(NEW["Tibet Justice Centre"])[-1].link()
    signer = context.new_page()
    signer.goto(f"{url}/s/{token}")
    signer.fill("#signer_name", "Tenzin Dolma")
    signer.fill("#signer_title", "Director")
    signer.check("input[name=authorised]")
    screenshot(signer, "5-organisation-confirms")
    signer.click("text=Confirm our signature")
    expect(signer.locator(".status")).to_contain_text("Confirmed")
    signer.close()

    # The dashboard changes; print the count sheet.
    page.reload()
    expect(totals.nth(1).locator("td").first).to_have_text("1")  # confirmed
    expect(page.locator("table[aria-labelledby=chase] tbody tr")).to_have_count(1)
    assert console_axe(page) == []
    screenshot(page, "6-dashboard")
    with page.expect_download() as sheet:
        page.click("text=Print count sheet")
    sheet_text = _pdf_text(Path(sheet.value.path()).read_bytes())
    assert "Confirmed" in sheet_text

    # Build the letters and download the one to the UK.
    page.click("text=Letters: preview, build, download")
    expect(page.locator("ul.names.added li")).to_have_text(["Tibet Justice Centre"])
    expect(page.locator("ul.changes")).to_contain_text("Changed: the signatories")
    screenshot(page, "7-letters-what-changed")
    page.click("button:text('Build the letters')")
    expect(page.locator("#result")).to_contain_text("The letters were built")
    screenshot(page, "8-letters-built")
    with page.expect_download() as letter:
        page.click("a:text-is('uk.pdf')")
    assert "Tibet Justice Centre" in _pdf_text(Path(letter.value.path()).read_bytes())
    assert "Free Press Collective" not in _pdf_text(Path(letter.value.path()).read_bytes())
    assert token not in page.content()

    page.click("button:text('Sign out')")
    expect(page.locator("h1")).to_have_text("Sign in")
    assert not [e for e in errors if "Content Security Policy" in e], errors
    browser.close()

    with workspace.database.reading() as session:
        actors = set(session.scalars(select(Event.actor).where(Event.kind == "invited")))
    assert actors == {"staff: Ana Lima"}


def _pdf_text(data: bytes) -> str:
    return " ".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages)
