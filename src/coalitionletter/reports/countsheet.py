"""The printable count sheet: where a sign-on stands and whom to call, on one or two pages.

It holds the campaign's title, deadline and days left, the totals, a bar chart
of the states (SVG drawn by a Jinja template from the numbers), the counts by
country, the confirmed organisations as the letter names them, and those that
have not answered with their contact person. It is rendered through the same
Jinja environment, escaping and restricted URL fetcher as the letters
(`render.make_environment`, `render.write_pdf`). Because it lists contact
people it is confidential; the sheet says so on every page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from coalitionletter import render
from coalitionletter.campaigns import catalogue as campaigns
from coalitionletter.campaigns import roster
from coalitionletter.errors import ReportError
from coalitionletter.models import Contact, Invitation, InvitationState, Organisation
from coalitionletter.registry.countries import country_name
from coalitionletter.reports import counts as reports
from coalitionletter.reports.count_queries import all_emails_failed
from coalitionletter.reports.count_text import deadline_phrase
from coalitionletter.reports.count_values import (
    STATUS_LABELS,
    STATUS_ROWS,
    CampaignCounts,
    StateCounts,
    percent_of,
)
from coalitionletter.settings import Settings

SHEET_TEMPLATE = "counts/sheet.html"
PAGE_SIZES = {"a4": "A4", "letter": "letter"}

# The chart's geometry, in SVG user units (px at 96 dpi).
CHART_LABEL_WIDTH = 175
CHART_TRACK = 380
CHART_VALUE_WIDTH = 110
CHART_ROW = 21
CHART_BAR = 14
# Colours that stay apart in greyscale print, from dark to light.
COLOURS = {
    "confirmed_public": "#1b5e20",
    "confirmed_governments_only": "#66bb6a",
    "declined": "#6d4c41",
    "withdrawn": "#e65100",
    "viewed": "#0d47a1",
    "not_viewed": "#90a4ae",
    "email_failed": "#c62828",
}
CHART_LABELS = {
    "confirmed": "Confirmed",
    "declined": "Declined",
    "withdrawn": "Withdrawn",
    "viewed": "No answer, link opened",
    "not_viewed": "No answer, not opened",
    "email_failed": "No answer, email failed",
}
# Who to chase first: those no email reached, then those who never opened it.
CHASE_ORDER = ("email_failed", "not_viewed", "viewed")


@dataclass(frozen=True)
class Segment:
    """One coloured part of a bar."""

    key: str
    length: float
    colour: str


@dataclass(frozen=True)
class Bar:
    """One row of the chart: a state, its count, its share of those invited."""

    key: str
    label: str
    count: int
    percent: float
    segments: tuple[Segment, ...]


@dataclass(frozen=True)
class Chart:
    """The bar chart's rows and geometry."""

    bars: tuple[Bar, ...]
    label_width: int = CHART_LABEL_WIDTH
    track: int = CHART_TRACK
    row: int = CHART_ROW
    bar: int = CHART_BAR

    @property
    def width(self) -> int:
        """The SVG's width."""
        return self.label_width + self.track + CHART_VALUE_WIDTH

    @property
    def height(self) -> int:
        """The SVG's height."""
        return self.row * len(self.bars) + 4


@dataclass(frozen=True)
class Signed:
    """A confirmed organisation as the letter names it."""

    name: str
    direction: str
    han: str | None  # the language of its Chinese characters (render.han_language)
    country: str
    country_code: str
    governments_only: bool
    stale: bool
    # Set only when the printed name is not the registry's (an approved correction).
    registry_name: str = ""
    # A correction awaiting staff; the name above prints until it is approved.
    proposed_name: str = ""


@dataclass(frozen=True)
class ToChase:
    """An organisation that has not answered, and whom to ask."""

    name: str
    direction: str
    han: str | None
    country: str
    country_code: str
    contact_name: str
    contact_han: str | None
    contact_email: str
    status: str  # one of CHASE_ORDER
    status_text: str
    reminders: int
    viewed_at: datetime | None = None  # when the link was opened (the console dates it)


@dataclass(frozen=True)
class Sheet:
    """Everything the count sheet prints."""

    counts: CampaignCounts
    deadline: str
    page_size: str
    chart: Chart
    signed: tuple[Signed, ...]
    to_chase: tuple[ToChase, ...]
    campaign_dir: Path
    templates_dir: Path


def chart(totals: StateCounts) -> Chart:
    """The chart's bars, one per state, each as long as its share of those invited."""
    scale = CHART_TRACK / totals.invited if totals.invited else 0.0
    bars = []
    for key in STATUS_ROWS:
        parts = ("confirmed_public", "confirmed_governments_only") if key == "confirmed" else (key,)
        segments = tuple(
            Segment(part, round(getattr(totals, part) * scale, 2), COLOURS[part]) for part in parts
        )
        bars.append(
            Bar(
                key=key,
                label=CHART_LABELS[key],
                count=getattr(totals, key),
                percent=percent_of(getattr(totals, key), totals.invited),
                segments=segments,
            )
        )
    return Chart(bars=tuple(bars))


