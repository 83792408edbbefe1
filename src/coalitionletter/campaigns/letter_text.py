"""The letter's words: body.md read and checked, its placeholders, and the consent hash.

The consent hash (`text_hash`) binds an organisation's "yes" to the words it
put its name under: the body (body.md, normalised by `normalise_words`: NFC, LF
newlines, no trailing spaces on a line, no blank lines at either end, one blank
line between paragraphs, so a whitespace-only edit changes nothing), the
title (printed as the letter's subject line), the closing and the lead
organisation's name (whose letter it is). Those are hashed. Left out on
purpose: the date, the recipients' names, addresses and salutations, paper,
locale and email settings. They are addressing, not argument: a cabinet
reshuffle or a new postcode must not silently void seventy consents, and the
body itself says which governments are asked to act. Change any hashed part
and every earlier confirmation becomes stale until reconfirmed.

A letter in several languages has one such hash per version (body.<lang>.md,
with its own title and closing); a version other than the campaign's own also
hashes its language, so two versions never share a hash. Changing one version
makes stale only the confirmations given to that version.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from coalitionletter.errors import CampaignError, RenderError
from coalitionletter.settings import DEFAULT_MAX_BODY_BYTES

if TYPE_CHECKING:
    from markupsafe import Markup

BODY_FILE = "body.md"


def body_file(language: str | None = None) -> str:
    """The file holding a version's body: body.md, or body.<language>.md for another language."""
    return f"body.{language}.md" if language else BODY_FILE


# Placeholders body.md may use, and what each stands for (README documents them).
PLACEHOLDERS: dict[str, str] = {
    "signatory_count": "number of signatories, in figures (71)",
    "signatory_count_words": "number of signatories, in words (seventy-one)",
    "other_signatory_count": "signatories besides the lead organisation, in figures (70)",
    "other_signatory_count_words": "signatories besides the lead organisation, in words",
    "recipient_name": "the recipient's name with honorific (The Rt Hon Dominic Raab MP)",
    "recipient_title": "the recipient's title (Secretary of State for ...)",
    "date": "the letter date as the recipient's locale writes it",
    "lead_organisation": "the lead organisation's name",
}
PLACEHOLDER_PATTERN = re.compile(r"\{\{(.*?)\}\}")
PLACEHOLDER_NAME = re.compile(r"^\s*([a-z_]+)\s*$")
# Jinja-like syntax body.md does not support, caught so it never prints literally.
STRAY_SYNTAX = re.compile(r"\{\{|\}\}|\{%|%\}|\{#|#\}")
# What a placeholder left in rendered HTML looks like (Markdown percent-encodes it in a URL).
_LEFTOVER = re.compile(r"\{\{|\}\}|%7B%7B|%7D%7D", re.IGNORECASE)


def normalise_text(text: str) -> str:
    """Text as hashed and rendered: NFC, LF newlines, no byte-order mark."""
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    return unicodedata.normalize("NFC", text)


_BLANK_RUN = re.compile(r"\n{3,}")


def normalise_words(text: str) -> str:
    """Text as consent sees it: `normalise_text`, then whitespace that changes no word dropped.

    No trailing spaces or tabs on a line, no blank lines at either end, and one
    blank line wherever there were several (Markdown renders them alike).
    """
    lines = [line.rstrip() for line in normalise_text(text).split("\n")]
    return _BLANK_RUN.sub("\n\n", "\n".join(lines).strip("\n"))


