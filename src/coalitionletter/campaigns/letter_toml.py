"""letter.toml read and checked: every value typed, every error naming the file and line."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Sequence
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

from coalitionletter.campaigns.definition import (
    SLUG_PATTERN,
    CampaignDefinition,
    EmailSettings,
    LanguageVersion,
    LeadOrganisation,
    LetterWords,
    Recipient,
)
from coalitionletter.campaigns.letter_text import (
    body_file,
    consent_hash,
    legacy_consent_hash,
    normalise_text,
    read_body,
)
from coalitionletter.errors import CampaignError
from coalitionletter.names import character_label, refused_character
from coalitionletter.settings import DEFAULT_MAX_BODY_BYTES

LETTER_FILE = "letter.toml"
SEED_FILE = "signatories.csv"
BUILD_DATE = "build date"
PAPER_SIZES = ("A4", "Letter")
GROUP_BY_CHOICES = ("none", "country", "type")
BILINGUAL_CHOICES = ("one-pdf", "separate")
DEFAULT_LANGUAGE = "en"
# A language code as it may name a file (body.fr.md) and an output (canada.fr.pdf).
LANGUAGE_CODE = re.compile(r"^[a-z]{2,3}(-[a-z0-9]{2,8})?$")
_OTHER_BODY = re.compile(r"^body\.(.+)\.md$")


# --- locating errors in letter.toml -------------------------------------------------

_TABLE_HEADER = re.compile(r"^\s*\[\[?\s*([A-Za-z0-9_.\-\"' ]+?)\s*\]\]?\s*(#.*)?$")


def _line_of(text: str, table: str | None, key: str | None, index: int = 0) -> int | None:
    """The line number of `key` in `[table]` (or the index-th `[[table]]`), best effort."""
    current: str | None = None
    seen: dict[str, int] = {}
    header_line: int | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        header = _TABLE_HEADER.match(line)
        if header and not line.lstrip().startswith("#"):
            current = header.group(1).strip()
            occurrence = seen.get(current, -1) + 1
            seen[current] = occurrence
            if current == table and occurrence == index:
                header_line = number
            continue
        if key is None:
            continue
        in_place = current == table and seen.get(current or "", 0) == index
        if (in_place or (table is None and current is None)) and re.match(
            rf"^\s*{re.escape(key)}\s*=", line
        ):
            return number
    return header_line if table is not None else None


class _Reader:
    """Reads typed values out of the parsed letter.toml, raising errors with file and line."""

    def __init__(self, path: Path, text: str, data: dict[str, Any]) -> None:
        self.path = path
        self.text = text
        self.data = data

    def where(self, table: str | None, key: str | None, index: int = 0) -> str:
        line = _line_of(self.text, table, key, index)
        return f"{self.path}:{line}" if line else str(self.path)

    def fail(
        self, table: str | None, key: str | None, message: str, index: int = 0
    ) -> CampaignError:
        field = ".".join(part for part in (table, key) if part)
        return CampaignError(f"{self.where(table, key, index)}: {field}: {message}")

    def section(self, name: str, *, required: bool) -> dict[str, Any]:
        value = self.data.get(name)
        if value is None:
            if required:
                raise CampaignError(
                    f"{self.path}: the [{name}] table is missing. Add it (see the README's "
                    "letter.toml reference)."
                )
            return {}
        if not isinstance(value, dict):
            raise self.fail(None, name, "must be a table ([" + name + "]).")
        return value

    def text_field(
        self,
        values: dict[str, Any],
        key: str,
        *,
        table: str | None = None,
        index: int = 0,
        required: bool = True,
        default: str = "",
    ) -> str:
        value = values.get(key)
        if value is None:
            if required:
                where = self.where(table, None, index) if table else str(self.path)
                label = f"[{table}]" if table else "the top level"
                if table == "recipients":
                    label = f"[[recipients]] number {index + 1}"
                raise CampaignError(
                    f'{where}: {key} is missing in {label}. Add {key} = "..." and run again.'
                )
            return default
        if not isinstance(value, str):
            raise self.fail(table, key, f"must be text in quotes, not {value!r}.", index)
        value = normalise_text(value).strip()
        self.check_characters(value, table, key, index)
        if required and not value:
            raise self.fail(table, key, "is empty; give a value.", index)
        return value

    def check_characters(self, value: str, table: str | None, key: str, index: int) -> None:
        """Refuse NUL, other controls and invisible bidi or format characters in printed text."""
        found = refused_character(value, multiline=True)
        if found is not None:
            position, char = found
            raise self.fail(
                table,
                key,
                f"has the character {character_label(char)} at position {position}; an "
                "invisible or control character can make printed words read as others. "
                "Remove it and run again.",
                index,
            )

    def lines_field(
        self, values: dict[str, Any], key: str, *, table: str | None, index: int = 0
    ) -> tuple[str, ...]:
        value = values.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(table, key, 'must be a list of text lines, e.g. ["a", "b"].', index)
        lines = tuple(normalise_text(v).strip() for v in value)
        for line in lines:
            self.check_characters(line, table, key, index)
        return lines

    def bool_field(self, values: dict[str, Any], key: str, *, table: str, default: bool) -> bool:
        value = values.get(key, default)
        if not isinstance(value, bool):
            raise self.fail(table, key, "must be true or false (no quotes).")
        return value


def _parse_toml(path: Path) -> tuple[str, dict[str, Any]]:
    try:
        raw = path.read_bytes()
    except FileNotFoundError as exc:
        raise CampaignError(
            f"{path} does not exist. Each campaign folder needs a {LETTER_FILE}."
        ) from exc
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise CampaignError(f"{path}:{line}: not valid UTF-8. Save the file as UTF-8.") from exc
    try:
        # tomllib's message ends with "(at line N, column M)": file and line for the reader.
        return text, tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        where = str(path)
        if "end of document" in str(exc):
            where = f"{path}:{text.count(chr(10)) + 1}"
        raise CampaignError(f"{where}: {exc}. Fix the TOML syntax and run again.") from exc
    except RecursionError as exc:
        # tomllib reads nested arrays and inline tables by recursion: thousands deep
        # is never a letter, and must not end in a traceback.
        raise CampaignError(
            f"{path}: arrays or tables are nested too deeply to read (a letter.toml needs "
            "two or three levels). Fix the file and run again."
        ) from exc


# The fields each table may hold; anything else is a typo that would be ignored silently.
KNOWN_FIELDS: dict[str | None, frozenset[str]] = {
    None: frozenset(
        {
            "title",
            "letter_date",
            "deadline",
            "time_zone",
            "closing",
            "seed",
            "lead",
            "list",
            "email",
            "recipients",
            "language",
            "languages",
            "bilingual",
        }
    ),
    "languages": frozenset({"title", "closing"}),
    "lead": frozenset({"name", "short_name", "address_lines", "website", "email", "list_first"}),
    "list": frozenset({"group_by"}),
    "email": frozenset({"sender", "reply_to", "subject"}),
    "recipients": frozenset(
        {
            "key",
            "honorific",
            "name",
            "postnominals",
            "title",
            "department",
            "address_lines",
            "salutation",
            "locale",
            "paper",
            "languages",
            "translations",
        }
    ),
    "translations": frozenset(
        {
            "honorific",
            "name",
            "postnominals",
            "title",
            "department",
            "address_lines",
            "salutation",
            "locale",
        }
    ),
}


def _check_known_fields(reader: _Reader) -> None:
    tables: list[tuple[str | None, int, Any]] = [(None, 0, reader.data)]
    tables += [(name, 0, reader.data.get(name)) for name in ("lead", "list", "email")]
    recipients = reader.data.get("recipients")
    if isinstance(recipients, list):
        tables += [("recipients", i, values) for i, values in enumerate(recipients)]
    languages = reader.data.get("languages")
    if isinstance(languages, dict):
        tables += [(f"languages.{code}", 0, values) for code, values in languages.items()]
    for table, index, values in tables:
        if not isinstance(values, dict):
            continue
        known_here = KNOWN_FIELDS[table.split(".")[0] if table else None]
        for key in values:
            if key not in known_here:
                known = ", ".join(sorted(known_here))
                raise reader.fail(
                    table, key, f"is not a letter.toml field here (known: {known}).", index
                )


def _letter_date(reader: _Reader) -> date | None:
    value = reader.data.get("letter_date")
    if value is None:
        raise reader.fail(
            None, "letter_date", 'is missing; give a date such as 2020-08-18 or "build date".'
        )
    if isinstance(value, datetime):
        raise reader.fail(None, "letter_date", "must be a date without a time, e.g. 2020-08-18.")
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        if value.strip().lower() == BUILD_DATE:
            return None
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise reader.fail(
        None,
        "letter_date",
        f'{value!r} is not a date. Write it as 2020-08-18 (no quotes) or "build date".',
    )


def _deadline(reader: _Reader) -> datetime | None:
    value = reader.data.get("deadline")
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError as exc:
            raise reader.fail(
                None, "deadline", f"{value!r} is not a date and time like 2020-08-14T17:00:00Z."
            ) from exc
    if not isinstance(value, datetime):
        raise reader.fail(
            None,
            "deadline",
            "must be a date and time with its time zone, e.g. 2020-08-14T17:00:00+01:00.",
        )
    if value.tzinfo is None:
        raise reader.fail(
            None,
            "deadline",
            "has no time zone; add one, e.g. 2020-08-14T17:00:00+01:00 or ...Z for UTC.",
        )
    return value


def _time_zone(reader: _Reader) -> str | None:
    """The campaign's IANA time zone, checked; None when letter.toml names none."""
    from coalitionletter.dates import time_zone

    value = reader.data.get("time_zone")
    if value is None:
        return None
    example = 'an IANA time zone name in quotes, e.g. time_zone = "Europe/London"'
    if not isinstance(value, str) or not value.strip():
        raise reader.fail(None, "time_zone", f"{value!r} is not a time zone; give {example}.")
    try:
        time_zone(value.strip())
    except ValueError:
        raise reader.fail(
            None, "time_zone", f"{value!r} is not a known time zone; give {example}."
        ) from None
    return value.strip()


