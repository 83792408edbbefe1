"""A whole campaign, as staff and organisations run it, with no dead end and every number
matching (#12, "Done when").

Staff import the coalition, invite everyone through a real SMTP server, and the
organisations answer in a real browser from the links they were emailed: some
confirm, some decline, one confirms and then withdraws. Staff change the text and
publish it, ask for reconfirmation, and most reconfirm in the browser; one does not
before `close`. `build --leave-out-stale` then names that one and counts it nowhere,
and `counts`, the count sheet, the build's list and the letter's own count agree.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from fixtures_letters import LEAD_NAME
from fixtures_signon import SLUG, CaptureHandler, LiveServer, SignOnWorkspace

# The coalition as its spreadsheet holds it: ten organisations, each with a contact.
IMPORTED = [
    (LEAD_NAME, "GB", "legal", "Ewelina Ochab", "lead@ilp.example"),
    ("Tamarisk Justice Forum", "GB", "NGO", "Ada Quill", "ada@tamarisk.example"),
    ("Northern Lights Rights Watch", "CA", "NGO", "Bo Lindqvist", "bo@nlrw.example"),
    ("Harbour Legal Aid", "CA", "legal", "Chen Hui", "chen@harbour.example"),
    ("Silk Road Monitors", "DE", "NGO", "Dilnoza Karimova", "dilnoza@srm.example"),
    ("Atlas Freedom Project", "US", "NGO", "Eli Brand", "eli@atlas.example"),
    ("Cedar Witness Network", "FR", "diaspora", "Farah Haddad", "farah@cedar.example"),
    ("Granite Press Freedom", "US", "media", "Gus Moreno", "gus@granite.example"),
    ("Meadow Advocacy Group", "NL", "NGO", "Hana Visser", "hana@meadow.example"),
    ("Riverbank Human Rights", "AU", "NGO", "Ian Cole", "ian@riverbank.example"),
]
CONFIRM = [LEAD_NAME, *(row[0] for row in IMPORTED[1:7])]  # seven sign
WITHDRAW = "Granite Press Freedom"  # signs, then withdraws
DECLINE = ["Meadow Advocacy Group", "Riverbank Human Rights"]
STALE = "Cedar Witness Network"  # signed the first text, does not reconfirm before close
RECONFIRM = [name for name in CONFIRM if name != STALE]


def _ok(result):  # type: ignore[no-untyped-def]
    assert result.exit_code == 0, result.output
    return result


def _write_coalition(path: Path) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Organization Name", "Country", "Type", "Contact Name", "E-mail"])
        writer.writerows(IMPORTED)


def _link(mailbox: CaptureHandler, address: str) -> str:
    """The sign-on link in the newest message to `address`."""
    base, token = mailbox.for_address(address)[-1].link()
    return f"{base}/s/{token}"


def _address(name: str) -> str:
    return next(row[4] for row in IMPORTED if row[0] == name)


def _confirm(page, url: str, signer: str) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    page.goto(url)
    if signer:
        page.fill("#signer_name", signer)
        page.fill("#signer_title", "Director")
    page.check("#authorised")
    page.click("text=Confirm our signature")
    expect(page.locator(".status")).to_contain_text("Confirmed by")


def _decline(page, url: str) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    page.goto(url)
    page.fill("#reason", "Our board has not met")
    page.click("button:has-text('Decline')")
    expect(page.locator(".status")).to_contain_text("Declined")


def _withdraw(page, url: str) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    page.goto(url)
    page.click("text=Withdraw our signature")
    expect(page.locator("h1")).to_have_text("Withdraw your organisation's signature?")
    page.click("text=Yes, withdraw our signature")
    expect(page.locator(".status")).to_contain_text("Withdrawn")


def _sheet_number(sheet: BeautifulSoup, key: str) -> int:
    return int(sheet.select_one(f"#total-{key}").get_text())


@pytest.mark.slow
@pytest.mark.browser
def test_a_whole_campaign_runs_from_import_to_build_with_every_number_matching(
    signon_workspace: SignOnWorkspace,
    live_server: LiveServer,
    *,
    invoke,
    mailbox: CaptureHandler,
    browser_page,
    tmp_path: Path,
) -> None:
    home = signon_workspace.home
    coalition = tmp_path / "coalition.csv"
    _write_coalition(coalition)
    _ok(invoke("org", "import", str(coalition)))

    invited = _ok(invoke("invite", SLUG, "--all"))
    invited_count = len(signon_workspace.organisations) + len(IMPORTED)
    assert {r.recipients[0] for r in mailbox.received} >= {row[4] for row in IMPORTED}
    assert len(mailbox.received) == invited_count, invited.output

    page = browser_page
    for name in [*CONFIRM, WITHDRAW]:
        _confirm(page, _link(mailbox, _address(name)), signer=f"Signer of {name}")
    for name in DECLINE:
        _decline(page, _link(mailbox, _address(name)))
    _withdraw(page, _link(mailbox, _address(WITHDRAW)))

    body = home / "letters" / SLUG / "body.md"
    body.write_text(body.read_text("utf-8") + "\nWe ask for a reply within thirty days.\n", "utf-8")
    _ok(invoke("publish", SLUG))
    before = len(mailbox.received)
    _ok(invoke("reconfirm", SLUG))
    assert len(mailbox.received) - before == len(CONFIRM)  # one request per stale signature
    for name in RECONFIRM:
        _confirm(page, _link(mailbox, _address(name)), signer="")  # the form is prefilled

    _ok(invoke("close", SLUG, "--yes"))
    built = _ok(invoke("build", SLUG, "--format", "html", "--leave-out-stale"))

    # counts, as JSON
    counts = json.loads(_ok(invoke("counts", SLUG, "--format", "json")).stdout)["totals"]
    expected = {
        "invited": invited_count,
        "confirmed": len(CONFIRM),
        "confirmed_current": len(RECONFIRM),
        "confirmed_stale": 1,
        "declined": len(DECLINE),
        "withdrawn": 1,
        "not_answered": invited_count - len(CONFIRM) - len(DECLINE) - 1,
    }
    assert {key: counts[key] for key in expected} == expected
    # the count sheet
    sheet_path = tmp_path / "sheet.html"
    _ok(invoke("counts", SLUG, "--html", str(sheet_path)))
    sheet = BeautifulSoup(sheet_path.read_text("utf-8"), "html.parser")
    for key, value in expected.items():
        if sheet.select_one(f"#total-{key}") is not None:
            assert _sheet_number(sheet, key) == value, key
    assert _sheet_number(sheet, "confirmed_current") == len(RECONFIRM)
    warning = sheet.select_one("#stale-warning").get_text(" ", strip=True)
    assert f"Only {len(RECONFIRM)} of the {len(CONFIRM)} confirmations" in warning
    # the build's signatory list and the letter's own count
    out = home / "letters" / SLUG / "out"
    with (out / "signatories.csv").open(encoding="utf-8-sig", newline="") as handle:
        listed = [row["name"] for row in csv.DictReader(handle)]
    assert sorted(listed) == sorted(RECONFIRM)
    listing = json.loads((out / "signatories.json").read_text("utf-8"))
    assert listing["count"] == len(RECONFIRM)
    letter = BeautifulSoup((out / "uk.html").read_text("utf-8"), "lxml")
    printed = [li.get_text() for li in letter.select(".signatories ul.names li")]
    assert sorted(printed) == sorted(RECONFIRM)
    count = letter.select_one('.body span[data-placeholder="signatory_count"]').get_text()
    assert int(count) == len(RECONFIRM) == counts["confirmed_current"]
    # the stale one: named in build's output, counted nowhere
    assert f"  - {STALE}" in built.output.splitlines()
    assert "Left out 1 organisation that confirmed an earlier text" in built.output
    assert STALE not in listed and STALE not in printed
    assert STALE not in json.dumps(listing, ensure_ascii=False)
    assert STALE not in (out / "uk.html").read_text("utf-8")
    assert "Built" in built.output and f"{len(RECONFIRM)} signatories" in built.output
