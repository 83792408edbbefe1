"""Countries as ISO 3166-1 alpha-2 codes, read from a code or an English name.

Spreadsheets write "GB", "gb", "GBR", "United Kingdom", "UK" or "Türkiye" and
"Turkey" for the same country; all become one code. No fuzzy matching: a
misspelt country is refused rather than guessed, because a guess that lands on
the wrong country puts an exiled organisation under the wrong flag.
"""

from __future__ import annotations

import unicodedata
from functools import cache, lru_cache

import pycountry

from coalitionletter.catalogs import N_
from coalitionletter.errors import CountryError

# Names in common use that ISO 3166-1 spells otherwise, or codes it reserves.
ALIASES: dict[str, str] = {
    "UK": "GB",
    "Great Britain": "GB",
    "Britain": "GB",
    "United Kingdom of Great Britain and Northern Ireland": "GB",
    "USA": "US",
    "United States of America": "US",
    "Russia": "RU",
    "Turkey": "TR",
    "South Korea": "KR",
    "North Korea": "KP",
    "Iran": "IR",
    "Syria": "SY",
    "Vietnam": "VN",
    "Laos": "LA",
    "Moldova": "MD",
    "Czech Republic": "CZ",
    "Ivory Coast": "CI",
    "Bolivia": "BO",
    "Venezuela": "VE",
    "Tanzania": "TZ",
    "Macedonia": "MK",
    "The Netherlands": "NL",
    "Burma": "MM",
    "Palestine": "PS",
    "Vatican": "VA",
    "Hong Kong SAR": "HK",
    "Macau": "MO",
}


# Codes ISO 3166-1 leaves user-assigned but that institutions use for a country
# (XK: the European Commission, the World Bank, SWIFT); name and alpha-3 as they use them.
USER_ASSIGNED: dict[str, tuple[str, str]] = {"XK": ("Kosovo", "XKX")}


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(char for char in decomposed if char.isalnum())


@cache
def _by_name() -> dict[str, str]:
    index: dict[str, str] = {}
    for country in pycountry.countries:
        for attribute in ("name", "official_name", "common_name", "alpha_3"):
            value = getattr(country, attribute, None)
            if value:
                index[_fold(value)] = country.alpha_2
    for code, (name, alpha_3) in USER_ASSIGNED.items():
        index[_fold(name)] = index[_fold(alpha_3)] = code
    for alias, code in ALIASES.items():
        index[_fold(alias)] = code
    return index


def parse_country(value: str | None) -> str | None:
    """The alpha-2 code for a code or English name; None when empty. Raises CountryError."""
    text = (value or "").strip()
    if not text:
        return None
    code = _code(text)
    if code is not None:
        return code
    raise CountryError(
        N_(
            "Country %(value)s is not an ISO 3166-1 country. Give a two-letter code such as "
            "GB or an English name such as United Kingdom, or leave it empty.",
            value=repr(text),
        )
    )


@lru_cache(maxsize=4096)
def _code(text: str) -> str | None:
    # Cached: an import looks up the same few countries on every line.
    if len(text) == 2 and text.isascii() and text.isalpha():
        if text.upper() in USER_ASSIGNED:
            return text.upper()
        country = pycountry.countries.get(alpha_2=text.upper())
        if country is not None:
            return country.alpha_2
    return _by_name().get(_fold(text))


def country_name(code: str | None) -> str:
    """The English short name for an alpha-2 code ("" for none), as lists print it."""
    if not code:
        return ""
    if code in USER_ASSIGNED:
        return USER_ASSIGNED[code][0]
    country = pycountry.countries.get(alpha_2=code)
    if country is None:
        return code
    return getattr(country, "common_name", None) or country.name
