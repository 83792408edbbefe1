"""Counts: the numbers a coordinator reads, checked against the hand-made campaign."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, update

from coalitionletter.db import Database
from coalitionletter.errors import CampaignError, ReportError
from coalitionletter.models import Campaign, Invitation
from coalitionletter.reports import counts as reports
from coalitionletter.reports.count_text import deadline_phrase
from coalitionletter.reports.count_values import (
    BREAKDOWNS,
    NO_COUNTRY,
    NO_TYPE,
    CampaignCounts,
    StateCounts,
    days_left,
)
from fixtures_counts import COUNTS_SLUG, DAYS_LEFT, SECOND_SLUG, CountsWorld, act, add_org

EXPECTED_TOTALS = {
    "invited": 10,
    "not_answered": 4,
    "viewed": 1,
    "not_viewed": 2,
    "email_failed": 1,
    "confirmed": 4,
    "confirmed_public": 3,
    "confirmed_governments_only": 1,
    "confirmed_current": 4,
    "confirmed_stale": 0,
    "declined": 1,
    "withdrawn": 1,
}


def _counts(database: Database, by: str | None = None, **kwargs) -> CampaignCounts:
    with database.reading() as session:
        return reports.campaign_counts(session, COUNTS_SLUG, by=by, **kwargs)


def test_totals_match_the_hand_made_campaign(counts_world: CountsWorld, database: Database):
    assert _counts(database).totals.as_dict() == EXPECTED_TOTALS


def test_an_organisation_never_invited_is_not_counted(
    counts_world: CountsWorld, database: Database
):
    countries = {row.key for row in _counts(database, "country").rows}
    with database.reading() as session:
        second = reports.campaign_counts(session, SECOND_SLUG, by="country")
    # Positive controls: the breakdown lists the invited, and the same organisation (K, in
    # France) is counted where it was invited.
    assert {"GB", "US"} <= countries
    assert "FR" in {row.key for row in second.rows}
    assert "FR" not in countries


def test_a_link_opened_counts_as_viewed_even_when_an_email_failed(
    counts_world: CountsWorld, database: Database
):
    with database.writing() as session:
        session.execute(update(Invitation).values(viewed_at=None))
    totals = _counts(database).totals
    # G's only email failed; once its opening is forgotten it joins I as email failed.
    assert (totals.viewed, totals.email_failed) == (0, 2)


def test_a_reminder_sent_after_a_failed_email_is_not_a_failure(
    counts_world: CountsWorld, database: Database
):
    by_country = {row.key: row.counts for row in _counts(database, "country").rows}
    assert by_country["TR"].not_viewed == 1
    assert by_country["TR"].email_failed == 0


def test_percentages_are_of_those_invited(counts_world: CountsWorld, database: Database):
    percent = _counts(database).totals.percent()
    assert percent["invited"] == 100.0
    assert percent["confirmed"] == 40.0
    assert percent["not_answered"] == 40.0
    assert percent["email_failed"] == 10.0


def test_percentages_are_zero_when_nobody_is_invited(database: Database):
    assert StateCounts().percent()["confirmed"] == 0.0


def test_the_totals_hold_their_sums(counts_world: CountsWorld, database: Database):
    totals = _counts(database).totals
    assert totals.problems() == []
    assert totals.invited == (
        totals.not_answered + totals.confirmed + totals.declined + totals.withdrawn
    )
    assert totals.not_answered == totals.viewed + totals.email_failed + totals.not_viewed
    assert totals.confirmed == totals.confirmed_public + totals.confirmed_governments_only


@pytest.mark.parametrize("by", BREAKDOWNS)
def test_every_breakdown_sums_to_the_totals(counts_world: CountsWorld, database: Database, by: str):
    counts = _counts(database, by)
    summed = sum((row.counts for row in counts.rows), StateCounts())
    assert summed == counts.totals
    assert counts.totals.as_dict() == EXPECTED_TOTALS


def test_the_breakdown_by_country_names_each_country(counts_world: CountsWorld, database: Database):
    rows = _counts(database, "country").rows
    labels = [row.label for row in rows]
    assert labels == [
        "Canada",
        "Germany",
        "Kazakhstan",
        "Spain",
        "Türkiye",
        "United Kingdom",
        "United States",
        NO_COUNTRY,
    ]
    uk = next(row for row in rows if row.key == "GB")
    assert (uk.counts.invited, uk.counts.confirmed, uk.counts.declined, uk.counts.withdrawn) == (
        3,
        1,
        1,
        1,
    )


def test_the_breakdown_by_type_groups_the_untyped_last(
    counts_world: CountsWorld, database: Database
):
    rows = _counts(database, "type").rows
    assert [(row.label, row.counts.invited) for row in rows] == [
        ("diaspora", 3),
        ("legal", 1),
        ("NGO", 5),
        (NO_TYPE, 1),
    ]


def test_the_breakdown_by_status_lists_each_leaf_state(
    counts_world: CountsWorld, database: Database
):
    rows = _counts(database, "status").rows
    assert [(row.key, row.counts.invited) for row in rows] == [
        ("confirmed", 4),
        ("declined", 1),
        ("withdrawn", 1),
        ("viewed", 1),
        ("not_viewed", 2),
        ("email_failed", 1),
    ]


def test_days_left_counts_calendar_days_to_the_deadline(
    counts_world: CountsWorld, database: Database
):
    assert _counts(database).campaign.days_left == DAYS_LEFT


def test_a_passed_deadline_gives_negative_days_and_a_closed_campaign(
    counts_world: CountsWorld, database: Database
):
    later = counts_world.deadline + timedelta(days=3)
    info = _counts(database, now=later).campaign
    assert (info.days_left, info.is_open) == (-3, False)
    assert deadline_phrase(info).endswith(", 17:00 (UTC): closed 3 days ago")


def test_a_deadline_passed_earlier_today_says_closed_today(
    counts_world: CountsWorld, database: Database
):
    evening = counts_world.deadline.replace(hour=20)
    assert deadline_phrase(_counts(database, now=evening).campaign).endswith(": closed today")


def test_deadline_day_itself_says_closes_today(counts_world: CountsWorld, database: Database):
    morning = counts_world.deadline.replace(hour=9)
    info = _counts(database, now=morning).campaign
    assert deadline_phrase(info).endswith(", 17:00 (UTC): closes today")


def test_a_campaign_closed_before_its_deadline_says_so(
    counts_world: CountsWorld, database: Database
):
    with database.writing() as session:
        session.execute(
            update(Campaign)
            .where(Campaign.slug == COUNTS_SLUG)
            .values(closed_at=datetime.now(UTC) - timedelta(hours=1))
        )
    info = _counts(database).campaign
    assert info.is_open is False
    assert deadline_phrase(info).endswith(": sign-on closed early")


def test_a_closed_campaign_without_a_deadline_says_so(database: Database):
    with database.writing() as session:
        session.add(
            Campaign(
                slug="closed-letter",
                title="Closed",
                deadline=None,
                closed_at=datetime.now(UTC) - timedelta(days=1),
            )
        )
    with database.reading() as session:
        info = reports.campaign_counts(session, "closed-letter").campaign
    assert deadline_phrase(info) == "No deadline set (sign-on closed)"


def test_the_overview_has_one_line_per_campaign(counts_world: CountsWorld, database: Database):
    with database.reading() as session:
        summary = reports.overview(session)
    lines = {info.slug: totals for info, totals in summary.lines}
    assert list(lines) == [COUNTS_SLUG, SECOND_SLUG]
    assert lines[COUNTS_SLUG].as_dict() == EXPECTED_TOTALS
    assert (lines[SECOND_SLUG].invited, lines[SECOND_SLUG].confirmed) == (2, 1)


def test_the_overview_lists_a_campaign_nobody_was_invited_to(database: Database):
    with database.writing() as session:
        session.add(Campaign(slug="empty-letter", title="Empty", deadline=None))
    with database.reading() as session:
        ((info, totals),) = reports.overview(session).lines
    assert (info.slug, totals) == ("empty-letter", StateCounts())


def test_counting_uses_few_queries_however_many_invitations(
    counts_world: CountsWorld, database: Database
):
    with database.writing() as session:
        campaign = session.query(Campaign).filter_by(slug=COUNTS_SLUG).one()
        for number in range(30):
            organisation = add_org(session, f"Extra organisation {number}", "FR", "NGO")
            act(session, campaign, organisation.id, "invite", "")
    statements: list[str] = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(database.engine, "before_cursor_execute", listener)
    try:
        counts = _counts(database, "country")
    finally:
        event.remove(database.engine, "before_cursor_execute", listener)
    assert counts.totals.invited == 40
    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) <= 3


def test_an_unknown_campaign_is_refused_naming_the_known_ones(
    counts_world: CountsWorld, database: Database
):
    with pytest.raises(CampaignError) as caught:
        _counts_of(database, "no-such-letter")
    assert "no-such-letter" in str(caught.value)
    assert f"{COUNTS_SLUG}, {SECOND_SLUG}" in str(caught.value)


def test_an_unknown_breakdown_is_refused(counts_world: CountsWorld, database: Database):
    with pytest.raises(ReportError) as caught:
        _counts(database, "colour")
    assert "colour" in str(caught.value)
    assert "status, country, type" in str(caught.value)


def test_an_unknown_state_stops_the_count_rather_than_misadding(
    counts_world: CountsWorld, database: Database
):
    with database.writing() as session:
        session.execute(
            update(Invitation).where(Invitation.state == "declined").values(state="pending")
        )
    with pytest.raises(ReportError) as caught:
        _counts(database)
    assert "do not add up" in str(caught.value)


def _counts_of(database: Database, slug: str) -> CampaignCounts:
    with database.reading() as session:
        return reports.campaign_counts(session, slug)


def test_days_left_is_none_without_a_deadline():
    assert days_left(None, datetime.now(UTC)) is None
