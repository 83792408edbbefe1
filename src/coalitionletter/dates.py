"""Dates and times as people read them: one style per locale, deadlines in the campaign's zone.

Letters, sign-on pages, emails and count sheets all go through here, so a
reader of one campaign sees one way of writing a date. Stored times are UTC;
a deadline is shown in the campaign's time zone and says which zone it is.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, tzinfo
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_time, get_timezone_location

DEFAULT_LOCALE = "en"
# The locale of staff's messages and count sheets (as render's PAGE_LOCALE for pages)
# until they have catalogs (#15).
WORDS_LOCALE = "en-GB"


@cache
def babel_locale(tag: str | None) -> Locale:
    """Babel's locale for a BCP 47 tag such as en-GB or zh-Hant (English when unknown)."""
    try:
        return Locale.parse((tag or DEFAULT_LOCALE).replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        return Locale.parse(DEFAULT_LOCALE)


def time_zone(name: str | None) -> tzinfo:
    """The IANA time zone of that name (UTC when none is given)."""
    if not name or name == "UTC":
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(
            f"{name!r} is not a time zone name; use an IANA name such as Europe/London."
        ) from exc


def deadline_zone(deadline: datetime | None, name: str | None) -> tzinfo:
    """The zone a deadline is shown in: the campaign's (`name`), else the offset it was
    written with (letter.toml's `+01:00`), else UTC."""
    if name:
        return time_zone(name)
    if deadline is not None and deadline.tzinfo is not None:
        return deadline.tzinfo
    return UTC


def format_deadline(deadline: datetime, zone: str | None, locale: str | None = None) -> str:
    """A deadline in the campaign's zone, named: '14 August 2020, 17:00 (United Kingdom Time)'."""
    return format_moment(deadline, deadline_zone(deadline, zone), locale or WORDS_LOCALE)


def day_in(moment: datetime, zone: tzinfo) -> date:
    """The calendar day a moment falls on in a zone."""
    return moment.astimezone(zone).date()


def format_day(day: date, locale: str | None) -> str:
    """A date in the locale's long form: 18 August 2020 (en-GB), August 18, 2020 (en-CA)."""
    return format_date(day, "long", locale=babel_locale(locale))


def format_moment(moment: datetime, zone: tzinfo, locale: str | None) -> str:
    """A moment in a zone, named: '14 August 2020, 17:00 (United Kingdom Time)'."""
    where = babel_locale(locale)
    local = moment.astimezone(zone)
    pattern = str(where.datetime_formats["long"])
    text = pattern.replace("{1}", format_day(local.date(), locale)).replace(
        "{0}", format_time(local, "short", tzinfo=zone, locale=where)
    )
    return f"{text} ({zone_name(zone, locale)})"


def zone_name(zone: tzinfo, locale: str | None) -> str:
    """A zone as the locale names it ('United Kingdom Time'); UTC, fixed offsets: 'UTC+01:00'."""
    if isinstance(zone, ZoneInfo):
        return get_timezone_location(zone, locale=babel_locale(locale))
    return str(zone)  # datetime.timezone: "UTC", "UTC+01:00"


MOMENT_EXAMPLE = "2020-08-21T17:00:00+01:00"


def parse_moment(value: str, *, day_end: bool) -> datetime:
    """A date and time with a zone, in UTC; with `day_end`, a bare date is the end of that UTC day.

    Raises ValueError with a message that says what to write instead.
    """
    from datetime import time

    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            if not day_end:
                raise ValueError(value)
            return datetime.combine(day, time.max, UTC)
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        dates = "a date (2020-08-14) or " if day_end else ""
        raise ValueError(
            f"{value!r} is not {dates}a date and time with a time zone like {MOMENT_EXAMPLE}."
        ) from exc
    if moment.tzinfo is None:
        raise ValueError(
            f"{value!r} has no time zone; write it like {MOMENT_EXAMPLE} "
            "(or end it with Z for UTC)."
        )
    return moment.astimezone(UTC)
