"""Field values for the registry: checked and cleaned the same way for add, edit and import.

Each `clean_*` takes what staff typed or a spreadsheet held and returns the
value to store (and, for names, emails and websites, the key duplicates are
found by), or raises RegistryError saying what is wrong and what to do. The
import runs these for every line, so the common cases take fast paths that
give exactly the slow path's answer.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from functools import cache, lru_cache
from urllib.parse import SplitResult, urlsplit

from coalitionletter import names
from coalitionletter.catalogs import N_, Words
from coalitionletter.errors import FieldsError, RegistryError, words_of
from coalitionletter.models import EMAIL_MAX, NAME_MAX, NOTES_MAX, URL_MAX, Listing
from coalitionletter.registry import countries

TYPE_MAX = 80
LANGUAGE_MAX = 35

# Field key -> how staff see it in messages and column headers (str() is the English).
LABELS: dict[str, Words] = {
    "name": N_("Name"),
    "sort_name": N_("Sort name"),
    "slug": N_("Slug"),
    "country": N_("Country"),
    "org_type": N_("Type"),
    "website": N_("Website"),
    "notes": N_("Notes"),
    "contact_name": N_("Contact"),
    "contact_title": N_("Title"),
    "email": N_("Email"),
    "language": N_("Language"),
    "listing": N_("Listing"),
}
ORGANISATION_FIELDS = ("name", "sort_name", "slug", "country", "org_type", "website", "notes")
CONTACT_FIELDS = ("contact_name", "contact_title", "email", "language")

# Sites where many organisations share one host: the first path segment
# (facebook.com/<page>) tells them apart, not the domain.
SHARED_HOSTS = frozenset(
    {
        "facebook.com",
        "fb.com",
        "twitter.com",
        "x.com",
        "instagram.com",
        "linkedin.com",
        "medium.com",
        "t.me",
        "telegram.me",
        "youtube.com",
        "github.com",
        "sites.google.com",
        "substack.com",
        "vk.com",
        "weibo.com",
        "linktr.ee",
    }
)
LANGUAGE_TAG = re.compile(r"^([A-Za-z]{2,3})(?:[-_][A-Za-z0-9]{2,8})*$")
LANGUAGE_ALIASES = {"uyghur": "ug", "farsi": "fa", "mandarin": "zh", "cantonese": "yue"}
# Matches exactly the characters str.isspace() does (both use Unicode's White_Space).
WHITESPACE = re.compile(r"\s")
PLAIN_URL = re.compile(r"(?i:https?)://([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)([/?#]\S*)?\Z")
_ATOM = r"[A-Za-z0-9_+-]+"
# 1-62 letters, digits and hyphens, neither first nor last; no "--" is checked apart,
# as the pattern is ~2x faster without a lookaround at every character.
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,60}[A-Za-z0-9])?"
# local part, then domain: labels without "--" (no IDNA) and a top-level domain of letters.
PLAIN_EMAIL = re.compile(rf"({_ATOM}(?:\.{_ATOM})*)@((?:{_LABEL}\.)+([A-Za-z]{{1,63}}))\Z")
# RFC 5321 4.5.3.1.1: at most 64 octets before the @.
EMAIL_LOCAL_MAX = 64
# email_validator.SPECIAL_USE_DOMAIN_NAMES (all single labels), written out so the fast
# path does not import email-validator, ~40 ms of start-up; a test keeps them equal.
SPECIAL_USE_DOMAINS = frozenset({"arpa", "invalid", "local", "localhost", "onion", "test"})


@dataclass(frozen=True)
class FieldProblem:
    """One bad value: which field, and what is wrong with it (words a page translates)."""

    field: str
    said: Words

    @property
    def message(self) -> str:
        """What is wrong, in English (as the CLI prints it)."""
        return str(self.said)


def website_key(parts: SplitResult) -> str:
    """What two websites share when they are one organisation's: the domain, without www."""
    return _domain_key(parts.hostname or "", parts.path)


def _domain_key(hostname: str, path: str) -> str:
    host = hostname.casefold().rstrip(".")
    host = host.removeprefix("www.").removeprefix("m.")
    if host in SHARED_HOSTS:
        segment = path.strip("/").split("/", 1)[0].casefold()
        return f"{host}/{segment}" if segment else host
    return host


def clean_website(value: str | None) -> tuple[str | None, str | None]:
    """A website as (address with scheme, domain key); (None, None) when empty."""
    text = names.clean_text(value, LABELS["website"], max_length=URL_MAX)
    if text is None:
        return None, None
    address = text if "://" in text else f"https://{text}"
    host, path = _plain_host_and_path(address) or _host_and_path(address, text)
    if len(address) > URL_MAX:
        raise RegistryError(
            N_("Website is longer than %(limit)s characters. Shorten it.", limit=URL_MAX)
        )
    return address, _domain_key(host, path)