def _hash_parts(body: str, title: str, closing: str, lead_name: str, language: str = "") -> str:
    parts = {"body": body, "closing": closing, "lead": lead_name, "title": title}
    if language:
        parts["language"] = language
    canonical = json.dumps(
        parts,
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def consent_hash(body: str, title: str, closing: str, lead_name: str, language: str = "") -> str:
    """SHA-256 (hex) of the words an organisation consents to; see the module docstring.

    `language` is given for a version other than the campaign's own language only.
    """
    return _hash_parts(
        normalise_words(body),
        normalise_words(title),
        normalise_words(closing),
        normalise_words(lead_name),
        language,
    )


def legacy_consent_hash(body: str, title: str, closing: str, lead_name: str) -> str:
    """The consent hash as versions before whitespace normalisation made it (NFC and LF only).

    Confirmations stored before the change carry it; the same words still count as
    current (`CampaignDefinition.current_hashes`, `signon.consent.current_hashes`).
    """
    return _hash_parts(
        normalise_text(body),
        normalise_text(title),
        normalise_text(closing),
        normalise_text(lead_name),
    )


def check_body(path: Path, body: str) -> None:
    """Refuse a body.md with an unknown placeholder or template syntax it does not support."""
    for number, line in enumerate(body.split("\n"), start=1):
        for match in PLACEHOLDER_PATTERN.finditer(line):
            name = PLACEHOLDER_NAME.match(match.group(1))
            if name is None or name.group(1) not in PLACEHOLDERS:
                known = ", ".join("{{ " + n + " }}" for n in PLACEHOLDERS)
                raise CampaignError(
                    f"{path}:{number}: unknown placeholder {match.group(0)}. "
                    f"The placeholders are: {known}."
                )
        remainder = PLACEHOLDER_PATTERN.sub("", line)
        stray = STRAY_SYNTAX.search(remainder)
        if stray:
            raise CampaignError(
                f"{path}:{number}: {stray.group(0)!r} is not a complete placeholder. "
                "Write placeholders as {{ name }} on one line; other template syntax is "
                "not supported in body.md."
            )


def read_body(
    directory: Path, *, max_bytes: int = DEFAULT_MAX_BODY_BYTES, language: str | None = None
) -> str:
    """body.md (or body.<language>.md) of a campaign folder, normalised and checked.

    Errors name the file and line.
    """
    path = directory / body_file(language)
    try:
        with path.open("rb") as handle:
            raw = handle.read(max_bytes + 1)  # never more, whatever the file holds
    except FileNotFoundError as exc:
        raise CampaignError(
            f"{path} does not exist. Write the letter's body there in Markdown."
        ) from exc
    if len(raw) > max_bytes:
        raise CampaignError(
            f"{path}: the body is larger than {max_bytes:,} bytes, the most a letter's body "
            "may be. Check that this is the letter's text and shorten it, or raise "
            "[letters] max_body_bytes in coalitionletter.toml."
        )
    try:
        body = normalise_text(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise CampaignError(f"{path}:{line}: not valid UTF-8. Save the file as UTF-8.") from exc
    if not body.strip():
        raise CampaignError(f"{path}: the body is empty. Write the letter's text there.")
    check_body(path, body)
    return body


def _placeholder_key(match: re.Match[str]) -> str | None:
    name = PLACEHOLDER_NAME.match(match.group(1))
    return name.group(1) if name else None


def placeholders_in(body: str) -> frozenset[str]:
    """The names of the placeholders a body uses."""
    return frozenset(
        key for key in map(_placeholder_key, PLACEHOLDER_PATTERN.finditer(body)) if key
    )


def fill_text(body: str, values: Mapping[str, str]) -> str:
    """The body as plain text with each placeholder that has a value replaced by it."""

    def fill(match: re.Match[str]) -> str:
        key = _placeholder_key(match)
        return values.get(key, match.group(0)) if key else match.group(0)

    return PLACEHOLDER_PATTERN.sub(fill, body)


def body_html(body: str, values: Mapping[str, str]) -> Markup:
    """The Markdown body as HTML (CommonMark, raw HTML off) with placeholders filled in.

    The letter and the sign-on page both render through here, so an organisation
    reads the words it agrees to exactly as they are printed. Markdown is rendered
    before the values go in: a value (the lead's name, say) is printed as written,
    escaped, never read as Markdown.
    """
    # Imported here: reading a campaign (every command does) needs neither.
    from markdown_it import MarkdownIt
    from markupsafe import Markup, escape

    html = MarkdownIt("commonmark", {"html": False}).render(body)

    def fill(match: re.Match[str]) -> str:
        key = _placeholder_key(match)
        if key is None:
            return match.group(0)  # reported below as left over
        value = values.get(key)
        if value is None or not str(value).strip():
            raise RenderError(
                f"The placeholder {{{{ {key} }}}} has no value to print; a letter never "
                "goes out with a blank."
            )
        return f'<span data-placeholder="{key}">{escape(value)}</span>'

    filled = PLACEHOLDER_PATTERN.sub(fill, html)
    leftover = _LEFTOVER.search(filled)
    if leftover:
        raise RenderError(
            f"The body still holds {leftover.group(0)!r} after filling the placeholders "
            "(a placeholder inside a link or image is not supported); rewrite that passage."
        )
    return Markup(filled)  # noqa: S704 - markdown-it escaped the source; values escaped above