def _recipients(
    reader: _Reader, language: str, languages: tuple[str, ...]
) -> tuple[Recipient, ...]:
    raw = reader.data.get("recipients")
    if not raw:
        raise CampaignError(
            f"{reader.path}: no recipients. Add at least one [[recipients]] table with key, "
            "name, title, address_lines, salutation, locale."
        )
    if not isinstance(raw, list) or not all(isinstance(r, dict) for r in raw):
        raise reader.fail(None, "recipients", "must be [[recipients]] tables.")
    recipients: list[Recipient] = []
    for index, values in enumerate(raw):
        recipient = _recipient(reader, values, index)
        wanted = _recipient_languages(reader, values, index, language, languages)
        translations = _translations(
            reader, values, index, recipient=recipient, wanted=wanted, language=language
        )
        recipients.append(replace(recipient, languages=wanted, translations=translations))
    keys = [r.key for r in recipients]
    duplicates = sorted({k for k in keys if keys.count(k) > 1})
    if duplicates:
        raise CampaignError(
            f"{reader.path}: recipient key {duplicates[0]!r} is used twice; keys name the "
            "output files and must be unique."
        )
    return tuple(recipients)


def _recipient(reader: _Reader, values: dict[str, Any], index: int) -> Recipient:
    table = "recipients"

    def text(key: str, *, required: bool = True, default: str = "") -> str:
        return reader.text_field(
            values, key, table=table, index=index, required=required, default=default
        )

    key = text("key")
    if not SLUG_PATTERN.match(key) and not re.fullmatch(r"[a-z0-9]", key):
        raise reader.fail(
            table, "key", f"{key!r} must be lower-case letters, digits and hyphens.", index
        )
    locale = text("locale").replace("_", "-")
    _check_locale(reader, locale, index)
    default_paper = "Letter" if locale.upper().endswith(("-CA", "-US")) else "A4"
    given_paper = text("paper", required=False, default=default_paper)
    paper = next((size for size in PAPER_SIZES if size.casefold() == given_paper.casefold()), None)
    if paper is None:
        raise reader.fail(
            table, "paper", f"{given_paper!r} is not one of {', '.join(PAPER_SIZES)}.", index
        )
    return Recipient(
        key=key,
        name=text("name"),
        honorific=text("honorific", required=False),
        postnominals=text("postnominals", required=False),
        title=text("title"),
        department=text("department", required=False),
        address_lines=reader.lines_field(values, "address_lines", table=table, index=index),
        salutation=text("salutation"),
        locale=locale,
        paper=paper,
    )


