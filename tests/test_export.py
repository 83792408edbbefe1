"""`coalitionletter export`: the organisations named in the letter, as data."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from sqlalchemy import select

from coalitionletter.campaigns import roster
from coalitionletter.db import Database
from coalitionletter.models import Campaign, Event
from coalitionletter.reports import export
from coalitionletter.settings import Settings
from fixtures_counts import CHINESE_NAME, COUNTS_SLUG, CountsWorld, act, add_org, world_state

PUBLIC_NAMES = ["International Lawyers Project", CHINESE_NAME, "Uyghur Human Rights Project"]
PROTECTED = "Exiled Voices Collective"


COLUMNS = [
    "position",
    "name",
    "group",
    "country",
    "country_code",
    "type",
    "signer_name",
    "signer_title",
    "confirmed_on",
    "listing",
]


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))


def _export(invoke, *args: str):
    """Run `export`, which must succeed."""
    result = invoke("export", *args)
    assert result.exit_code == 0, result.output
    return result


def test_the_public_export_leaves_out_those_named_to_governments_only(
    counts_world: CountsWorld, invoke
):
    result = _export(invoke, COUNTS_SLUG)
    names = [row["name"] for row in _rows(result.stdout)]
    assert names == PUBLIC_NAMES
    assert PROTECTED not in result.stdout


def test_the_public_export_says_how_many_were_left_out(counts_world: CountsWorld, invoke):
    result = _export(invoke, COUNTS_SLUG)
    assert "3 of 4 signatories" in result.stderr
    assert "1 organisation named to governments only was left out" in result.stderr


def test_the_public_json_counts_those_left_out(counts_world: CountsWorld, invoke):
    document = json.loads(_export(invoke, COUNTS_SLUG, "--format", "json").stdout)
    assert (document["list"], document["signatory_count"], document["named_count"]) == (
        "public",
        4,
        3,
    )
    assert document["left_out_governments_only"] == 1
    assert PROTECTED not in json.dumps(document, ensure_ascii=False)


def test_the_delivered_export_names_everyone(counts_world: CountsWorld, invoke):
    result = _export(invoke, COUNTS_SLUG, "--delivered")
    names = [row["name"] for row in _rows(result.stdout)]
    assert PROTECTED in names
    assert len(names) == 4


def test_the_delivered_export_warns_it_must_not_be_published(counts_world: CountsWorld, invoke):
    result = _export(invoke, COUNTS_SLUG, "--delivered")
    assert "WARNING: this is the delivered list" in result.stderr
    assert "do not publish it" in result.stderr


def test_the_export_is_in_the_letters_order(counts_world: CountsWorld, invoke, database: Database):
    with database.reading() as session:
        named = roster.read_roster(session, counts_world.definition)
    expected = [s.name for group in named.groups(delivered=True) for s in group.signatories]
    result = _export(invoke, COUNTS_SLUG, "--delivered")
    assert [row["name"] for row in _rows(result.stdout)] == expected


def test_the_csv_has_the_documented_columns_and_values(counts_world: CountsWorld, invoke):
    rows = _rows(_export(invoke, COUNTS_SLUG).stdout)
    assert list(rows[0]) == COLUMNS
    uhrp = next(row for row in rows if row["name"] == "Uyghur Human Rights Project")
    assert uhrp["country"] == "United States"
    assert uhrp["country_code"] == "US"
    assert uhrp["type"] == "NGO"
    assert (uhrp["signer_name"], uhrp["signer_title"]) == ("", "")  # see the test below
    assert len(uhrp["confirmed_on"]) == 10
    assert uhrp["listing"] == "public"


def test_the_public_export_names_only_the_signers_who_agreed_to_it(
    counts_world: CountsWorld, invoke
):
    public = _rows(_export(invoke, COUNTS_SLUG).stdout)
    signers = {r["name"]: (r["signer_name"], r["signer_title"]) for r in public}
    assert signers[CHINESE_NAME] == ("Cheuk Kwan", "Chair")  # C ticked the box
    assert signers["Uyghur Human Rights Project"] == ("", "")  # A did not
    assert signers["International Lawyers Project"] == ("", "")


def test_the_delivered_export_names_every_signer(counts_world: CountsWorld, invoke):
    delivered = _rows(_export(invoke, COUNTS_SLUG, "--delivered").stdout)
    signers = {r["name"]: (r["signer_name"], r["signer_title"]) for r in delivered}
    assert signers["Uyghur Human Rights Project"] == ("Omer Kanat", "Executive Director")
    assert signers["Exiled Voices Collective"] == ("Dilnur R.", "Coordinator")
    assert signers[CHINESE_NAME] == ("Cheuk Kwan", "Chair")


def test_the_public_json_export_names_only_the_signers_who_agreed_to_it(
    counts_world: CountsWorld, invoke
):
    document = json.loads(_export(invoke, COUNTS_SLUG, "--format", "json").stdout)
    named = {row["signer_name"] for row in document["signatories"]}
    assert named == {"Cheuk Kwan", ""}


def test_declined_withdrawn_and_unanswered_are_not_exported(counts_world: CountsWorld, invoke):
    names = [row["name"] for row in _rows(_export(invoke, COUNTS_SLUG, "--delivered").stdout)]
    assert "Uyghur Human Rights Project" in names  # positive control: confirmed ones are listed
    for name in ("Tibet Justice Centre", "Hong Kong Watch", "Safeguard Defenders"):
        assert name not in names


def test_formulas_in_names_and_titles_are_neutralised(
    counts_world: CountsWorld, invoke, database: Database
):
    with database.writing() as session:
        campaign = session.query(Campaign).filter_by(slug=COUNTS_SLUG).one()
        organisation = add_org(session, '=HYPERLINK("http://evil","click")', "FR", "+NGO")
        act(
            session,
            campaign,
            organisation.id,
            "confirm",
            counts_world.definition.text_hash,
            fields={"signer_name": "@admin", "signer_title": "-Director", "listing": "public"},
        )
    rows = _rows(_export(invoke, COUNTS_SLUG, "--delivered").stdout)
    trap = next(row for row in rows if "HYPERLINK" in row["name"])
    assert trap["name"] == '\'=HYPERLINK("http://evil","click")'
    assert (trap["type"], trap["signer_name"], trap["signer_title"]) == (
        '="+NGO"',
        "'@admin",
        '="-Director"',
    )


def test_the_json_keeps_names_exactly_as_printed(
    counts_world: CountsWorld, invoke, database: Database
):
    with database.writing() as session:
        campaign = session.query(Campaign).filter_by(slug=COUNTS_SLUG).one()
        organisation = add_org(session, "=Equals Foundation", "FR")
        act(session, campaign, organisation.id, "confirm", counts_world.definition.text_hash)
    document = json.loads(_export(invoke, COUNTS_SLUG, "--format", "json").stdout)
    names = [s["name"] for s in document["signatories"]]
    assert "=Equals Foundation" in names


def test_the_json_has_the_documented_shape(counts_world: CountsWorld, invoke):
    document = json.loads(_export(invoke, COUNTS_SLUG, "--format", "json").stdout)
    assert set(document) == {
        "format",
        "campaign",
        "list",
        "signatory_count",
        "named_count",
        "left_out_governments_only",
        "signatories",
    }
    assert document["format"] == export.JSON_FORMAT
    assert document["campaign"] == {
        "slug": COUNTS_SLUG,
        "title": "Coordinated sanctions for abuses against Uyghurs",
    }
    assert all(list(entry) == COLUMNS for entry in document["signatories"])


def test_the_export_writes_a_file_when_asked(counts_world: CountsWorld, invoke, home: Path):
    target = home / "signatories.csv"
    result = _export(invoke, COUNTS_SLUG, "--output", str(target))
    assert result.stdout == ""
    assert [row["name"] for row in _rows(target.read_text("utf-8"))] == PUBLIC_NAMES


def test_the_csv_starts_with_a_byte_order_mark_so_excel_reads_utf8(
    counts_world: CountsWorld, invoke, home: Path
):
    target = home / "signatories.csv"
    assert invoke("export", COUNTS_SLUG, "--output", str(target)).exit_code == 0
    assert target.read_bytes().startswith(b"\xef\xbb\xbfposition,name,")
    assert invoke("export", COUNTS_SLUG).stdout.startswith("\ufeffposition,name,")
    assert not invoke("export", COUNTS_SLUG, "--format", "json").stdout.startswith("\ufeff")


def test_a_name_starting_with_plus_is_written_as_text_without_a_visible_quote(
    counts_world: CountsWorld, invoke, database: Database
):
    with database.writing() as session:
        campaign = session.query(Campaign).filter_by(slug=COUNTS_SLUG).one()
        organisation = add_org(session, "+972 Magazine", "IL")
        act(session, campaign, organisation.id, "confirm", counts_world.definition.text_hash)
    text = invoke("export", COUNTS_SLUG).stdout
    assert '"=""+972 Magazine"""' in text
    assert [row["country"] for row in _rows(text) if row["name"] == '="+972 Magazine"'] == [
        "Israel"
    ]
    assert "'+972" not in text


