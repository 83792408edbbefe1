"""What a letter says: the placeholders' values, the template's context, the glyph check."""

from __future__ import annotations

from datetime import date
from typing import Any

from coalitionletter.build.output_files import PUBLIC
from coalitionletter.campaigns.definition import CampaignDefinition, LanguageVersion, Recipient
from coalitionletter.campaigns.letter_text import body_file, body_html, placeholders_in
from coalitionletter.campaigns.roster import Roster
from coalitionletter.catalogs import N_, Words
from coalitionletter.errors import RenderError

SHORT_LIST = 8  # up to this many names print in one column


def placeholder_values(
    definition: CampaignDefinition,
    recipient: Recipient,
    names: Roster,
    letter_date: date,
    used: frozenset[str] | None = None,
) -> dict[str, str]:
    """The values body.md's placeholders stand for, for one recipient (as one version addresses it).

    Numbers in words and the date follow the recipient's locale in that version.
    `used`: the placeholders the body uses; counts in words are written only for those
    (a version in a language num2words cannot spell may still give counts in figures).
    """
    from coalitionletter.render import format_letter_date, number_words

    count = names.count
    others = count - (1 if names.lead_listed() else 0)
    words = {}
    for key, number in (("signatory_count_words", count), ("other_signatory_count_words", others)):
        if used is None or key in used:
            words[key] = number_words(number, recipient.locale)
    return {
        "signatory_count": str(count),
        **words,
        "other_signatory_count": str(others),
        "recipient_name": recipient.full_name,
        "recipient_title": recipient.title,
        "date": format_letter_date(letter_date, recipient.locale),
        "lead_organisation": definition.lead.name,
    }


def _version_letter(
    definition: CampaignDefinition,
    version: LanguageVersion,
    recipient: Recipient,
    *,
    variant: str,
    letter_date: date,
    created: str,
) -> dict[str, str]:
    """The `letter` values of one language version for one recipient (in that language)."""
    from coalitionletter.render import format_letter_date

    return {
        "title": version.title,
        "subject": f"Letter to {recipient.full_name}, {recipient.title}",
        "keywords": f"{definition.slug}, {recipient.key}, text-sha256:{version.text_hash}",
        "lang": recipient.locale,
        "language": version.language,
        "paper": recipient.paper,
        "text_hash": version.text_hash,
        "created": created,
        "date": format_letter_date(letter_date, recipient.locale),
        "date_iso": letter_date.isoformat(),
        "variant": variant,
        "closing": version.closing,
    }


def letter_context(
    definition: CampaignDefinition,
    names: Roster,
    recipient: Recipient,
    *,
    variant: str,
    letter_date: date,
    created: str,
    languages: tuple[str, ...] | None = None,
) -> dict[str, Any]:
    """What letter.html is rendered with, for one recipient, one variant and its languages.

    `languages`: the versions this file holds, in order (default: the recipient's
    languages, or the campaign's own). Each version is addressed, dated and
    counted in its own language; every version lists the same signatories.
    """
    from coalitionletter.render import han_language, text_direction

    delivered = variant != PUBLIC
    wanted = languages or recipient.languages or (definition.language,)
    versions: list[dict[str, Any]] = []
    letters: list[dict[str, str]] = []
    for language in wanted:
        addressed = recipient.in_language(language)
        version = definition.version(language)
        values = placeholder_values(
            definition, addressed, names, letter_date, placeholders_in(version.body_source)
        )
        letter = _version_letter(
            definition,
            version,
            addressed,
            variant=variant,
            letter_date=letter_date,
            created=created,
        )
        body = body_html(version.body_source, values)
        letters.append(letter)
        versions.append({"letter": letter, "recipient": addressed, "body": body})
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
    first = versions[0]
    document = dict(letters[0])
    if len(letters) > 1:
        # One file, several versions: its title, subject and hashes name them all.
        document["title"] = " / ".join(v["title"] for v in letters)
        document["text_hash"] = " ".join(v["text_hash"] for v in letters)
        document["keywords"] = f"{definition.slug}, {recipient.key}, " + ", ".join(
            f"text-sha256:{v['text_hash']}" for v in letters
        )
    return {
        "letter": document,
        "versions": versions,
        "lead": definition.lead,
        "recipient": first["recipient"],
        "body": first["body"],
        "groups": groups,
        "short_list": len(names.named(delivered=delivered)) <= SHORT_LIST,
        "count": names.count,
        "withheld_count": names.withheld_count(delivered=delivered),
    }


def _glyph_texts(definition: CampaignDefinition, names: Roster) -> dict[str, str]:
    texts = {f"organisation {s.name!r}": s.name for s in names.signatories}
    for version in definition.versions:
        name = body_file(None if version.default else version.language)
        texts[f"{definition.slug}/{name}"] = version.body_source
    addressed = [r.in_language(language) for r in definition.recipients for language in r.languages]
    texts[f"{definition.slug}/letter.toml"] = " ".join(
        [definition.lead.name, *definition.lead.address_lines]
        + [" ".join([v.title, v.closing]) for v in definition.versions]
        + [
            " ".join([r.full_name, r.title, r.department, r.salutation, *r.address_lines])
            for r in (*definition.recipients, *addressed)
        ]
    )
    return texts


def check_glyphs(
    definition: CampaignDefinition, names: Roster, *, allow_missing: bool
) -> list[Words]:
    """Stop on characters no installed font can draw, or return them as warnings if allowed."""
    from coalitionletter.render import describe_missing, missing_glyphs

    problems = describe_missing(missing_glyphs(_glyph_texts(definition, names)))
    if problems and not allow_missing:
        raise RenderError(
            N_(
                "Some characters would print as empty boxes:\n%(problems)s\nInstall fonts that "
                "cover them (Debian: apt-get install fonts-noto-core fonts-noto-cjk), or build "
                "with --allow-missing-glyphs to print anyway.",
                problems="\n".join(f"  {line}" for line in problems),
            )
        )
    return [N_("Missing glyphs: %(problem)s", problem=line) for line in problems]
