"""The console's registry in a real browser: sign in, search, edit, import a CSV, confirm.

Every registry page is checked with axe-core (no serious or critical violation)
and at 320 px wide (nothing wider than the screen).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from coalitionletter.models import Event, Organisation
from fixtures_console import PASSWORD, check_console_page, make_account
from fixtures_signon import LiveServer, SignOnWorkspace

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
CSV = (
    "Organisation,Country,Type,Contact,Email\r\n"
    "Uyghur Rights Advocacy Network,GB,diaspora group,Aynur Tursun,aynur@uran.example\r\n"
    "Tibet Justice Centre,IN,national NGO,Tenzin Dolma,tenzin@tjc.example\r\n"
    "Free Press Collective,,media freedom group,,press@fpc.example\r\n"
)


@pytest.mark.slow
@pytest.mark.browser
def test_staff_search_edit_an_organisation_and_import_a_csv_after_its_dry_run(
    own_browser,
    signon_workspace: SignOnWorkspace,
    live_server: LiveServer,
    console_axe,
    tmp_path: Path,
) -> None:
    from playwright.sync_api import expect

    workspace = signon_workspace
    make_account(workspace.settings, workspace.database, "ana@example.org", name="Ana Lima")
    csv_file = tmp_path / "coalition.csv"
    csv_file.write_text(CSV, encoding="utf-8")
    ARTIFACTS.mkdir(exist_ok=True)
    base = live_server.url

    browser = own_browser
    page = browser.new_context(viewport={"width": 1100, "height": 900}).new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

    page.goto(f"{base}/staff/login")
    page.fill("#email", "ana@example.org")
    page.fill("#password", PASSWORD)
    page.click("button:text('Sign in')")
    page.click("nav >> text=Organisations")
    expect(page.locator("h1")).to_have_text("Organisations")
    expect(page.locator("table.registry tbody tr")).to_have_count(5)
    check_console_page(page, console_axe, "list")

    # Search, then open the one found.
    page.fill("#search", "uran.example")
    page.click("button:text('Search')")
    rows = page.locator("table.registry tbody tr")
    expect(rows).to_have_count(1)
    rows.first.locator("th a").click()
    expect(page.locator("h1")).to_have_text("Uyghur Rights Advocacy Network")
    check_console_page(page, console_axe, "organisation")

    # Edit: a bad website is named at its field, then a good one is saved.
    page.click("a:text('Edit')")
    check_console_page(page, console_axe, "edit")
    page.fill("#website", "not a website")
    page.click("button:text('Save changes')")
    expect(page.locator("#website-error")).to_contain_text("is not a web address")
    expect(page.locator(".error-summary")).to_be_visible()
    check_console_page(page, console_axe, "edit-refused")
    page.fill("#website", "uran.example")
    page.fill("#country", "United Kingdom")
    page.click("button:text('Save changes')")
    expect(page.locator(".notice")).to_contain_text("Changed country, website of")
    expect(page.locator("dl.fields")).to_contain_text("United Kingdom (GB)")

    page.click("a:text('Add a contact')")
    check_console_page(page, console_axe, "contact")
    page.goto(f"{base}/staff/organisations/new")
    check_console_page(page, console_axe, "add")
    page.goto(f"{base}/staff/organisations/duplicates")
    check_console_page(page, console_axe, "duplicates")
    page.fill("#keep", "uyghur-rights-advocacy-network")
    page.fill("#other", "justice-truth-initiative")
    page.click("button:text('Review the merge')")
    expect(page.locator("h2#after")).to_be_visible()
    check_console_page(page, console_axe, "merge")

    # Import: upload, read the dry run, nothing written yet, confirm.
    page.goto(f"{base}/staff/organisations")
    page.click("a:text('Import a CSV file')")
    expect(page.locator("h1")).to_have_text("Import a CSV file")
    check_console_page(page, console_axe, "import")
    page.set_input_files("#file", str(csv_file))
    page.click("button:text('Check the file')")
    expect(page.locator("h1")).to_have_text("Import of coalition.csv")
    table = page.locator("table.registry tbody tr")
    expect(table).to_have_count(3)
    expect(table.nth(0).locator("td").nth(1)).to_have_text("skip")
    expect(table.nth(1).locator("td").nth(1)).to_have_text("add")
    expect(page.locator("main")).to_contain_text("2 organisations would be added")
    check_console_page(page, console_axe, "dry-run")
    with workspace.database.reading() as session:
        names = set(session.scalars(select(Organisation.name)))
    assert "Tibet Justice Centre" not in names  # nothing written before Confirm

    page.click("button:text('Confirm: import coalition.csv')")
    expect(page.locator("h1")).to_have_text("Organisations")
    expect(page.locator(".notice")).to_contain_text("2 organisations were added")
    expect(page.locator("table.registry tbody tr")).to_have_count(7)
    expect(page.locator("table.registry")).to_contain_text("Tibet Justice Centre")
    expect(page.locator("table.registry")).to_contain_text("Free Press Collective")

    # A file with a problem: listed by line and column, no Confirm button.
    bad = tmp_path / "bad.csv"
    bad.write_text("Organisation,Email\r\nGood Name,good@example.org\r\nX,not-mail\r\n")
    page.click("a:text('Import a CSV file')")
    page.set_input_files("#file", str(bad))
    page.click("button:text('Check the file')")
    expect(page.locator("ul.problems li")).to_contain_text("bad.csv, line 3, column B (Email)")
    expect(page.locator("button:text('Confirm')")).to_have_count(0)
    check_console_page(page, console_axe, "import-problems")
    assert not [e for e in errors if "Content Security Policy" in e], errors
    browser.close()

    with workspace.database.reading() as session:
        written = {
            (kind, actor)
            for kind, actor in session.execute(
                select(Event.kind, Event.actor).where(
                    Event.chain == "registry",
                    Event.kind.in_(["organisation_edited", "organisations_added"]),
                )
            )
        }
    # The edit and the import, each in the trail as the staff member who made it.
    assert ("organisation_edited", "staff: Ana Lima") in written
    assert ("organisations_added", "staff: Ana Lima") in written
