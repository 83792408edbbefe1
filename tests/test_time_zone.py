"""Deadlines in the campaign's time zone, named, wherever a deadline shows (#12 §2)."""

from __future__ import annotations

from pathlib import Path

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
