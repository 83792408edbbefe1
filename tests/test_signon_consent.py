"""The changes `reconfirm` shows: paragraph by paragraph, words marked, nothing else."""

from dataclasses import replace
from datetime import date

from coalitionletter.build.content import letter_context
from coalitionletter.build.output_files import PUBLIC
from coalitionletter.campaigns import roster
from coalitionletter.campaigns.definition import CampaignDefinition
from coalitionletter.campaigns.letter_text import consent_hash, legacy_consent_hash
from coalitionletter.db import Database
from coalitionletter.signon import consent
from coalitionletter.signon.consent import LetterVersion, changes


def _stored(*paragraphs: str, title: str = "Title", closing: str = "Yours sincerely,") -> str:
    """A version as it is kept and compared: title, body paragraphs, closing and lead."""
    version = LetterVersion("hash", title, "\n\n".join(paragraphs), closing, "Lead Org")
    return version.as_text()


def test_a_changed_word_is_marked_inside_its_paragraph() -> None:
    shown = changes(_stored("We ask the UK to act."), _stored("We ask Canada to act."))
    assert shown == "Paragraph 1, changed:\nWe ask [-the UK-] {+Canada+} to act."


def test_paragraphs_are_counted_in_the_body_not_from_the_title() -> None:
    shown = changes(_stored("One.", "Two.", "Three."), _stored("One.", "Two.", "Three!"))
    assert shown.startswith("Paragraph 3, changed:")


def test_an_added_paragraph_is_shown_whole() -> None:
    shown = changes(_stored("One."), _stored("One.", "Two more."))
    assert shown == "Paragraph 2, added:\n{+Two more.+}"


def test_a_removed_paragraph_is_shown_whole() -> None:
    shown = changes(_stored("One.", "Gone."), _stored("One."))
    assert shown == "Paragraph 2 of the text you confirmed, removed:\n[-Gone.-]"


def test_a_changed_title_and_closing_are_named_not_counted() -> None:
    shown = changes(_stored("One.", title="Old"), _stored("One.", title="New", closing="Yours,"))
    assert shown == (
        "Title, changed:\n[-Old-] {+New+}\n\n"
        "Closing, changed:\n[-Yours sincerely,-] {+Yours,+} Lead Org"
    )


def test_the_same_text_has_no_changes() -> None:
    assert changes("Title\n\nOne.\n", "Title\n\nOne.\n") == ""


# --- the page shows the body exactly as the letter prints it ------------------------------

LEAD_WITH_MARKS = "Friends of *Hong* Kong <b>&</b> Co"
MARKDOWN_BODY = (
    "Written by {{ lead_organisation }}, *in Markdown*.\n\nA <script>x</script> stays text.\n"
)


def _with_lead(definition: CampaignDefinition) -> CampaignDefinition:
    lead = replace(definition.lead, name=LEAD_WITH_MARKS)
    return replace(definition, lead=lead, body_source=MARKDOWN_BODY)


def test_the_sign_on_page_and_the_letter_render_the_same_body_html(
    founding: CampaignDefinition, database: Database
) -> None:
    definition = _with_lead(founding)
    with database.reading() as session:
        names = roster.read_roster(session, definition)
    printed = letter_context(
        definition,
        names,
        definition.recipients[0],
        variant=PUBLIC,
        letter_date=date(2020, 8, 18),
        created="2020-08-18T00:00:00Z",
    )["body"]
    shown = consent.body_html(definition)
    assert str(shown) == str(printed)
    assert "<em>in Markdown</em>" in shown  # positive control: the Markdown itself is rendered


def test_the_leads_name_is_printed_as_written_not_read_as_markdown(
    founding: CampaignDefinition,
) -> None:
    shown = str(consent.body_html(_with_lead(founding)))
    assert "*Hong*" in shown and "<em>Hong</em>" not in shown
    assert "&lt;b&gt;&amp;&lt;/b&gt;" in shown and "<b>" not in shown
    assert "&lt;script&gt;" in shown and "<script>" not in shown


# The founding campaign's hash as the code before the shared body renderer computed it
# (before whitespace was normalised): rendering changes must never void the consents
# already given, so confirmations carrying it still count for the same words.
FOUNDING_TEXT_HASH = "c832a9329ba589bf6fa129e8561e2205aa340c948b29b6988470fc0e3dfb06e2"
# The same words' hash since whitespace that changes no word is left out of it.
FOUNDING_WORDS_HASH = "558d0bf2dbfbfead358b1a4273dcf41554075ff92a7deabd72bb37df92ab5ffa"


def test_the_consent_hash_of_an_existing_text_is_unchanged(founding: CampaignDefinition) -> None:
    assert founding.text_hash == FOUNDING_WORDS_HASH
    assert consent.current(founding).text_hash == FOUNDING_WORDS_HASH
    parts = (founding.body_source, founding.title, founding.closing, founding.lead.name)
    assert consent_hash(*parts) == FOUNDING_WORDS_HASH
    # Consents given under the earlier hash of the same text stay current.
    assert legacy_consent_hash(*parts) == FOUNDING_TEXT_HASH
    assert FOUNDING_TEXT_HASH in founding.current_hashes
