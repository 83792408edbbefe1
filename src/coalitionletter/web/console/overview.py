"""What coordinators and staff see of a campaign: the list, the dashboard, the sheet, the trail.

Every number comes from the same core functions as `coalitionletter counts`,
`export` and `audit`; nothing is counted a second way here.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Response, abort, request
from flask_login import current_user

from coalitionletter.catalogs import N_, Words
from coalitionletter.errors import CampaignError, CoalitionError
from coalitionletter.web.console import auth
from coalitionletter.web.console.shell import COORDINATOR, STAFF, Console, Rule, download
from coalitionletter.web.console.trail_words import kind_words

BREAKDOWNS = ("status", "country", "type")


class Overview:
    """The campaign list, one campaign's dashboard and its downloads, and the trail."""

    def __init__(self, console: Console) -> None:
        self.console = console

    def campaigns(self) -> Response:
        """Every campaign with its progress (the same overview as `coalitionletter counts`)."""
        from sqlalchemy import select

        from coalitionletter.models import Campaign
        from coalitionletter.reports import counts as reports

        with self.console.database.reading() as db:
            slugs = db.scalars(select(Campaign.slug)).all()
            # Each campaign's files, as `counts` reads them: days left in its own zone.
            letters, _ = reports.letters_now(self.console.settings, db, slugs)
            summary = reports.overview(db, letters=letters)
        return self.console.page("campaigns.html", summary=summary)

    def dashboard(self, slug: str) -> Response:
        """One campaign: the numbers and breakdowns of `counts`, the chart, whom to chase."""
        from coalitionletter.reports import counts as reports
        from coalitionletter.reports import countsheet

        try:
            with self.console.database.reading() as db:
                letter = self._letter_now(db, slug)
                breakdowns = {
                    by: reports.campaign_counts(db, slug, by=by, letter=letter) for by in BREAKDOWNS
                }
                totals = breakdowns["status"].totals
                to_chase = (
                    countsheet.not_answered(db, breakdowns["status"].campaign.id)
                    if current_user.may(STAFF)
                    else ()
                )
        except CampaignError:
            abort(404)
        from coalitionletter.reports import count_text
        from coalitionletter.web.console import count_words

        info = breakdowns["status"].campaign
        return self.console.page(
            "dashboard.html",
            text=count_text,
            words=count_words,
            deadline=self._deadline(info),
            # Times in the campaign's zone, named (the `moment` filter reads it).
            time_zone=info.time_zone,
            counts=breakdowns["status"],
            breakdowns=breakdowns,
            totals=totals,
            percent=totals.percent(),
            chart=count_words.chart_in_words(countsheet.chart(totals)),
            to_chase=to_chase,
        )

    def _deadline(self, info: Any) -> str | None:
        """The deadline in the page's language and the campaign's zone (None: none set)."""
        from coalitionletter.catalogs import date_locale
        from coalitionletter.dates import format_deadline

        if info.deadline is None:
            return None
        return format_deadline(info.deadline, info.time_zone, date_locale(self.console.language()))

    def _letter_now(self, db: Any, slug: str) -> Any:
        """What the campaign's files say now (as `counts` reads them), or None when they
        cannot be read: the database's copy of the title and deadline is shown then."""
        from coalitionletter.reports import counts as reports

        letters, _ = reports.letters_now(self.console.settings, db, [slug])
        return letters.get(slug)

    def count_sheet(self, slug: str) -> Response:
        """The printable count sheet as PDF, as `counts CAMPAIGN --pdf` writes it."""
        from coalitionletter.reports import countsheet

        paper = request.args.get("paper", "a4")
        if paper not in countsheet.PAGE_SIZES:
            abort(400)
        try:
            with self.console.database.reading() as db:
                sheet = countsheet.build_sheet(self.console.settings, db, slug, paper=paper)
            pdf = countsheet.render_pdf(sheet)
        except CampaignError:
            abort(404)
        except CoalitionError as exc:
            return self.console.problem(409, self.console.words(exc))
        return download(pdf, "application/pdf", f"{slug}-count-sheet.pdf")

    def export(self, slug: str) -> Response:
        """The public list of signatories as CSV, as `coalitionletter export` writes it."""
        from coalitionletter.campaigns import catalogue
        from coalitionletter.reports import export as exporting

        try:
            with self.console.database.reading() as db:
                definition = catalogue.load(self.console.settings, slug)
                listing = exporting.signatory_list(db, definition, delivered=False)
        except CampaignError:
            abort(404)
        except CoalitionError as exc:  # the records disagree with the trail, stale consent
            return self.console.problem(409, self.console.words(exc))
        csv = exporting.as_csv(listing).encode("utf-8")
        return download(csv, "text/csv; charset=utf-8", f"{slug}-signatories-public.csv")

    def audit(self, slug: str) -> Response:
        """The campaign's trail, filtered, with the chain's verification (staff only)."""
        from coalitionletter.reports.count_queries import find_campaign
        from coalitionletter.signon import audit as trail

        filters, errors = _audit_filters(request.args)
        try:
            with self.console.database.reading() as db:
                campaign = find_campaign(db, slug)
                found = trail.entries(db, slug, filters)
                kinds = trail.kinds(db, slug)
                # The same check as `coalitionletter audit --verify`: chain and rows.
                verified = trail.check(db, slug)
        except CampaignError:
            abort(404)
        return self.console.page(
            "audit.html",
            campaign=campaign,
            entries=found,
            kinds=kinds,
            filters=filters,
            errors=errors,
            verified=verified,
            kind_words=kind_words,
        )


def _day(value: str, label: Words, errors: list[Words]) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        errors.append(
            N_(
                "%(field)s: %(value)s is not a date. Use the form 2026-12-31.",
                field=label,
                value=repr(value),
            )
        )
        return None


def _audit_filters(args: Any) -> tuple[Any, list[Words]]:
    from coalitionletter.signon.audit import Filters

    errors: list[Words] = []
    filters = Filters(
        organisation=args.get("organisation", "")[:300],
        kind=args.get("kind", "")[:40],
        since=_day(args.get("since", ""), N_("From"), errors),
        until=_day(args.get("until", ""), N_("To"), errors),
    )
    return filters, errors


def rules(console: Console) -> list[Rule]:
    """The URL rules of the campaign overview."""
    pages = Overview(console)
    anyone = auth.requires(COORDINATOR)
    staff_only = auth.requires(STAFF)
    return [
        ("/", "campaigns", anyone(pages.campaigns), ["GET"]),
        ("/c/<slug>", "dashboard", anyone(pages.dashboard), ["GET"]),
        ("/c/<slug>/count-sheet.pdf", "count_sheet", anyone(pages.count_sheet), ["GET"]),
        ("/c/<slug>/signatories.csv", "export", anyone(pages.export), ["GET"]),
        ("/c/<slug>/audit", "audit", staff_only(pages.audit), ["GET"]),
    ]
