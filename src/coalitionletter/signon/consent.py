"""The words an organisation agrees to: the letter as shown for sign-on, kept by hash.

Consent is bound to `CampaignDefinition.text_hash` (title, body, closing, lead),
or, for a letter in several languages, to the hash of the language version the
organisation read. Every version shown in an email or on the sign-on page is kept in
`letter_texts`, so that when the text changes `reconfirm` can show each
organisation exactly what changed since the version it agreed to.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from markupsafe import Markup
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from coalitionletter.campaigns import letter_text
from coalitionletter.campaigns.definition import CampaignDefinition, LetterWords
from coalitionletter.campaigns.letter_text import normalise_words
from coalitionletter.models import Campaign, LetterText

# How placeholders read on the sign-on page, where no single recipient or count applies.
PLACEHOLDER_WORDS = {
    "signatory_count": "[number of signatories]",
    "signatory_count_words": "[number of signatories, in words]",
    "other_signatory_count": "[number of other signatories]",
    "other_signatory_count_words": "[number of other signatories, in words]",
    "recipient_name": "[the minister's name]",
    "recipient_title": "[the minister's title]",
    "date": "[the letter's date]",
}


@dataclass(frozen=True)
class LetterVersion:
    """One version of the letter's words, as shown to organisations."""

    text_hash: str
    title: str
    body: str
    closing: str
    lead: str
    # The parts as written (LetterWords as JSON), kept so the version can be shown again.
    source: str = ""
    language: str = ""  # the version's language ("" in records made before languages)

    def as_text(self) -> str:
        """The version as plain text, the form diffs and stored copies use."""
        return f"{self.title}\n\n{self.body.strip()}\n\n{self.closing}\n{self.lead}\n"


def page_values(lead: str) -> dict[str, str]:
    """What each placeholder reads as on the sign-on page and in the kept copies."""
    return {**PLACEHOLDER_WORDS, "lead_organisation": lead}


def current(definition: CampaignDefinition, language: str | None = None) -> LetterVersion:
    """The version of the letter the campaign's files hold now (in `language`, else its own)."""
    version = definition.version(language or definition.language)
    lead = definition.lead.name
    return LetterVersion(
        text_hash=version.text_hash,
        title=version.title,
        body=letter_text.fill_text(version.body_source, page_values(lead)),
        closing=version.closing,
        lead=lead,
        source=version.words(lead).as_json(),
        language=version.language,
    )


def body_html(definition: CampaignDefinition, language: str | None = None) -> Markup:
    """The body as the sign-on page shows it: rendered exactly as the letter renders it."""
    version = definition.version(language or definition.language)
    return letter_text.body_html(version.body_source, page_values(definition.lead.name))


def language_of(session: Session, campaign_id: int, text_hash: str | None) -> str | None:
    """The language of a kept version ("" for the campaign's own language), None if not kept."""
    if text_hash is None:
        return None
    source = session.scalar(
        select(LetterText.source).where(
            LetterText.campaign_id == campaign_id, LetterText.text_hash == text_hash
        )
    )
    if source is None:
        return None
    return LetterWords.from_json(source).language


def remember(session: Session, campaign_id: int, version: LetterVersion) -> None:
    """Keep a copy of a version that was shown or agreed to (once per hash)."""
    exists = session.execute(
        select(LetterText.id, LetterText.source).where(
            LetterText.campaign_id == campaign_id, LetterText.text_hash == version.text_hash
        )
    ).one_or_none()
    if exists is not None:
        if exists.source is None and version.source:
            # Kept before versions kept their parts: complete it, so it can be published.
            session.execute(
                update(LetterText)
                .where(LetterText.id == exists.id, LetterText.source.is_(None))
                .values(source=version.source)
                .execution_options(synchronize_session=False)
            )
        return
    try:
        with session.begin_nested():
            session.add(
                LetterText(
                    campaign_id=campaign_id,
                    text_hash=version.text_hash,
                    body=version.as_text(),
                    source=version.source or None,
                )
            )
    except IntegrityError:
        return  # another writer kept it first


def current_hashes(session: Session, definition: CampaignDefinition) -> frozenset[str]:
    """Every consent hash that counts as agreement to the campaign's current words.

    The current hash, the hash the same files made before whitespace was
    normalised, and the hash of every kept version whose words differ from the
    current ones only in whitespace: a confirmation given before the hash
    ignored whitespace, or before a whitespace-only edit, stays current.
    """
    hashes = set(definition.current_hashes)
    # Each language version's words: an earlier copy of one version counts for that one.
    words = {
        normalise_words(current(definition, v.language).as_text()): v.language
        for v in definition.versions
    }
    kept = session.execute(
        select(LetterText.text_hash, LetterText.body, LetterText.source)
        .join(Campaign, Campaign.id == LetterText.campaign_id)
        .where(Campaign.slug == definition.slug)
    )
    for text_hash, body, source in kept:
        language = words.get(normalise_words(body))
        if language is not None and _same_language(definition, source, language):
            hashes.add(text_hash)
    return frozenset(hashes)


def _same_language(definition: CampaignDefinition, source: str | None, language: str) -> bool:
    """True when a kept copy (by its source) is of the version in `language`."""
    kept = LetterWords.from_json(source).language if source else ""
    return (kept or definition.language) == language


def recalled(session: Session, campaign_id: int, text_hash: str | None) -> str | None:
    """The stored text of an earlier version, or None when it was never kept."""
    if text_hash is None:
        return None
    return session.scalar(
        select(LetterText.body).where(
            LetterText.campaign_id == campaign_id, LetterText.text_hash == text_hash
        )
    )


def _paragraphs(text: str) -> list[str]:
    return [" ".join(block.split()) for block in text.split("\n\n") if block.strip()]


def _word_changes(earlier: str, now: str) -> str:
    old, new = earlier.split(" "), now.split(" ")
    words: list[str] = []
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            words.extend(old[i1:i2])
            continue
        if i2 > i1:
            words.append("[-" + " ".join(old[i1:i2]) + "-]")
        if j2 > j1:
            words.append("{+" + " ".join(new[j1:j2]) + "+}")
    return " ".join(words)


def _label(index: int, blocks: list[str]) -> str:
    """What a reader calls a block of `LetterVersion.as_text`: Title, Paragraph N, Closing.

    The body's paragraphs are numbered from 1 as the reader counts them on the
    page; the title before them and the closing (with the lead's name) after them
    are named, not counted.
    """
    if index == 0:
        return "Title"
    if index == len(blocks) - 1:
        return "Closing"
    return f"Paragraph {index}"


def changes(earlier: str, now: str) -> str:
    """What changed, block by block: removed words [-like this-], added {+like this+}.

    Both texts are stored versions (`LetterVersion.as_text`): title, body, closing.
    """
    old, new = _paragraphs(earlier), _paragraphs(now)
    parts: list[str] = []
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        if tag == "replace" and i2 - i1 == j2 - j1:
            for offset in range(i2 - i1):
                changed = _word_changes(old[i1 + offset], new[j1 + offset])
                parts.append(f"{_label(j1 + offset, new)}, changed:\n{changed}")
            continue
        parts.extend(
            f"{_label(k, old)} of the text you confirmed, removed:\n[-{old[k]}-]"
            for k in range(i1, i2)
        )
        parts.extend(f"{_label(k, new)}, added:\n{{+{new[k]}+}}" for k in range(j1, j2))
    return "\n\n".join(parts)