def test_an_unknown_campaign_is_refused_and_nothing_is_written(
    counts_world: CountsWorld, invoke, home: Path, database: Database
):
    before = world_state(database)
    target = home / "out.csv"
    result = invoke("export", "no-such-letter", "--output", str(target))
    assert result.exit_code == 1
    assert "There is no campaign folder" in result.output
    assert not target.exists()
    assert world_state(database) == before


def test_an_export_into_a_missing_folder_is_refused_and_nothing_is_written(
    counts_world: CountsWorld, invoke, home: Path, database: Database
):
    before = world_state(database)
    target = home / "press" / "signatories.csv"
    result = invoke("export", COUNTS_SLUG, "--output", str(target))
    assert result.exit_code == 1
    assert f"The folder {target.parent} does not exist" in result.output
    assert not target.parent.exists()
    assert world_state(database) == before


def test_stale_consent_is_refused_as_the_letter_refuses_it(
    counts_world: CountsWorld, invoke, home: Path, database: Database, settings: Settings
):
    body = home / "letters" / COUNTS_SLUG / "body.md"
    body.write_text("We, {{ signatory_count }} organisations, now ask something else.\n", "utf-8")
    before = world_state(database)
    target = home / "out.csv"
    result = invoke("export", COUNTS_SLUG, "--output", str(target))
    assert result.exit_code == 1
    assert "given to an earlier text" in result.output
    assert "--allow-stale" in result.output
    assert not target.exists()
    assert world_state(database) == before