def _recipient_languages(
    reader: _Reader,
    values: dict[str, Any],
    index: int,
    language: str,
    languages: tuple[str, ...],
) -> tuple[str, ...]:
    """The languages one recipient receives, checked against the letter's versions."""
    value = values.get("languages")
    if value is None:
        return (language,)
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise reader.fail(
            "recipients",
            "languages",
            f'must be a list of language codes, e.g. ["{language}", "fr"].',
            index,
        )
    for code in value:
        if code not in languages:
            raise reader.fail(
                "recipients",
                "languages",
                f"{code!r} is not a language of this letter (it has: {', '.join(languages)}). "
                f"Add a [languages.{code}] table and body.{code}.md, or remove {code!r}.",
                index,
            )
        if value.count(code) > 1:
            raise reader.fail("recipients", "languages", f"lists {code!r} twice.", index)
    return tuple(value)


def _translations(
    reader: _Reader,
    values: dict[str, Any],
    index: int,
    *,
    recipient: Recipient,
    wanted: tuple[str, ...],
    language: str,
) -> tuple[tuple[str, Recipient], ...]:
    """The recipient addressed in each other language it receives ([recipients.translations.X])."""
    raw = values.get("translations", {})
    if not isinstance(raw, dict) or not all(isinstance(v, dict) for v in raw.values()):
        raise reader.fail(
            "recipients",
            "translations",
            "must be tables such as [recipients.translations.fr] (after the recipient's "
            "[[recipients]] table).",
            index,
        )
    for code, table in raw.items():
        if code == language or code not in wanted:
            raise reader.fail(
                "recipients",
                f"translations.{code}",
                f"{recipient.key} does not receive a version in {code!r} other than the "
                f"campaign's own ({language}); add {code!r} to its languages, or remove the "
                "table.",
                index,
            )
        for key in table:
            if key not in KNOWN_FIELDS["translations"]:
                known = ", ".join(sorted(KNOWN_FIELDS["translations"]))
                raise reader.fail(
                    "recipients",
                    f"translations.{code}.{key}",
                    f"is not a field of a translation (known: {known}).",
                    index,
                )
    translations = []
    for code in wanted:
        if code == language:
            continue
        if code not in raw:
            raise reader.fail(
                "recipients",
                "languages",
                f"{recipient.key} receives {code!r} but has no [recipients.translations.{code}] "
                f'table. Add one after its [[recipients]] table with at least salutation = "..." '
                f"in that language (title, department, address_lines and the other fields "
                "fall back to the recipient's own).",
                index,
            )
        translations.append((code, _translated(reader, raw[code], index, recipient, code)))
    return tuple(translations)


