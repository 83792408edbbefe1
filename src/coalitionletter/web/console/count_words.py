"""The dashboard's words for the counts, in the page's language.

The core (reports/count_text.py, count_values.py, countsheet.py) writes its
labels in English for the terminal, the CSV and the printed count sheet; the
console names the same keys here, marked for the catalogs and translated
where the dashboard shows them.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from coalitionletter.catalogs import N_, Words
from coalitionletter.reports.count_values import NO_COUNTRY, NO_TYPE

# count_values.STATUS_LABELS, by the same keys.
STATUS = {
    "invited": N_("Invited"),
    "not_answered": N_("Not yet answered"),
    "viewed": N_("opened the link"),
    "not_viewed": N_("not opened"),
    "email_failed": N_("email failed"),
    "confirmed": N_("Confirmed"),
    "confirmed_public": N_("named publicly"),
    "confirmed_governments_only": N_("named to governments only"),
    "confirmed_current": N_("to the current text (printed)"),
    "confirmed_stale": N_("to an earlier text (stale: not printed until reconfirmed)"),
    "declined": N_("Declined"),
    "withdrawn": N_("Withdrawn"),
}
# count_text.COLUMN_TITLES.
COLUMNS = {
    "invited": N_("Invited"),
    "confirmed": N_("Confirmed"),
    "confirmed_stale": N_("of which stale"),
    "not_answered": N_("Not answered"),
    "declined": N_("Declined"),
    "withdrawn": N_("Withdrawn"),
    "email_failed": N_("Email failed"),
}
# The breakdowns' headings (count_text.BY_TITLES), and "By country" above them.
BY = {"status": N_("Status"), "country": N_("Country"), "type": N_("Type")}
BY_HEADING = {"status": N_("By status"), "country": N_("By country"), "type": N_("By type")}
# countsheet.CHART_LABELS.
CHART = {
    "confirmed": N_("Confirmed"),
    "declined": N_("Declined"),
    "withdrawn": N_("Withdrawn"),
    "viewed": N_("No answer, link opened"),
    "not_viewed": N_("No answer, not opened"),
    "email_failed": N_("No answer, email failed"),
}
# A breakdown row for organisations with no country or type.
NOT_GIVEN = {NO_COUNTRY: N_("(no country given)"), NO_TYPE: N_("(no type given)")}


def row_label(label: str) -> Words | str:
    """A breakdown row's label: a country or type as given, or "(not given)" translated."""
    return NOT_GIVEN.get(label, label)


def chart_in_words(chart: Any) -> Any:
    """The chart with its bars' labels marked for translation (the chart template shows them)."""
    bars = tuple(replace(bar, label=CHART.get(bar.key, bar.label)) for bar in chart.bars)
    return replace(chart, bars=bars)
