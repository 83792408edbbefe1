"""`coalitionletter counts`: the terminal table, CSV, JSON, and its refusals."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest

from coalitionletter.db import Database
from coalitionletter.reports.count_json import OVERVIEW_FORMAT
from coalitionletter.reports.count_values import KEYS, NO_COUNTRY, NO_TYPE
from fixtures_counts import COUNTS_SLUG, DAYS_LEFT, SECOND_SLUG, CountsWorld, world_state


def test_the_table_shows_each_total_with_its_percentage(counts_world: CountsWorld, invoke):
    result = invoke("counts", COUNTS_SLUG)
    assert result.exit_code == 0, result.output
    cells = [re.split(r"\s{2,}", line.strip()) for line in result.output.splitlines()]
    lines = {row[0]: row[1:] for row in cells}
    assert lines["Invited"] == ["10", "100.0%"]
    assert lines["Confirmed"] == ["4", "40.0%"]
    assert lines["email failed"] == ["1", "10.0%"]


def test_the_table_says_the_days_left(counts_world: CountsWorld, invoke):
    result = invoke("counts", COUNTS_SLUG)
    assert result.exit_code == 0, result.output
    assert f", 17:00 (UTC): {DAYS_LEFT} days left" in result.output


def test_the_table_by_country_ends_with_the_total(counts_world: CountsWorld, invoke):
    result = invoke("counts", COUNTS_SLUG, "--by", "country")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert any(line.startswith("United Kingdom ") for line in lines)
    assert lines[-1].split()[:3] == ["Total", "10", "4"]


def test_without_a_campaign_there_is_one_line_per_campaign(counts_world: CountsWorld, invoke):
    result = invoke("counts")
    assert result.exit_code == 0, result.output
    rows = [line.split()[0] for line in result.output.splitlines()[2:]]
    assert rows == [COUNTS_SLUG, SECOND_SLUG]


def test_the_overview_as_json_has_each_campaign(counts_world: CountsWorld, invoke):
    document = json.loads(invoke("counts", "--format", "json").output)
    assert document["format"] == OVERVIEW_FORMAT
    assert [c["campaign"]["slug"] for c in document["campaigns"]] == [COUNTS_SLUG, SECOND_SLUG]
    assert document["campaigns"][0]["totals"]["invited"] == 10


def test_the_json_has_the_documented_shape(counts_world: CountsWorld, invoke):
    document = json.loads(invoke("counts", COUNTS_SLUG, "--format", "json").output)
    assert set(document) == {"format", "as_of", "campaign", "totals", "percent", "breakdown"}
    assert document["format"] == "coalitionletter.counts/1"
    assert set(document["campaign"]) == {"slug", "title", "deadline", "days_left", "open"}
    assert document["campaign"]["days_left"] == DAYS_LEFT
    assert document["campaign"]["open"] is True
    assert list(document["totals"]) == list(KEYS)
    assert all(type(value) is int for value in document["totals"].values())
    assert all(type(value) is float for value in document["percent"].values())
    assert document["breakdown"] is None


def test_the_json_keys_are_the_states(counts_world: CountsWorld, invoke):
    totals = json.loads(invoke("counts", COUNTS_SLUG, "--format", "json").output)["totals"]
    assert {"invited", "confirmed", "declined", "withdrawn", "not_answered"} <= set(totals)
    assert totals["invited"] == (
        totals["not_answered"] + totals["confirmed"] + totals["declined"] + totals["withdrawn"]
    )


@pytest.mark.parametrize("by", ["status", "country", "type"])
def test_every_json_breakdown_sums_to_the_totals(counts_world: CountsWorld, invoke, by: str):
    document = json.loads(invoke("counts", COUNTS_SLUG, "--by", by, "--format", "json").output)
    rows = document["breakdown"]["rows"]
    assert document["breakdown"]["by"] == by
    for key, total in document["totals"].items():
        assert sum(row["counts"][key] for row in rows) == total, key
    assert round(sum(row["share"] for row in rows)) == 100


def test_the_json_breakdown_rows_have_key_label_share_counts_percent(
    counts_world: CountsWorld, invoke
):
    document = json.loads(
        invoke("counts", COUNTS_SLUG, "--by", "country", "--format", "json").output
    )
    row = next(r for r in document["breakdown"]["rows"] if r["key"] == "GB")
    assert set(row) == {"key", "label", "share", "counts", "percent"}
    assert (row["label"], row["share"], row["counts"]["invited"]) == ("United Kingdom", 30.0, 3)
    assert row["percent"]["confirmed"] == 33.3
    unknown = document["breakdown"]["rows"][-1]
    assert (unknown["key"], unknown["label"]) == (None, NO_COUNTRY)


def test_the_csv_has_a_row_per_breakdown_row_and_a_total(counts_world: CountsWorld, invoke):
    result = invoke("counts", COUNTS_SLUG, "--by", "type", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(result.output.removeprefix("\ufeff"))))
    assert [row["label"] for row in rows] == ["diaspora", "legal", "NGO", NO_TYPE, "Total"]
    assert rows[-1]["invited"] == "10"
    assert sum(int(row["confirmed"]) for row in rows[:-1]) == int(rows[-1]["confirmed"])


def test_the_counts_csv_starts_with_a_byte_order_mark(counts_world: CountsWorld, invoke):
    result = invoke("counts", COUNTS_SLUG, "--format", "csv")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("\ufeffkey,label,")
    overview = invoke("counts", "--format", "csv")
    assert overview.exit_code == 0, overview.output
    assert overview.output.startswith("\ufeffcampaign,title,")


def test_a_formula_in_an_organisation_type_is_neutralised_in_the_csv(
    counts_world: CountsWorld, invoke, database: Database
):
    from coalitionletter.models import Campaign
    from fixtures_counts import act, add_org

    with database.writing() as session:
        campaign = session.query(Campaign).filter_by(slug=COUNTS_SLUG).one()
        organisation = add_org(session, "Spreadsheet Trap", "FR", '=HYPERLINK("http://x")')
        act(session, campaign, organisation.id, "invite", "")
    result = invoke("counts", COUNTS_SLUG, "--by", "type", "--format", "csv")
    text = result.output.removeprefix("\ufeff")
    labels = [row["label"] for row in csv.DictReader(io.StringIO(text))]
    assert '\'=HYPERLINK("http://x")' in labels


REFUSALS = {
    "an-unknown-campaign-naming-the-known-ones": (
        ("no-such-letter",),
        1,
        ("There is no campaign 'no-such-letter'", COUNTS_SLUG),
    ),
    "a-bad-breakdown": (
        (COUNTS_SLUG, "--by", "colour"),
        2,
        ("Invalid value for '--by'", "'colour' is not one of 'status', 'country', 'type'"),
    ),
    "a-breakdown-without-a-campaign": (
        ("--by", "country"),
        2,
        ("--by, --pdf and --html need a CAMPAIGN",),
    ),
}


@pytest.mark.parametrize(("args", "exit_code", "words"), REFUSALS.values(), ids=REFUSALS.keys())
def test_a_refused_count_says_why_and_changes_nothing(
    counts_world: CountsWorld,
    invoke,
    database: Database,
    *,
    args: tuple[str, ...],
    exit_code: int,
    words: tuple[str, ...],
):
    before = world_state(database)
    result = invoke("counts", *args)
    assert result.exit_code == exit_code
    for said in words:
        assert said in result.output
    assert world_state(database) == before


def test_a_sheet_into_a_missing_folder_is_refused_and_nothing_is_written(
    counts_world: CountsWorld, invoke, home: Path, database: Database
):
    before = world_state(database)
    target = home / "no-folder" / "sheet.html"
    result = invoke("counts", COUNTS_SLUG, "--html", str(target))
    assert result.exit_code == 1
    assert f"The folder {target.parent} does not exist" in result.output
    assert not target.parent.exists()
    assert world_state(database) == before


def test_counts_on_an_uninitialised_database_says_to_run_init(invoke):
    result = invoke("counts")
    assert result.exit_code == 1
    assert "Run `coalitionletter init` first" in result.output


def test_counts_help_shows_an_example(invoke):
    result = invoke("counts", "-h")
    assert result.exit_code == 0
    assert "coalitionletter counts ilp-magnitsky-2020 --by country" in result.output