def _plain_host_and_path(address: str) -> tuple[str, str] | None:
    """For an everyday http(s)://host.domain/... address, what urlsplit would give.

    The pattern takes only ASCII letter-digit-hyphen hosts with no user, port
    or whitespace, where urlsplit's host is the host in lowercase and its path
    the rest up to `?` or `#`; anything else goes through urlsplit.
    """
    match = PLAIN_URL.match(address)
    if match is None:
        return None
    rest = match.group(2) or ""
    return match.group(1).lower(), rest.split("#", 1)[0].split("?", 1)[0]


def _host_and_path(address: str, text: str) -> tuple[str, str]:
    try:
        parts = urlsplit(address)
        host = parts.hostname or ""
    except ValueError:
        host, parts = "", None
    if (
        parts is None
        or parts.scheme.casefold() not in {"http", "https"}
        or "." not in host
        or WHITESPACE.search(text) is not None
    ):
        raise RegistryError(
            N_(
                "Website %(value)s is not a web address. Give it as example.org or "
                "https://example.org/page (http or https only).",
                value=repr(text),
            )
        )
    return host, parts.path


def clean_email(value: str | None) -> tuple[str | None, str | None]:
    """An email address as (address as given, case-folded key); (None, None) when empty."""
    text = names.clean_text(value, LABELS["email"], max_length=EMAIL_MAX)
    if text is None:
        return None, None
    # A plainly valid address has at most 64 ASCII characters before the @, so
    # _check_local_part, which must come before email-validator, has nothing to say.
    if not _plainly_valid_email(text):
        _check_local_part(text)
        _validate_email(text)
    return text, text.casefold()


def _check_local_part(text: str) -> None:
    """Refuse a part before the @ longer than RFC 5321 allows, which email-validator accepts."""
    local = text.rpartition("@")[0]
    size = len(local.encode("utf-8"))
    if size > EMAIL_LOCAL_MAX:
        raise RegistryError(
            N_(
                "Email %(value)s is not a valid address: the part before the @ is %(size)s "
                "bytes long, and mail servers refuse more than %(limit)s. Correct it or leave "
                "it empty.",
                value=repr(text),
                size=size,
                limit=EMAIL_LOCAL_MAX,
            )
        )


def _plainly_valid_email(text: str) -> bool:
    """True for the everyday address that email-validator certainly accepts.

    email-validator costs ~100 us a call, which a 100,000-row import cannot
    afford; this pattern accepts only a strict subset of what it accepts (plain
    ASCII atoms, letter-only top-level domain, no IDNA, no special-use domain),
    and everything else still goes through email-validator, so what is
    accepted or refused, and the message, do not change.
    """
    match = PLAIN_EMAIL.match(text)
    if match is None or len(match.group(1)) > EMAIL_LOCAL_MAX or "--" in match.group(2):
        return False
    # Every special-use name is one label, so only the top-level label can be one.
    return match.group(3).lower() not in SPECIAL_USE_DOMAINS


def _validate_email(text: str) -> None:
    from email_validator import EmailNotValidError, validate_email

    try:
        validate_email(text, check_deliverability=False)
    except EmailNotValidError as exc:
        # email-validator's own reason is English (it has no catalogs).
        raise RegistryError(
            N_(
                "Email %(value)s is not a valid address: %(reason)s Correct it or leave it empty.",
                value=repr(text),
                reason=str(exc),
            )
        ) from exc


@cache
def _language_codes() -> dict[str, str]:
    import pycountry

    index: dict[str, str] = dict(LANGUAGE_ALIASES)
    for language in pycountry.languages:
        code = getattr(language, "alpha_2", None) or language.alpha_3
        index[language.alpha_3] = code
        if getattr(language, "alpha_2", None):
            index[language.alpha_2] = code
        index[language.name.casefold()] = code
    return index


def clean_language(value: str | None) -> str | None:
    """A language as an ISO 639 code or tag (en, ug, zh-Hant), from a code or English name."""
    text = names.clean_text(value, LABELS["language"], max_length=LANGUAGE_MAX)
    if text is None:
        return None
    code = _language_code(text)
    if code is None:
        raise RegistryError(
            N_(
                "Language %(value)s is not known. Give an ISO 639 code such as en, fr, ug or "
                "zh-Hant, or an English name such as French.",
                value=repr(text),
            )
        )
    return code


@lru_cache(maxsize=4096)
def _language_code(text: str) -> str | None:
    codes = _language_codes()
    match = LANGUAGE_TAG.match(text)
    if match and match.group(1).casefold() in codes:
        return text.replace("_", "-")
    return codes.get(text.casefold())


def clean_listing(value: str | None) -> str | None:
    """How a seed signatory may be named: public or governments_only."""
    text = (value or "").strip().casefold().replace("-", "_").replace(" ", "_")
    if not text:
        return None
    allowed = [listing.value for listing in Listing]
    if text not in allowed:
        raise RegistryError(
            N_(
                "Listing %(value)s is not one of: %(allowed)s.",
                value=repr(value),
                allowed=", ".join(allowed),
            )
        )
    return text


