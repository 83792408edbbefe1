"""Counts separate confirmations of the current text from those of an earlier one (stale)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from bs4 import BeautifulSoup
from sqlalchemy import update

from coalitionletter.db import Database
from coalitionletter.models import Invitation
from coalitionletter.reports import counts as reports
from coalitionletter.reports.count_values import LetterNow
from fixtures_counts import COUNTS_SLUG, CountsWorld

EARLIER = "e" * 64


def _letter(definition) -> LetterNow:  # type: ignore[no-untyped-def]
    return LetterNow(definition.title, definition.deadline, definition.current_hashes)


def _make_stale(database: Database, world: CountsWorld, *letters: str) -> None:
    """Mark these members' confirmations as given to an earlier text."""
    ids = [world.ids[letter] for letter in letters]
    with database.writing() as session:
        session.execute(
            update(Invitation)
            .where(Invitation.organisation_id.in_(ids), Invitation.state == "confirmed")
            .values(text_hash=EARLIER)
        )


def _table(output: str) -> dict[str, list[str]]:
    cells = [re.split(r"\s{2,}", line.strip()) for line in output.splitlines()]
    return {row[0]: row[1:] for row in cells}


def test_a_confirmation_of_an_earlier_text_is_counted_as_stale_not_current(
    counts_world: CountsWorld, database: Database
) -> None:
    _make_stale(database, counts_world, "A")
    with database.reading() as session:
        counted = reports.campaign_counts(
            session, COUNTS_SLUG, letter=_letter(counts_world.definition)
        )
    totals = counted.totals
    assert (totals.confirmed, totals.confirmed_current, totals.confirmed_stale) == (4, 3, 1)
    assert totals.problems() == []


def test_every_breakdown_splits_stale_and_sums_to_the_totals(
    counts_world: CountsWorld, database: Database
) -> None:
    _make_stale(database, counts_world, "A", "C")
    letter = _letter(counts_world.definition)
    with database.reading() as session:
        plain = reports.campaign_counts(
            session, COUNTS_SLUG, letter=_letter(counts_world.definition)
        ).totals
        for by in ("status", "country", "type"):
            counted = reports.campaign_counts(session, COUNTS_SLUG, by=by, letter=letter)
            assert counted.totals == plain, by
            stale = sum(row.counts.confirmed_stale for row in counted.rows)
            assert stale == 2, by


def test_the_table_shows_how_many_confirmed_the_current_text(
    counts_world: CountsWorld, database: Database, invoke
) -> None:
    _make_stale(database, counts_world, "A")
    result = invoke("counts", COUNTS_SLUG)
    assert result.exit_code == 0, result.output
    lines = _table(result.output)
    assert lines["Confirmed"] == ["4", "40.0%"]
    assert lines["to the current text (printed)"] == ["3", "30.0%"]
    assert lines["to an earlier text (stale: not printed until reconfirmed)"] == ["1", "10.0%"]


def test_a_changed_body_makes_every_earlier_confirmation_stale_in_the_counts(
    counts_world: CountsWorld, home: Path, invoke
) -> None:
    body = home / "letters" / COUNTS_SLUG / "body.md"
    body.write_text("We, {{ signatory_count }} organisations, urge you to act now.\n", "utf-8")
    result = invoke("counts", COUNTS_SLUG, "--format", "json")
    assert result.exit_code == 0, result.output
    totals = json.loads(result.output)["totals"]
    assert (totals["confirmed"], totals["confirmed_current"], totals["confirmed_stale"]) == (
        4,
        0,
        4,
    )


def test_the_overview_has_a_stale_column(
    counts_world: CountsWorld, database: Database, invoke
) -> None:
    _make_stale(database, counts_world, "A")
    result = invoke("counts")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    header = re.split(r"\s{2,}", lines[0].strip())
    row = re.split(r"\s{2,}", next(line for line in lines if line.startswith(COUNTS_SLUG)))
    assert header[header.index("Confirmed") + 1] == "of which stale"
    assert row[header.index("Confirmed")] == "4"
    assert row[header.index("of which stale")] == "1"


def test_counts_warn_when_the_letter_cannot_be_read_and_still_count(
    counts_world: CountsWorld, home: Path, invoke
) -> None:
    (home / "letters" / COUNTS_SLUG / "body.md").write_text("Broken {{ nonsense }}\n", "utf-8")
    result = invoke("counts", COUNTS_SLUG)
    assert result.exit_code == 0, result.output
    assert "cannot be read" in result.output
    assert "none is counted as stale" in result.output
    assert _table(result.output)["Confirmed"] == ["4", "40.0%"]


def test_the_count_sheet_says_how_many_confirmations_are_of_the_current_text(
    counts_world: CountsWorld, database: Database, invoke, tmp_path: Path
) -> None:
    _make_stale(database, counts_world, "A")
    target = tmp_path / "sheet.html"
    result = invoke("counts", COUNTS_SLUG, "--html", str(target))
    assert result.exit_code == 0, result.output
    soup = BeautifulSoup(target.read_text("utf-8"), "html.parser")
    assert soup.select_one("#total-confirmed_current").get_text() == "3"
    assert soup.select_one("#total-confirmed_stale").get_text() == "1"
    assert "are not printed until they reconfirm" in soup.select_one("#stale-warning").get_text()


def test_the_count_sheet_has_no_stale_warning_when_all_are_current(
    counts_world: CountsWorld, invoke, tmp_path: Path
) -> None:
    target = tmp_path / "sheet.html"
    result = invoke("counts", COUNTS_SLUG, "--html", str(target))
    assert result.exit_code == 0, result.output
    soup = BeautifulSoup(target.read_text("utf-8"), "html.parser")
    assert soup.select_one("#total-confirmed").get_text() == "4"
    assert soup.select_one("#stale-warning") is None
