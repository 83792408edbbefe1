"""What a letter says: the placeholders' values, the template's context, the glyph check."""

from __future__ import annotations

from datetime import date
from typing import Any

from coalitionletter.build.output_files import PUBLIC
from coalitionletter.campaigns.definition import CampaignDefinition, Recipient
from coalitionletter.campaigns.letter_text import body_html
from coalitionletter.campaigns.roster import Roster
from coalitionletter.errors import RenderError

SHORT_LIST = 8  # up to this many names print in one column


def placeholder_values(
    definition: CampaignDefinition, recipient: Recipient, names: Roster, letter_date: date
) -> dict[str, str]:
    """The values body.md's placeholders stand for, for one recipient."""
    from coalitionletter.render import format_letter_date, number_words

    count = names.count
    others = count - (1 if names.lead_listed() else 0)
    return {
        "signatory_count": str(count),
        "signatory_count_words": number_words(count, recipient.locale),
        "other_signatory_count": str(others),
        "other_signatory_count_words": number_words(others, recipient.locale),
        "recipient_name": recipient.full_name,
        "recipient_title": recipient.title,
        "date": format_letter_date(letter_date, recipient.locale),
        "lead_organisation": definition.lead.name,
    }


def letter_context(
    definition: CampaignDefinition,
    names: Roster,
    recipient: Recipient,
    *,
    variant: str,
    letter_date: date,
    created: str,
) -> dict[str, Any]:
    """What letter.html is rendered with, for one recipient and one variant."""
    from coalitionletter.render import format_letter_date, han_language, text_direction

    delivered = variant != PUBLIC
    values = placeholder_values(definition, recipient, names, letter_date)
    groups = [
        {
            "heading": group.heading,
            "entries": [
                {
                    "name": s.name,
                    "dir": text_direction(s.name),
                    "han": han_language(s.name, s.country),
                    "website": s.website or "",
                }
                for s in group.signatories
            ],
        }
        for group in names.groups(delivered=delivered)
    ]
    return {
        "letter": {
            "title": definition.title,
            "subject": f"Letter to {recipient.full_name}, {recipient.title}",
            "keywords": f"{definition.slug}, {recipient.key}, text-sha256:{definition.text_hash}",
            "lang": recipient.locale,
            "paper": recipient.paper,
            "text_hash": definition.text_hash,
            "created": created,
            "date": format_letter_date(letter_date, recipient.locale),
            "date_iso": letter_date.isoformat(),
            "variant": variant,
            "closing": definition.closing,
        },
        "lead": definition.lead,
        "recipient": recipient,
        "body": body_html(definition.body_source, values),
        "groups": groups,
        "short_list": len(names.named(delivered=delivered)) <= SHORT_LIST,
        "count": names.count,
        "withheld_count": names.withheld_count(delivered=delivered),
    }


def _glyph_texts(definition: CampaignDefinition, names: Roster) -> dict[str, str]:
    texts = {f"organisation {s.name!r}": s.name for s in names.signatories}
    texts[f"{definition.slug}/body.md"] = definition.body_source
    texts[f"{definition.slug}/letter.toml"] = " ".join(
        [definition.title, definition.closing, definition.lead.name, *definition.lead.address_lines]
        + [
            " ".join([r.full_name, r.title, r.department, r.salutation, *r.address_lines])
            for r in definition.recipients
        ]
    )
    return texts


def check_glyphs(
    definition: CampaignDefinition, names: Roster, *, allow_missing: bool
) -> list[str]:
    """Stop on characters no installed font can draw, or return them as warnings if allowed."""
    from coalitionletter.render import describe_missing, missing_glyphs

    problems = describe_missing(missing_glyphs(_glyph_texts(definition, names)))
    if problems and not allow_missing:
        raise RenderError(
            "\n".join(
                [
                    "Some characters would print as empty boxes:",
                    *(f"  {line}" for line in problems),
                    "Install fonts that cover them (Debian: apt-get install fonts-noto-core "
                    "fonts-noto-cjk), or build with --allow-missing-glyphs to print anyway.",
                ]
            )
        )
    return [f"Missing glyphs: {line}" for line in problems]