Cleaner = Callable[[str | None, dict[str, str | None]], None]


def _clean_name(value: str | None, out: dict[str, str | None]) -> None:
    out["name"], out["name_key"] = names.clean_name_and_key(
        value, LABELS["name"], max_length=NAME_MAX
    )


def _clean_website_field(value: str | None, out: dict[str, str | None]) -> None:
    out["website"], out["website_domain"] = clean_website(value)


def _clean_email_field(value: str | None, out: dict[str, str | None]) -> None:
    out["email"], out["email_key"] = clean_email(value)


def _one(
    field_name: str, clean: Callable[[str | None], str | None], *, repeated: bool = False
) -> Cleaner:
    """A cleaner giving one field; `repeated` remembers its answers.

    A spreadsheet repeats a few countries, types and titles on every line, so
    their answers are remembered; a refused value raises every time
    (exceptions are not cached).
    """
    function = lru_cache(maxsize=1024)(clean) if repeated else clean

    def cleaner(value: str | None, out: dict[str, str | None]) -> None:
        out[field_name] = function(value)

    return cleaner


def _text(
    field_name: str, max_length: int, *, multiline: bool = False
) -> Callable[..., str | None]:
    label = LABELS[field_name]
    return lambda value: names.clean_text(value, label, max_length=max_length, multiline=multiline)


def _slug(value: str | None) -> str | None:
    return names.check_slug(value) if value and value.strip() else None


CLEANERS: dict[str, Cleaner] = {
    "name": _clean_name,
    "sort_name": _one("sort_name", _text("sort_name", NAME_MAX)),
    "slug": _one("slug", _slug),
    "country": _one("country", countries.parse_country, repeated=True),
    "org_type": _one("org_type", _text("org_type", TYPE_MAX), repeated=True),
    "website": _clean_website_field,
    "notes": _one("notes", _text("notes", NOTES_MAX, multiline=True)),
    "contact_name": _one("contact_name", _text("contact_name", NAME_MAX)),
    "contact_title": _one("contact_title", _text("contact_title", NAME_MAX), repeated=True),
    "email": _clean_email_field,
    "language": _one("language", clean_language, repeated=True),
    "listing": _one("listing", clean_listing, repeated=True),
}


def clean_fields(
    raw: Mapping[str, str | None],
) -> tuple[dict[str, str | None], list[FieldProblem]]:
    """Check every given field; return the cleaned values and every problem found."""
    cleaned: dict[str, str | None] = {}
    problems: list[FieldProblem] = []
    for key, value in raw.items():
        cleaner = CLEANERS.get(key)
        if cleaner is None:
            raise RegistryError(f"Unknown field {key!r}.")
        try:
            cleaner(value, cleaned)
        except RegistryError as exc:
            problems.append(FieldProblem(key, words_of(exc)))
    if "sort_name" in raw and "name" in cleaned and cleaned.get("sort_name") is None:
        cleaned["sort_name"] = names.default_sort_name(cleaned["name"] or "")
    return cleaned, problems


def clean_or_raise(raw: Mapping[str, str | None]) -> dict[str, str | None]:
    """Check every given field; raise FieldsError naming every problem."""
    cleaned, problems = clean_fields(raw)
    if problems:
        raise FieldsError(problems)
    return cleaned


def contact_values(cleaned: Mapping[str, str | None]) -> dict[str, str | None]:
    """The contact part of cleaned values, keyed as the Contact model names them."""
    return {
        "name": cleaned.get("contact_name"),
        "title": cleaned.get("contact_title"),
        "email": cleaned.get("email"),
        "email_key": cleaned.get("email_key"),
        "language": cleaned.get("language"),
    }


def has_contact(cleaned: Mapping[str, str | None]) -> bool:
    """True when any contact field holds a value."""
    return any(map(cleaned.get, CONTACT_FIELDS))


def contact_identity(name: str | None, title: str | None, email_key: str | None) -> str:
    """What makes two contacts one person: the email, or without one, the name and title."""
    if email_key:
        return email_key
    return "\0".join(("", (name or "").casefold(), (title or "").casefold()))


def new_contact(
    cleaned: Mapping[str, str | None], *, known: Collection[str]
) -> dict[str, str | None] | None:
    """The contact a line adds to an organisation, or None (nothing new in it).

    Shared by `org edit`-style updates and the bulk import, so both add the
    same contacts: none when the line gives no contact data, and none when the
    organisation already has that person (see contact_identity), so that
    importing a file again adds nothing.
    """
    if not has_contact(cleaned):
        return None
    values = contact_values(cleaned)
    if contact_identity(values["name"], values["title"], values["email_key"]) in known:
        return None
    return values