def _translated(
    reader: _Reader, values: dict[str, Any], index: int, recipient: Recipient, code: str
) -> Recipient:
    table = "recipients"

    def text(key: str, default: str) -> str:
        return reader.text_field(
            values, key, table=table, index=index, required=False, default=default
        )

    salutation = text("salutation", "")
    if not salutation:
        raise reader.fail(
            table,
            f"translations.{code}.salutation",
            f'is missing; give the salutation in {code!r}, e.g. salutation = "...".',
            index,
        )
    locale = text("locale", _derived_locale(code, recipient.locale)).replace("_", "-")
    _check_locale(reader, locale, index)
    lines = recipient.address_lines
    if "address_lines" in values:
        lines = reader.lines_field(values, "address_lines", table=table, index=index)
    return replace(
        recipient,
        honorific=text("honorific", recipient.honorific),
        name=text("name", recipient.name),
        postnominals=text("postnominals", recipient.postnominals),
        title=text("title", recipient.title),
        department=text("department", recipient.department),
        address_lines=lines,
        salutation=salutation,
        locale=locale,
        languages=(code,),
    )


def _derived_locale(code: str, locale: str) -> str:
    """The locale of a version in `code` for a recipient in `locale`: fr + en-CA -> fr-CA."""
    from babel import Locale, UnknownLocaleError

    region = locale.rsplit("-", maxsplit=1)[-1] if "-" in locale else ""
    candidate = f"{code}-{region}" if region and "-" not in code else code
    try:
        Locale.parse(candidate, sep="-")
    except (UnknownLocaleError, ValueError):
        return code
    return candidate


