"""Campaign definitions: letter.toml and body.md, read and checked."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from coalitionletter.campaigns import catalogue as campaigns
from coalitionletter.campaigns.letter_text import PLACEHOLDER_PATTERN, PLACEHOLDERS
from coalitionletter.errors import CampaignError
from coalitionletter.models import Campaign
from fixtures_letters import MINIMAL_TOML, write_campaign

FOUNDING = "ilp-magnitsky-2020"


def test_the_founding_campaign_loads_with_both_recipients(founding_home, settings):
    definition = campaigns.load(settings, FOUNDING)
    assert definition.lead.name == "International Lawyers Project"
    assert definition.letter_date == date(2020, 8, 18)
    assert definition.deadline is None
    uk, canada = definition.recipients
    assert (uk.key, uk.locale, uk.paper) == ("uk", "en-GB", "A4")
    assert uk.full_name == "The Rt Hon Dominic Raab MP"
    assert (canada.key, canada.locale, canada.paper) == ("canada", "en-CA", "Letter")
    assert canada.full_name == "The Honourable François-Philippe Champagne, P.C., M.P."
    assert "Ottawa, Ontario K1A 0A6" in canada.address_lines


def test_the_founding_body_uses_only_known_placeholders(founding_home, settings):
    body = campaigns.load(settings, FOUNDING).body_source
    used = {m.group(1).strip() for m in PLACEHOLDER_PATTERN.finditer(body)}
    assert used and used <= set(PLACEHOLDERS)


def test_the_email_settings_are_read_from_the_email_table(home, settings):
    email_table = (
        "[email]\n"
        'sender = "Lawyers <campaigns@lawyers.test>"\n'
        'reply_to = "replies@lawyers.test"\n'
        'subject = "Please sign"\n'
    )
    write_campaign(
        home, toml=MINIMAL_TOML.replace("[[recipients]]", email_table + "[[recipients]]")
    )
    email = campaigns.load(settings, "test-letter").email
    assert (email.sender, email.reply_to, email.subject) == (
        "Lawyers <campaigns@lawyers.test>",
        "replies@lawyers.test",
        "Please sign",
    )


def test_without_a_subject_the_invitation_names_the_letter(home, settings):
    write_campaign(home)
    assert (
        campaigns.load(settings, "test-letter").email.subject == "Invitation to sign: A test letter"
    )


def test_a_missing_field_names_the_file_and_the_recipient(home, settings):
    toml = MINIMAL_TOML.replace('salutation = "Dear Secretary of State,"\n', "")
    folder = write_campaign(home, toml=toml)
    with pytest.raises(CampaignError) as caught:
        campaigns.load(settings, "test-letter")
    message = str(caught.value)
    assert f"{folder / 'letter.toml'}:" in message
    assert "salutation is missing in [[recipients]] number 1" in message


def test_a_bad_date_names_the_file_and_line(home, settings):
    toml = MINIMAL_TOML.replace("letter_date = 2020-08-18", 'letter_date = "18th August"')
    folder = write_campaign(home, toml=toml)
    with pytest.raises(CampaignError, match="is not a date") as caught:
        campaigns.load(settings, "test-letter")
    assert str(caught.value).startswith(f"{folder / 'letter.toml'}:2: letter_date")


def test_a_deadline_without_a_time_zone_is_refused(home, settings):
    folder = write_campaign(home, toml="deadline = 2020-08-14T17:00:00\n" + MINIMAL_TOML)
    with pytest.raises(CampaignError, match="no time zone") as caught:
        campaigns.load(settings, "test-letter")
    assert str(caught.value).startswith(f"{folder / 'letter.toml'}:1: deadline")


def test_a_deadline_with_its_zone_is_kept(home, settings):
    write_campaign(home, toml="deadline = 2020-08-14T16:00:00Z\n" + MINIMAL_TOML)
    deadline = campaigns.load(settings, "test-letter").deadline
    assert deadline == datetime(2020, 8, 14, 16, tzinfo=UTC)


def test_build_date_means_no_fixed_date(home, settings):
    toml = MINIMAL_TOML.replace("letter_date = 2020-08-18", 'letter_date = "build date"')
    write_campaign(home, toml=toml)
    assert campaigns.load(settings, "test-letter").letter_date is None


def test_an_unknown_placeholder_names_body_md_and_its_line(home, settings):
    folder = write_campaign(home, body="Dear friends,\n\nWe, {{ signatories }}, write.\n")
    with pytest.raises(CampaignError) as caught:
        campaigns.load(settings, "test-letter")
    assert str(caught.value).startswith(f"{folder / 'body.md'}:3: unknown placeholder")
    assert "{{ signatory_count }}" in str(caught.value)


def test_an_unclosed_placeholder_is_refused(home, settings):
    write_campaign(home, body="We, {{ signatory_count, write.\n")
    with pytest.raises(CampaignError, match=r"body.md:1: '\{\{' is not a complete placeholder"):
        campaigns.load(settings, "test-letter")


def test_toml_syntax_errors_name_the_line(home, settings):
    write_campaign(home, toml=MINIMAL_TOML.replace('title = "A test letter"', "title = A test"))
    with pytest.raises(CampaignError, match=r"letter.toml: .*line 1"):
        campaigns.load(settings, "test-letter")


def test_an_unknown_paper_size_is_refused(home, settings):
    write_campaign(home, toml=MINIMAL_TOML + 'paper = "A5"\n')  # inside [[recipients]]
    with pytest.raises(CampaignError, match="'A5' is not one of A4, Letter"):
        campaigns.load(settings, "test-letter")


@pytest.mark.parametrize(
    ("given", "paper"), [("a4", "A4"), ("LETTER", "Letter"), ("letter", "Letter")]
)
def test_paper_sizes_are_read_in_any_case(home, settings, given, paper):
    write_campaign(home, toml=MINIMAL_TOML + f'paper = "{given}"\n')
    assert campaigns.load(settings, "test-letter").recipients[0].paper == paper


def test_canadian_recipients_default_to_letter_paper(home, settings):
    write_campaign(home, toml=MINIMAL_TOML.replace('"en-GB"', '"en-CA"'))
    assert campaigns.load(settings, "test-letter").recipients[0].paper == "Letter"


def test_the_text_hash_follows_the_words_not_the_date(home, settings):
    folder = write_campaign(home)
    first = campaigns.load(settings, "test-letter").text_hash
    toml = (folder / "letter.toml").read_text("utf-8")
    (folder / "letter.toml").write_text(toml.replace("2020-08-18", "2020-08-19"), "utf-8")
    assert campaigns.load(settings, "test-letter").text_hash == first
    (folder / "body.md").write_text("We, {{ signatory_count }} groups, write to you.\n", "utf-8")
    assert campaigns.load(settings, "test-letter").text_hash != first


def test_the_text_hash_ignores_newline_style_and_unicode_composition(home, settings):
    folder = write_campaign(home, body="Caf\u00e9 society.\nSecond line.\n")
    first = campaigns.load(settings, "test-letter").text_hash
    (folder / "body.md").write_bytes("Cafe\u0301 society.\r\nSecond line.\r\n".encode())
    assert campaigns.load(settings, "test-letter").text_hash == first


def test_resolve_picks_the_only_campaign(home, settings):
    write_campaign(home)
    assert campaigns.resolve(settings, None).slug == "test-letter"


def test_resolve_asks_which_when_there_are_several(home, settings):
    write_campaign(home, "first-letter")
    write_campaign(home, "second-letter")
    with pytest.raises(CampaignError, match=r"2 campaigns \(first-letter, second-letter\)"):
        campaigns.resolve(settings, None)


def test_an_unknown_campaign_lists_the_known_ones(home, settings):
    write_campaign(home)
    with pytest.raises(CampaignError, match="Campaigns found: test-letter"):
        campaigns.load(settings, "other-letter")


def test_sync_creates_then_updates_the_row(home, settings, database):
    folder = write_campaign(home)
    with database.writing() as session:
        campaigns.sync(session, campaigns.load(settings, "test-letter"))
    toml = (folder / "letter.toml").read_text("utf-8")
    (folder / "letter.toml").write_text(toml.replace("A test letter", "Renamed"), "utf-8")
    with database.writing() as session:
        campaigns.sync(session, campaigns.load(settings, "test-letter"))
    with database.reading() as session:
        rows = session.scalars(select(Campaign)).all()
        assert [(r.slug, r.title) for r in rows] == [("test-letter", "Renamed")]


def test_campaign_row_says_to_run_init(database):
    with (
        database.reading() as session,
        pytest.raises(CampaignError, match="Run `coalitionletter init`"),
    ):
        campaigns.campaign_row(session, "test-letter")
    with database.reading() as session:
        assert session.scalar(select(func.count()).select_from(Campaign)) == 0


def test_a_misspelt_field_is_refused_with_its_line(home, settings):
    folder = write_campaign(
        home, toml=MINIMAL_TOML.replace("[lead]\n", "[lead]\nlist_frist = false\n")
    )
    with pytest.raises(CampaignError) as caught:
        campaigns.load(settings, "test-letter")
    assert str(caught.value).startswith(f"{folder / 'letter.toml'}:6: lead.list_frist: is not a")


@pytest.mark.parametrize(
    ("char", "label"),
    [("\u200b", "U+200B ZERO WIDTH SPACE"), ("\u034f", "U+034F COMBINING GRAPHEME JOINER")],
)
def test_an_invisible_character_in_the_lead_name_is_refused_with_its_line(
    home, settings, char, label
):
    toml = MINIMAL_TOML.replace(
        'name = "International Lawyers Project"', f'name = "International{char} Lawyers Project"'
    )
    folder = write_campaign(home, toml=toml)
    with pytest.raises(CampaignError) as caught:
        campaigns.load(settings, "test-letter")
    assert label in str(caught.value)
    assert str(caught.value).startswith(f"{folder / 'letter.toml'}:6: lead.name")
    assert "position 14" in str(caught.value)


def test_a_hangul_filler_in_an_address_line_is_refused(home, settings):
    toml = MINIMAL_TOML.replace('"London SW1A 2AH"', '"London\u3164SW1A 2AH"')
    write_campaign(home, toml=toml)
    with pytest.raises(CampaignError, match="U\\+3164 HANGUL FILLER"):
        campaigns.load(settings, "test-letter")


def test_a_persian_lead_name_with_its_zwnj_is_kept(home, settings):
    name = "انجمن نمونه\u200cای حقوق بشر"
    write_campaign(home, toml=MINIMAL_TOML.replace('"International Lawyers Project"', f'"{name}"'))
    assert campaigns.load(settings, "test-letter").lead.name == name
