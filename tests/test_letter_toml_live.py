"""A change to letter.toml counts at once: no `init` between editing the file and its effect."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from coalitionletter.campaigns import catalogue as campaigns
from coalitionletter.models import Campaign, Invitation, utcnow
from fixtures_signon import (
    HUMAN,
    ORGANISATIONS,
    SIGNER,
    SLUG,
    SignOnWorkspace,
    confirm,
    set_deadline,
)

NAME = ORGANISATIONS[0][0]


def _letter(home: Path) -> Path:
    return home / "letters" / SLUG / "letter.toml"


def _sync_passed_deadline(workspace: SignOnWorkspace) -> None:
    """The row as a command left it when letter.toml still had a deadline now passed."""
    definition = replace(workspace.definition, deadline=utcnow() - timedelta(hours=1))
    with workspace.database.writing() as session:
        campaigns.sync(session, definition)


def test_a_deadline_moved_later_in_letter_toml_opens_links_without_init(
    signon_workspace: SignOnWorkspace, web_client, token: str
) -> None:
    _sync_passed_deadline(signon_workspace)
    with signon_workspace.database.reading() as session:
        row = session.scalars(select(Campaign)).one()
        assert row.deadline < utcnow()  # the database's copy says closed
    set_deadline(signon_workspace.home, (utcnow() + timedelta(days=3)).isoformat("T", "seconds"))
    page = web_client.get(f"/s/{token}", headers=HUMAN)
    assert page.status_code == 200
    confirm(web_client, token, **SIGNER)
    with signon_workspace.database.reading() as session:
        assert session.scalars(select(Invitation.state)).one() == "confirmed"


def test_the_page_shows_the_deadline_letter_toml_says_now(
    signon_workspace: SignOnWorkspace, web_client, token: str
) -> None:
    set_deadline(signon_workspace.home, "2031-05-06T17:00:00+00:00")
    page = web_client.get(f"/s/{token}", headers=HUMAN).text
    assert "6 May 2031, 17:00" in page


def test_counts_show_the_title_and_deadline_letter_toml_says_now(
    signon_workspace: SignOnWorkspace, token: str, invoke
) -> None:
    letter = _letter(signon_workspace.home)
    text = letter.read_text("utf-8")
    letter.write_text(
        re.sub(r'(?m)^title = ".*"$', 'title = "A retitled letter"', text), encoding="utf-8"
    )
    set_deadline(signon_workspace.home, "2031-05-06T17:00:00+00:00")
    result = invoke("counts", SLUG)
    assert result.exit_code == 0, result.output
    assert f"A retitled letter ({SLUG})" in result.output
    assert "Deadline 6 May 2031, 17:00 (UTC)" in result.output
    overview = invoke("counts")
    assert overview.exit_code == 0, overview.output
    assert "6 May 2031" in overview.output


def test_a_recipient_added_to_letter_toml_is_built_without_init(
    invoke, signed_founding, founding_home: Path
) -> None:
    letter = founding_home / "letters" / SLUG / "letter.toml"
    letter.write_text(
        letter.read_text("utf-8")
        + '\n[[recipients]]\nkey = "ireland"\nname = "Simon Coveney"\ntitle = "Minister"\n'
        'department = "Department of Foreign Affairs"\naddress_lines = ["Dublin"]\n'
        'salutation = "Dear Minister,"\nlocale = "en-IE"\n',
        encoding="utf-8",
    )
    result = invoke("build", "--format", "html", "-q")
    assert result.exit_code == 0, result.output
    assert (founding_home / "letters" / SLUG / "out" / "ireland.html").is_file()