def _language_code(reader: _Reader, table: str | None, key: str, code: str) -> str:
    """A language code checked: lower case, usable in a file name, known to Babel."""
    from babel import Locale, UnknownLocaleError

    problem = f'{code!r} is not a language code such as "en" or "fr" (ISO 639, lower case).'
    if not LANGUAGE_CODE.match(code):
        raise reader.fail(table, key, problem)
    try:
        Locale.parse(code, sep="-")
    except (UnknownLocaleError, ValueError) as exc:
        raise reader.fail(table, key, problem) from exc
    return code


def _language(reader: _Reader) -> str:
    """The campaign's own language (body.md's; "en" when absent): its default for emails."""
    value = reader.text_field(reader.data, "language", required=False, default=DEFAULT_LANGUAGE)
    return _language_code(reader, None, "language", value)


def _bilingual(reader: _Reader) -> str:
    value = reader.text_field(reader.data, "bilingual", required=False, default="one-pdf")
    if value not in BILINGUAL_CHOICES:
        raise reader.fail(
            None,
            "bilingual",
            f"{value!r} is not one of {', '.join(BILINGUAL_CHOICES)} (one PDF holding every "
            "language a recipient receives, or one PDF per language).",
        )
    return value


def _language_tables(reader: _Reader, language: str) -> dict[str, dict[str, Any]]:
    """The [languages.X] tables, each code checked."""
    raw = reader.data.get("languages", {})
    if not isinstance(raw, dict) or not all(isinstance(v, dict) for v in raw.values()):
        raise reader.fail(
            None, "languages", "must be tables such as [languages.fr] with title and closing."
        )
    for code in raw:
        _language_code(reader, f"languages.{code}", "", code)
        if code == language:
            raise reader.fail(
                f"languages.{code}",
                None,
                f"{code!r} is the campaign's own language (language = {language!r}), whose "
                "title and closing are the top-level ones and whose body is body.md. Remove "
                f"the [languages.{code}] table.",
            )
    return raw


def _other_versions(
    reader: _Reader,
    directory: Path,
    tables: dict[str, dict[str, Any]],
    lead_name: str,
    max_body_bytes: int,
) -> tuple[LanguageVersion, ...]:
    """The letter in each other language: [languages.X] title and closing, body.X.md."""
    for path in sorted(directory.glob("body.*.md")):
        found = _OTHER_BODY.match(path.name)
        if found and found.group(1) not in tables:
            raise CampaignError(
                f"{path}: letter.toml has no [languages.{found.group(1)}] table for this "
                f"version. Add one with its title and closing, or remove {path.name}."
            )
    versions = []
    for code, values in tables.items():
        table = f"languages.{code}"
        title = reader.text_field(values, "title", table=table)
        closing = reader.text_field(values, "closing", table=table)
        if not (directory / body_file(code)).is_file():
            raise CampaignError(
                f"{directory / body_file(code)} does not exist, but letter.toml's [{table}] "
                f"says the letter has a version in {code!r}. Write that version's body there, "
                f"or remove the [{table}] table."
            )
        body = read_body(directory, max_bytes=max_body_bytes, language=code)
        versions.append(
            LanguageVersion(
                code,
                title,
                closing,
                body,
                consent_hash(body, title, closing, lead_name, code),
                default=False,
            )
        )
    return tuple(versions)


def _published_versions(
    published: tuple[LetterWords, ...], tables: dict[str, dict[str, Any]], language: str
) -> tuple[LanguageVersion, ...]:
    """The other versions as `publish` froze them (only those letter.toml still declares)."""
    return tuple(
        LanguageVersion(
            w.language,
            w.title,
            w.closing,
            w.body,
            consent_hash(w.body, w.title, w.closing, w.lead, w.language),
            default=False,
        )
        for w in published
        if w.language and w.language != language and w.language in tables
    )


def _check_locale(reader: _Reader, locale: str, index: int) -> None:
    from babel import Locale, UnknownLocaleError

    try:
        Locale.parse(locale, sep="-")
    except (UnknownLocaleError, ValueError) as exc:
        raise reader.fail(
            "recipients", "locale", f"{locale!r} is not a known locale such as en-GB.", index
        ) from exc


