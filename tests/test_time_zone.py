"""Deadlines in the campaign's time zone, named, wherever a deadline shows (#12 §2)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import select

from coalitionletter.campaigns import catalogue as campaigns
from coalitionletter.errors import CampaignError
from coalitionletter.models import Invitation
from fixtures_signon import BROWSER_AGENT, SLUG, SignOnWorkspace, confirm_form

HUMAN = {"User-Agent": BROWSER_AGENT}
# 17:00 in London in summer is 16:00 UTC; written in letter.toml as UTC.
DEADLINE = "2040-08-14T16:00:00Z"
LONDON = "14 August 2040, 17:00 (United Kingdom Time)"
AS_WRITTEN = "14 August 2040, 16:00 (UTC)"


def _letter_toml(home: Path) -> Path:
    return home / "letters" / SLUG / "letter.toml"


def set_deadline(home: Path, *, zone: str | None) -> None:
    """Give the founding campaign a deadline, and a time zone when `zone` is given."""
    path = _letter_toml(home)
    head = f"deadline = {DEADLINE}\n"
    if zone is not None:
        head += f"time_zone = {zone}\n"
    path.write_text(head + path.read_text("utf-8"), "utf-8")


# --- letter.toml --------------------------------------------------------------------------


def test_letter_toml_takes_an_iana_time_zone(signon_workspace: SignOnWorkspace) -> None:
    set_deadline(signon_workspace.home, zone='"Europe/London"')
    definition = campaigns.load(signon_workspace.settings, SLUG)
    assert definition.time_zone == "Europe/London"


def test_without_a_time_zone_the_campaign_has_none(signon_workspace: SignOnWorkspace) -> None:
    set_deadline(signon_workspace.home, zone=None)
    assert campaigns.load(signon_workspace.settings, SLUG).time_zone is None


@pytest.mark.parametrize(
    ("written", "problem"),
    [
        ('"Europe/Londres"', "'Europe/Londres' is not a known time zone"),
        ('"../../etc/passwd"', "is not a known time zone"),
        ("1", "1 is not a time zone"),
        ('""', "'' is not a time zone"),
    ],
    ids=["unknown", "a-path", "a-number", "empty"],
)
def test_a_bad_time_zone_is_refused_naming_the_file_the_field_and_an_example(
    signon_workspace: SignOnWorkspace, written: str, problem: str
) -> None:
    set_deadline(signon_workspace.home, zone=written)
    with pytest.raises(CampaignError) as refused:
        campaigns.load(signon_workspace.settings, SLUG)
    message = str(refused.value)
    assert str(_letter_toml(signon_workspace.home)) in message
    assert "time_zone" in message and problem in message
    assert 'e.g. time_zone = "Europe/London"' in message


# --- the sign-on page -----------------------------------------------------------------------


def test_the_sign_on_page_shows_the_deadline_in_the_campaigns_zone_with_its_name(
    signon_workspace: SignOnWorkspace, web_client, token: str
) -> None:
    set_deadline(signon_workspace.home, zone='"Europe/London"')
    page = BeautifulSoup(web_client.get(f"/s/{token}", headers=HUMAN).text, "html.parser")
    assert f"You can change your answer until {LONDON}." in page.get_text(" ", strip=True)


def test_without_a_zone_the_page_keeps_the_deadlines_own_offset(
    signon_workspace: SignOnWorkspace, web_client, token: str
) -> None:
    set_deadline(signon_workspace.home, zone=None)
    page = BeautifulSoup(web_client.get(f"/s/{token}", headers=HUMAN).text, "html.parser")
    assert f"You can change your answer until {AS_WRITTEN}." in page.get_text(" ", strip=True)


def test_the_day_an_answer_was_given_is_the_day_in_the_campaigns_zone(
    signon_workspace: SignOnWorkspace, web_client, token: str
) -> None:
    set_deadline(signon_workspace.home, zone='"Pacific/Kiritimati"')  # UTC+14
    response = web_client.post(f"/s/{token}", data=confirm_form(web_client, token))
    assert response.status_code == 303
    with signon_workspace.database.reading() as session:
        decided = session.scalars(select(Invitation.decided_at)).one()
    from zoneinfo import ZoneInfo

    from coalitionletter.dates import format_day

    local_day = format_day(decided.astimezone(ZoneInfo("Pacific/Kiritimati")).date(), "en-GB")
    page = BeautifulSoup(web_client.get(f"/s/{token}", headers=HUMAN).text, "html.parser")
    assert f"on {local_day}." in page.find(class_="status").get_text(" ", strip=True)


def test_the_closed_page_says_when_it_closed_in_the_campaigns_zone(
    signon_workspace: SignOnWorkspace, web_client, token: str, invoke
) -> None:
    set_deadline(signon_workspace.home, zone='"Asia/Tokyo"')
    closed = invoke("close", SLUG, "--yes")
    assert closed.exit_code == 0, closed.output

    page = BeautifulSoup(web_client.get(f"/s/{token}", headers=HUMAN).text, "html.parser")

    when = page.find(class_="closed-when").get_text(" ", strip=True)
    assert when.startswith("It closed on ") and "(Japan Time)" in when


# --- counts, the count sheet, emails, close and reopen, the console --------------------------


def test_counts_show_the_deadline_and_the_count_time_in_the_campaigns_zone(
    signon_workspace: SignOnWorkspace, token: str, invoke
) -> None:
    set_deadline(signon_workspace.home, zone='"Europe/London"')

    result = invoke("counts", SLUG)

    assert result.exit_code == 0, result.output
    assert f"Deadline {LONDON}: " in result.output
    counted = next(line for line in result.output.splitlines() if line.startswith("Counted "))
    assert counted.endswith("(United Kingdom Time)")
    overview = invoke("counts")
    assert overview.exit_code == 0, overview.output
    assert "14 August 2040" in overview.output


def test_the_count_sheet_shows_the_deadline_in_the_campaigns_zone(
    signon_workspace: SignOnWorkspace, token: str, invoke, tmp_path: Path
) -> None:
    set_deadline(signon_workspace.home, zone='"Europe/London"')
    sheet = tmp_path / "sheet.html"

    result = invoke("counts", SLUG, "--html", str(sheet))

    assert result.exit_code == 0, result.output
    page = BeautifulSoup(sheet.read_text("utf-8"), "html.parser")
    assert page.select_one(".deadline").get_text().startswith(f"Deadline {LONDON}: ")
    assert page.select_one(".as-of").get_text().endswith("(United Kingdom Time)")


def test_the_invitation_email_gives_the_deadline_in_the_campaigns_zone(
    signon_workspace: SignOnWorkspace, invoke, mailbox
) -> None:
    from fixtures_signon import ORGANISATIONS, invite_one

    set_deadline(signon_workspace.home, zone='"Europe/London"')
    invite_one(signon_workspace, invoke, mailbox, ORGANISATIONS[0][0])

    (message,) = mailbox.received
    assert f"until {LONDON}." in " ".join(message.text().split())
    assert f"until {LONDON}." in " ".join(
        BeautifulSoup(message.html(), "html.parser").get_text().split()
    )


def test_close_says_when_it_closed_in_the_campaigns_zone(
    signon_workspace: SignOnWorkspace, token: str, invoke
) -> None:
    set_deadline(signon_workspace.home, zone='"Asia/Tokyo"')

    result = invoke("close", SLUG, "--yes")

    assert result.exit_code == 0, result.output
    assert f"Closed the sign-on for {SLUG} at " in result.output
    assert "(Japan Time). Links now show that it has closed." in result.output


def test_reopen_until_gives_the_new_deadline_in_the_campaigns_zone(
    signon_workspace: SignOnWorkspace, token: str, invoke
) -> None:
    set_deadline(signon_workspace.home, zone='"Europe/London"')
    closed = invoke("close", SLUG, "--yes")
    assert closed.exit_code == 0, closed.output

    result = invoke("reopen", SLUG, "--until", "2040-08-21T17:00:00+01:00")

    assert result.exit_code == 0, result.output
    assert "until 21 August 2040, 17:00 (United Kingdom Time)" in result.output


def test_a_refused_reopen_names_the_past_deadline_in_the_campaigns_zone(
    signon_workspace: SignOnWorkspace, token: str, invoke
) -> None:
    set_deadline(signon_workspace.home, zone='"Europe/London"')

    result = invoke("reopen", SLUG, "--until", "2020-08-14T16:00:00Z")

    assert result.exit_code != 0
    assert "--until 14 August 2020, 17:00 (United Kingdom Time) is not in the future" in (
        result.output
    )


def test_the_console_dashboard_gives_the_deadline_in_the_campaigns_zone(
    counts_world, home: Path, console_accounts, signed_in
) -> None:
    from fixtures_console import COORDINATOR_EMAIL
    from fixtures_counts import COUNTS_SLUG

    letter = home / "letters" / COUNTS_SLUG / "letter.toml"
    letter.write_text('time_zone = "America/New_York"\n' + letter.read_text("utf-8"), "utf-8")
    client = signed_in(COORDINATOR_EMAIL)

    page = BeautifulSoup(client.get(f"/staff/c/{COUNTS_SLUG}").text, "html.parser")

    meta = page.select_one(".meta").get_text(" ", strip=True)
    from zoneinfo import ZoneInfo

    local = counts_world.deadline.astimezone(ZoneInfo("America/New_York"))  # 17:00 UTC
    assert f", {local:%H:%M} (United States (New York) Time): " in meta
    assert "days left" in meta
    assert meta.endswith("(United States (New York) Time)")  # the time it was counted


# --- days left in the console's list of campaigns, near midnight far from UTC ------------------

# (zone, the fixed clock, the deadline, days left in that zone, days left counted in UTC).
# Auckland (UTC+12 in August): 00:30 on the 15th, deadline 22:00 on the 15th: today, 0.
# Vancouver (UTC-7 in August): 23:30 on the 13th, deadline 13:00 on the 14th: tomorrow, 1.
NEAR_MIDNIGHT = [
    ("Pacific/Auckland", "2040-08-14T12:30:00+00:00", "2040-08-15T10:00:00+00:00", 0, 1),
    ("America/Vancouver", "2040-08-14T06:30:00+00:00", "2040-08-14T20:00:00+00:00", 1, 0),
]


@dataclass(frozen=True)
class Zoned:
    """A campaign in a far zone, its deadline near midnight, the clock fixed; a console."""

    slug: str
    client: Any
    in_zone: int
    in_utc: int


@pytest.fixture(params=NEAR_MIDNIGHT, ids=["auckland", "vancouver"])
def zoned(
    request: pytest.FixtureRequest,
    settings,
    database,
    home: Path,
    *,
    console_accounts,
    console_client,
    staff_login,
    monkeypatch: pytest.MonkeyPatch,
) -> Zoned:  # type: ignore[no-untyped-def]
    from datetime import datetime

    from coalitionletter.reports import count_queries, counts
    from fixtures_console import COORDINATOR_EMAIL
    from fixtures_counts import write_counts_campaign

    zone, now, deadline, in_zone, in_utc = request.param
    slug = "zoned-letter"
    folder = write_counts_campaign(home, datetime.fromisoformat(deadline), slug)
    toml = folder / "letter.toml"
    toml.write_text(f'time_zone = "{zone}"\n' + toml.read_text("utf-8"), "utf-8")
    with database.writing() as session:
        campaigns.sync(session, campaigns.load(settings, slug))
    moment = datetime.fromisoformat(now)  # every count is made at this moment
    monkeypatch.setattr(counts, "utcnow", lambda: moment)
    monkeypatch.setattr(count_queries, "utcnow", lambda: moment)
    client = console_client()
    staff_login(client, COORDINATOR_EMAIL)
    return Zoned(slug, client, in_zone, in_utc)


def test_the_console_campaign_list_counts_days_left_in_each_campaigns_zone(
    zoned: Zoned,
) -> None:
    page = BeautifulSoup(zoned.client.get("/staff/").text, "html.parser")

    rows = {
        row.th.find("span", class_="slug").get_text(): [td.get_text() for td in row("td")]
        for row in page.select("tbody tr")
    }
    assert zoned.in_zone != zoned.in_utc  # the data is near midnight: UTC would differ
    assert rows[zoned.slug][4] == str(zoned.in_zone)


def test_the_console_list_and_dashboard_and_counts_give_the_same_days_left(
    zoned: Zoned, invoke
) -> None:
    dashboard = BeautifulSoup(zoned.client.get(f"/staff/c/{zoned.slug}").text, "html.parser")
    overview = invoke("counts", "--format", "json")

    meta = dashboard.select_one(".meta").get_text(" ", strip=True)
    assert {0: ": closes today", 1: ": 1 day left"}[zoned.in_zone] in meta, meta
    assert overview.exit_code == 0, overview.output
    found = {c["campaign"]["slug"]: c["campaign"] for c in json.loads(overview.output)["campaigns"]}
    assert found[zoned.slug]["days_left"] == zoned.in_zone
