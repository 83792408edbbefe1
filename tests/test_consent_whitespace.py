"""The consent hash ignores whitespace that changes no word; older confirmations stay valid."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from coalitionletter import db
from coalitionletter.campaigns import catalogue as campaigns
from coalitionletter.campaigns import roster
from coalitionletter.campaigns.letter_text import consent_hash, legacy_consent_hash
from coalitionletter.db import Database
from coalitionletter.errors import StaleConsentError
from coalitionletter.models import LetterText
from coalitionletter.reports import counts as reports
from coalitionletter.reports.count_values import LetterNow
from coalitionletter.settings import Settings
from coalitionletter.signon import consent
from fixtures_letters import LEAD_NAME

SLUG = "ilp-magnitsky-2020"
BODY = "Dear Minister,\n\nWe, {{ signatory_count }} organisations, urge you.\n\nSincerely.\n"
PARTS = ("Title", "Yours sincerely,", "Lead Org")


@pytest.mark.parametrize(
    "edited",
    [
        BODY + "\n\n\n",  # trailing blank lines
        BODY.replace("\n", "\r\n"),  # Windows line endings
        BODY.replace("urge you.", "urge you.   ").replace("Minister,", "Minister,\t"),
        BODY.replace("\n\n", "\n\n\n\n"),  # several blank lines between paragraphs
        "\n\n" + BODY,  # blank lines before the text
        BODY.rstrip("\n"),  # no final newline
    ],
    ids=["trailing-blank-lines", "crlf", "trailing-spaces", "blank-line-runs", "leading", "eof"],
)
def test_a_whitespace_only_edit_keeps_the_consent_hash(edited: str) -> None:
    assert consent_hash(edited, *PARTS) == consent_hash(BODY, *PARTS)


@pytest.mark.parametrize(
    "edited",
    [
        BODY.replace("urge you", "ask you"),
        BODY.replace("organisations, urge", "organisations urge"),
        BODY.replace("Dear Minister,\n\nWe", "Dear Minister,\nWe"),  # two paragraphs become one
        BODY.replace("We, ", "We,  "),  # space inside a line: a change staff can see in a diff
    ],
    ids=["word", "comma", "paragraph-joined", "inner-space"],
)
def test_a_real_edit_changes_the_consent_hash(edited: str) -> None:
    assert consent_hash(edited, *PARTS) != consent_hash(BODY, *PARTS)


def _body(home: Path) -> Path:
    return home / "letters" / SLUG / "body.md"


def _reload(settings: Settings):  # type: ignore[no-untyped-def]
    return campaigns.load(settings, SLUG)


def test_a_build_after_a_whitespace_only_edit_still_lists_everyone(
    invoke, founding, add_signatories, founding_home: Path
) -> None:
    add_signatories(founding, [LEAD_NAME, "Current Rights"])
    body = _body(founding_home)
    body.write_text(body.read_text("utf-8").replace("\n", "  \r\n") + "\n\n\n", "utf-8")
    result = invoke("build", "--format", "html", "-q")
    assert result.exit_code == 0, result.output
    assert "earlier text" not in result.output


def test_a_build_after_a_real_edit_still_refuses_the_earlier_confirmations(
    invoke, founding, add_signatories, founding_home: Path
) -> None:
    add_signatories(founding, [LEAD_NAME, "Current Rights"])
    body = _body(founding_home)
    body.write_text(body.read_text("utf-8") + "\nOne more sentence.\n", "utf-8")
    result = invoke("build", "--format", "html", "-q")
    assert result.exit_code != 0
    assert "2 confirmations were given to an earlier text" in result.output


def _legacy_hash(settings: Settings) -> str:
    definition = _reload(settings)
    return legacy_consent_hash(
        definition.body_source, definition.title, definition.closing, definition.lead.name
    )


def test_a_confirmation_stored_with_the_old_hash_of_the_same_text_is_current(
    database: Database, settings: Settings, founding, add_signatories
) -> None:
    old = _legacy_hash(settings)
    assert old != founding.text_hash  # the change does move the hash of this text
    add_signatories(founding, ["Old Hash Rights"], text_hash=old)
    with database.reading() as session:
        names = roster.read_roster(session, founding)
        letter = LetterNow("t", None, consent.current_hashes(session, founding))
        counted = reports.campaign_counts(session, SLUG, letter=letter)
    assert [s.name for s in names.signatories] == ["Old Hash Rights"]
    assert (counted.totals.confirmed_current, counted.totals.confirmed_stale) == (1, 0)


def test_an_old_hash_confirmation_survives_a_later_whitespace_only_edit(
    database: Database, settings: Settings, founding, add_signatories, founding_home: Path
) -> None:
    old = _legacy_hash(settings)
    add_signatories(founding, ["Old Hash Rights"], text_hash=old)
    with database.writing() as session:
        # What the old code kept when it showed the text: the version under its old hash.
        campaign = campaigns.campaign_row(session, SLUG)
        session.add(
            LetterText(
                campaign_id=campaign.id, text_hash=old, body=consent.current(founding).as_text()
            )
        )
    body = _body(founding_home)
    body.write_text(body.read_text("utf-8") + "\n\n\n", "utf-8")
    edited = _reload(settings)
    assert (
        legacy_consent_hash(edited.body_source, edited.title, edited.closing, edited.lead.name)
        != old
    )  # the old rule alone would now call it stale
    with database.reading() as session:
        names = roster.read_roster(session, edited)
    assert [s.name for s in names.signatories] == ["Old Hash Rights"]


def test_an_old_hash_confirmation_is_stale_after_a_real_edit(
    database: Database, settings: Settings, founding, add_signatories, founding_home: Path
) -> None:
    add_signatories(founding, ["Old Hash Rights"], text_hash=_legacy_hash(settings))
    body = _body(founding_home)
    body.write_text(body.read_text("utf-8") + "\nA new paragraph.\n", "utf-8")
    with database.reading() as session, pytest.raises(StaleConsentError):
        roster.read_roster(session, _reload(settings))


def test_confirmations_in_a_database_from_before_the_change_stay_valid_after_upgrading(
    tmp_path: Path, settings: Settings, founding_home: Path
) -> None:
    """Rows as the previous schema and code wrote them, then `migrate`: nobody turns stale."""
    definition = _reload(settings)
    old = legacy_consent_hash(
        definition.body_source, definition.title, definition.closing, definition.lead.name
    )
    database = Database(f"sqlite:///{tmp_path / 'before.db'}")
    db.upgrade(database, "0003")
    stamp = "'2020-08-01 10:00:00'"
    rows = [
        "INSERT INTO organisations (id, slug, name, name_key, sort_name, created_at, updated_at)"
        f" VALUES (1, 'pen', 'PEN Example', 'penexample', 'PEN Example', {stamp}, {stamp})",
        f"INSERT INTO campaigns (id, slug, title, created_at) VALUES (1, '{SLUG}', 't', {stamp})",
        "INSERT INTO invitations (id, campaign_id, organisation_id, state, text_hash, listing,"
        " version, view_count, reminders_sent, created_at, updated_at)"
        f" VALUES (1, 1, 1, 'confirmed', '{old}', 'public', 1, 0, 0, {stamp}, {stamp})",
    ]
    with database.engine.begin() as connection:
        for statement in rows:
            connection.execute(text(statement))
    db.upgrade(database)
    with database.reading() as session:
        names = roster.read_roster(session, definition)
        current = consent.current_hashes(session, definition)
        counted = reports.campaign_counts(session, SLUG, letter=LetterNow("t", None, current))
    assert [s.name for s in names.signatories] == ["PEN Example"]
    assert counted.totals.confirmed_stale == 0
    database.dispose()


def test_reconfirm_does_not_ask_an_old_hash_confirmation_of_the_same_text(
    database: Database, settings: Settings, founding, add_signatories
) -> None:
    from coalitionletter.signon import states

    add_signatories(founding, ["Old Hash Rights"], text_hash=_legacy_hash(settings))
    with database.reading() as session:
        campaign = campaigns.campaign_row(session, SLUG)
        current = consent.current_hashes(session, founding)
        assert states.stale_confirmations(session, campaign, current) == []
        # Positive control: against the new hash alone it would be asked.
        assert len(states.stale_confirmations(session, campaign, {founding.text_hash})) == 1


def test_the_sign_on_page_shows_an_old_hash_confirmation_of_the_same_text_as_confirmed(
    signon_workspace, web_client, invoke, mailbox
) -> None:
    from sqlalchemy import update

    from coalitionletter.models import Invitation
    from fixtures_signon import BROWSER_AGENT, ORGANISATIONS, confirm_form, invite_one

    name = ORGANISATIONS[0][0]
    token = invite_one(signon_workspace, invoke, mailbox, name)
    form = confirm_form(web_client, token, signer_name="A", signer_title="B", display_name=name)
    assert web_client.post(f"/s/{token}", data=form).status_code == 303
    with signon_workspace.database.writing() as session:
        session.execute(
            update(Invitation).values(text_hash=_legacy_hash(signon_workspace.settings))
        )
    page = web_client.get(f"/s/{token}", headers={"User-Agent": BROWSER_AGENT}).text
    assert "state-confirmed" in page and "The text has changed" not in page
    # Positive control: a real edit makes the same confirmation stale on the page.
    body = _body(signon_workspace.home)
    body.write_text(body.read_text("utf-8") + "\nA new paragraph.\n", "utf-8")
    page = web_client.get(f"/s/{token}", headers={"User-Agent": BROWSER_AGENT}).text
    assert "The text has changed" in page