def _lead(reader: _Reader) -> tuple[LeadOrganisation, bool]:
    values = reader.section("lead", required=True)
    lead = LeadOrganisation(
        name=reader.text_field(values, "name", table="lead"),
        short_name=reader.text_field(values, "short_name", table="lead", required=False),
        address_lines=reader.lines_field(values, "address_lines", table="lead"),
        website=reader.text_field(values, "website", table="lead", required=False),
        email=reader.text_field(values, "email", table="lead", required=False),
    )
    return lead, reader.bool_field(values, "list_first", table="lead", default=True)


def _email(reader: _Reader, title: str) -> EmailSettings:
    values = reader.section("email", required=False)
    return EmailSettings(
        sender=reader.text_field(values, "sender", table="email", required=False),
        reply_to=reader.text_field(values, "reply_to", table="email", required=False),
        subject=reader.text_field(
            values, "subject", table="email", required=False, default=f"Invitation to sign: {title}"
        ),
        subject_written="subject" in values,
    )


def _group_by(reader: _Reader) -> str:
    values = reader.section("list", required=False)
    group_by = reader.text_field(values, "group_by", table="list", required=False, default="none")
    if group_by not in GROUP_BY_CHOICES:
        raise reader.fail(
            "list", "group_by", f"{group_by!r} is not one of {', '.join(GROUP_BY_CHOICES)}."
        )
    return group_by


def _seed(reader: _Reader, directory: Path) -> Path | None:
    name = reader.text_field(reader.data, "seed", required=False)
    if not name:
        default = directory / SEED_FILE
        return default if default.is_file() else None
    path = (directory / name).resolve()
    if directory.resolve() not in path.parents:
        raise reader.fail(None, "seed", f"{name!r} must be a file inside {directory}.")
    if not path.is_file():
        raise reader.fail(None, "seed", f"{path} does not exist.")
    return path


def read_definition(
    slug: str,
    directory: Path,
    words: LetterWords | Sequence[LetterWords] | None = None,
    *,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
) -> CampaignDefinition:
    """The campaign defined by `directory`'s letter.toml and body files, all checked.

    With `words` (a published version, or one per language), the titles, closings,
    lead's name and bodies are those words, and no body file is read: a draft being
    edited cannot break it. A language letter.toml declares but `words` lacks (not
    published yet) is left out of every recipient's letter and named in `unpublished`.
    """
    path = directory / LETTER_FILE
    text, data = _parse_toml(path)
    reader = _Reader(path, text, data)
    _check_known_fields(reader)
    title = reader.text_field(data, "title")
    closing = reader.text_field(data, "closing")
    lead, lead_first = _lead(reader)
    letter_date, deadline = _letter_date(reader), _deadline(reader)
    language, bilingual = _language(reader), _bilingual(reader)
    tables = _language_tables(reader, language)
    recipients = _recipients(reader, language, (language, *tables))
    published = (words,) if isinstance(words, LetterWords) else tuple(words or ())
    if not published:
        body = read_body(directory, max_bytes=max_body_bytes)
        others = _other_versions(reader, directory, tables, lead.name, max_body_bytes)
    else:
        default = next(w for w in published if not w.language)
        title, closing, body = default.title, default.closing, default.body
        lead = replace(lead, name=default.lead)
        others = _published_versions(published, tables, language)
    unpublished = tuple(code for code in tables if code not in {v.language for v in others})
    if unpublished:
        recipients = tuple(_without(r, unpublished, language) for r in recipients)
    return CampaignDefinition(
        slug=slug,
        directory=directory,
        title=title,
        lead=lead,
        letter_date=letter_date,
        deadline=deadline,
        recipients=recipients,
        closing=closing,
        body_source=body,
        text_hash=consent_hash(body, title, closing, lead.name),
        legacy_text_hash=legacy_consent_hash(body, title, closing, lead.name),
        seed_path=_seed(reader, directory),
        email=_email(reader, title),
        lead_first=lead_first,
        group_by=_group_by(reader),
        published=bool(published),
        language=language,
        other_versions=others,
        bilingual=bilingual,
        unpublished=unpublished,
        time_zone=_time_zone(reader),
    )


def _without(recipient: Recipient, languages: tuple[str, ...], language: str) -> Recipient:
    """The recipient without the languages whose version is not published."""
    kept = tuple(code for code in recipient.languages if code not in languages)
    return replace(
        recipient,
        languages=kept or (language,),
        translations=tuple(t for t in recipient.translations if t[0] in kept),
    )