def _signed(named: roster.Roster) -> tuple[Signed, ...]:
    return tuple(
        Signed(
            name=s.name,
            direction=render.text_direction(s.name),
            han=render.han_language(s.name, s.country),
            country=country_name(s.country),
            country_code=s.country or "",
            governments_only=not s.is_public,
            stale=s.stale,
            registry_name=s.registry_name if s.renamed else "",
            proposed_name=s.proposed_name or "",
        )
        for s in named.signatories
    )


def _chase_status(viewed_at: datetime | None, failed: bool) -> tuple[str, str]:
    if viewed_at is not None:
        return "viewed", f"opened {viewed_at.day} {viewed_at:%b}"
    if failed:
        return "email_failed", "email failed"
    return "not_viewed", "not opened"


def not_answered(session: Session, campaign_id: int) -> tuple[ToChase, ...]:
    """The organisations that have not answered, each with its first contact person."""
    first_contact = (
        select(func.min(Contact.id))
        .where(Contact.organisation_id == Organisation.id)
        .correlate(Organisation)
        .scalar_subquery()
    )
    query = (
        select(
            Organisation.name,
            Organisation.sort_name,
            Organisation.country,
            Contact.name.label("contact_name"),
            Contact.email.label("contact_email"),
            Invitation.viewed_at,
            Invitation.reminders_sent,
            all_emails_failed().label("failed"),
        )
        .join(Organisation, Organisation.id == Invitation.organisation_id)
        .outerjoin(Contact, Contact.id == first_contact)
        .where(
            Invitation.campaign_id == campaign_id,
            Invitation.state == InvitationState.INVITED.value,
        )
    )
    rows = []
    for row in session.execute(query):
        status, text = _chase_status(row.viewed_at, bool(row.failed))
        entry = ToChase(
            name=row.name,
            direction=render.text_direction(row.name),
            han=render.han_language(row.name, row.country),
            country=country_name(row.country),
            country_code=row.country or "",
            contact_name=row.contact_name or "",
            contact_han=render.han_language(row.contact_name or "", row.country),
            contact_email=row.contact_email or "",
            status=status,
            status_text=text,
            reminders=row.reminders_sent or 0,
            viewed_at=row.viewed_at,
        )
        rows.append((CHASE_ORDER.index(status), roster.collation_key(row.sort_name), entry))
    return tuple(entry for *_key, entry in sorted(rows, key=lambda item: item[:2]))


def build_sheet(
    settings: Settings,
    session: Session,
    slug: str,
    *,
    paper: str = "a4",
    now: datetime | None = None,
) -> Sheet:
    """Gather what the count sheet prints for one campaign."""
    if paper not in PAGE_SIZES:
        raise ReportError(
            f"Paper {paper!r} is not one of {', '.join(PAGE_SIZES)}; choose one with --paper."
        )
    definition = campaigns.load_current(settings, session, slug)
    letter = reports.letter_now(session, definition)
    counts = reports.campaign_counts(session, slug, by="country", now=now, letter=letter)
    # The sheet lists stale confirmations too, marked, so the coordinator can chase them.
    named = roster.read_roster(session, definition, allow_stale=True)
    return Sheet(
        counts=counts,
        deadline=deadline_phrase(counts.campaign),
        page_size=PAGE_SIZES[paper],
        chart=chart(counts.totals),
        signed=_signed(named),
        to_chase=not_answered(session, counts.campaign.id),
        campaign_dir=definition.directory,
        templates_dir=settings.templates_dir,
    )


def render_html(sheet: Sheet) -> str:
    """The count sheet as a standalone HTML page."""
    environment = render.make_environment(sheet.templates_dir, sheet.campaign_dir)
    return environment.get_template(SHEET_TEMPLATE).render(
        sheet=sheet,
        campaign=sheet.counts.campaign,
        totals=sheet.counts.totals,
        percent=sheet.counts.totals.percent(),
        countries=sheet.counts.rows,
        chart=sheet.chart,
        labels=STATUS_LABELS,
        # The sheet's times in the campaign's zone, named (the `moment` filter reads it).
        time_zone=sheet.counts.campaign.time_zone,
    )


def render_pdf(sheet: Sheet) -> bytes:
    """The count sheet as PDF, through the letters' restricted renderer."""
    html = render_html(sheet)
    roots = render.allowed_roots(sheet.templates_dir, sheet.campaign_dir)
    base_url = render.template_dirs(sheet.templates_dir, sheet.campaign_dir)[0].as_uri() + "/"
    return render.write_pdf(
        html,
        base_url=base_url,
        roots=roots,
        what=f"The count sheet of {sheet.counts.campaign.slug}",
    )
