"""Dates as people read them: one style per locale, moments with their zone named."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from coalitionletter import dates
from coalitionletter.render import make_environment

MOMENT = datetime(2020, 8, 14, 16, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("locale", "expected"),
    [("en-GB", "18 August 2020"), ("en-CA", "August 18, 2020"), ("fr-CA", "18 août 2020")],
)
def test_a_day_is_written_in_its_locales_long_form(locale: str, expected: str) -> None:
    assert dates.format_day(date(2020, 8, 18), locale) == expected


def test_a_moment_is_shown_in_its_zone_and_names_it() -> None:
    london = dates.format_moment(MOMENT, ZoneInfo("Europe/London"), "en-GB")
    assert london == "14 August 2020, 17:00 (United Kingdom Time)"
    assert dates.format_moment(MOMENT, UTC, "en-GB") == "14 August 2020, 16:00 (UTC)"


def test_an_unknown_zone_is_refused_with_an_example() -> None:
    with pytest.raises(ValueError, match="IANA name such as Europe/London"):
        dates.time_zone("Mars/Olympus")


def test_an_unknown_locale_falls_back_to_english() -> None:
    assert dates.format_day(date(2020, 8, 18), "xx-YY") == "August 18, 2020"


def test_pages_and_emails_write_dates_as_the_letters_do(tmp_path) -> None:
    environment = make_environment(tmp_path)
    template = environment.from_string("{{ when|day }} | {{ when|moment }}")
    assert template.render(when=MOMENT) == "14 August 2020 | 14 August 2020, 16:00 (UTC)"
    french = template.render(when=MOMENT, locale="fr-CA")
    assert french.startswith("14 août 2020 | 14 août 2020, 16 h 00")