def test_stale_consent_is_listed_when_allowed_and_said_so(
    counts_world: CountsWorld, invoke, home: Path
):
    body = home / "letters" / COUNTS_SLUG / "body.md"
    body.write_text("We, {{ signatory_count }} organisations, now ask something else.\n", "utf-8")
    result = _export(invoke, COUNTS_SLUG, "--allow-stale")
    assert [row["name"] for row in _rows(result.stdout)] == PUBLIC_NAMES
    assert "4 confirmation(s) given to an earlier text are included" in result.stderr


def test_export_help_shows_an_example(invoke):
    result = _export(invoke, "--help")
    assert "coalitionletter export ilp-magnitsky-2020 > signatories.csv" in result.output


def test_an_export_onto_an_existing_file_is_refused_without_force(
    counts_world: CountsWorld, invoke, home: Path
):
    target = home / "signatories.csv"
    target.write_text("kept\n", "utf-8")
    result = invoke("export", COUNTS_SLUG, "--output", str(target))
    assert result.exit_code == 1, result.output
    assert "already exists. Pass --force to replace it" in result.output
    assert target.read_text("utf-8") == "kept\n"


def test_an_export_with_force_replaces_an_existing_file(
    counts_world: CountsWorld, invoke, home: Path
):
    target = home / "signatories.csv"
    target.write_text("kept\n", "utf-8")
    result = invoke("export", COUNTS_SLUG, "--output", str(target), "--force")
    assert result.exit_code == 0, result.output
    assert "International Lawyers Project" in target.read_text("utf-8-sig")


def _delivered_entries(database: Database) -> list[tuple[str, str, str]]:
    with database.reading() as session:
        rows = session.execute(
            select(Event.kind, Event.actor, Event.detail)
            .where(Event.kind == export.DELIVERED_TAKEN)
            .order_by(Event.id)
        ).all()
    return [tuple(row) for row in rows]


def test_a_delivered_export_is_recorded_in_the_trail_with_who_took_it(
    counts_world: CountsWorld, invoke, database: Database
):
    result = _export(invoke, COUNTS_SLUG, "--delivered", "--format", "json")
    assert "recorded in the campaign's trail" in result.stderr
    ((kind, actor, detail),) = _delivered_entries(database)
    assert (kind, actor) == ("delivered_exported", "staff: staff")
    assert json.loads(detail) == {"list": "delivered", "format": "json"}
    assert invoke("audit", COUNTS_SLUG, "--verify").exit_code == 0


def test_a_public_export_is_not_recorded_in_the_trail(
    counts_world: CountsWorld, invoke, database: Database
):
    before = world_state(database)
    _export(invoke, COUNTS_SLUG)
    assert _delivered_entries(database) == []
    assert world_state(database) == before
    _export(invoke, COUNTS_SLUG, "--delivered")  # positive control: the same world records it
    assert len(_delivered_entries(database)) == 1
