"""The `org` commands, run as staff run them, on a temporary database."""

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path

from click.testing import Result
from sqlalchemy import select

from coalitionletter import events
from coalitionletter.db import Database
from coalitionletter.models import Event
from fixtures_registry import snapshot

Invoke = Callable[..., Result]


def _ok(result: Result) -> str:
    assert result.exit_code == 0, result.output
    return result.output


def _refused(result: Result, *fragments: str) -> str:
    assert result.exit_code == 1, result.output
    for fragment in fragments:
        assert fragment in result.output
    return result.output


def test_org_add_then_list_shows_the_name_and_country(database: Database, invoke: Invoke) -> None:
    added = _ok(invoke("org", "add", "The Kestrel Foundation", "--country", "UK", "--type", "NGO"))
    assert added == "Added #1 The Kestrel Foundation (slug the-kestrel-foundation).\n"
    listed = _ok(invoke("org", "list"))
    assert "The Kestrel Foundation" in listed
    assert "United Kingdom" in listed


def test_org_add_of_a_duplicate_names_the_existing_one_and_changes_nothing(
    database: Database, invoke: Invoke
) -> None:
    _ok(invoke("org", "add", "PEN America", "--email", "info@pen.example"))
    before = snapshot(database)
    _refused(
        invoke("org", "add", "Another Name", "--email", "INFO@pen.example"),
        "already in the registry as #1 PEN America (slug pen-america)",
        "the same email address info@pen.example",
    )
    assert snapshot(database) == before


def test_org_add_of_a_name_with_a_bidi_override_says_which_character_where(
    database: Database, invoke: Invoke
) -> None:
    before = snapshot(database)
    _refused(
        invoke("org", "add", "PEN \u202eAmerica"),
        "U+202E RIGHT-TO-LEFT OVERRIDE at position 5",
    )
    assert snapshot(database) == before


def test_org_add_of_a_known_name_with_an_invisible_mark_is_refused_and_changes_nothing(
    database: Database, invoke: Invoke
) -> None:
    _ok(invoke("org", "add", "Human Rights First"))
    before = snapshot(database)
    _refused(
        invoke("org", "add", "Human Rights First\u034f"),
        "U+034F COMBINING GRAPHEME JOINER at position 19",
        "look the same",
    )
    assert snapshot(database) == before


def test_org_edit_to_a_name_with_a_hangul_filler_is_refused_and_changes_nothing(
    database: Database, invoke: Invoke
) -> None:
    _ok(invoke("org", "add", "PEN America"))
    before = snapshot(database)
    _refused(invoke("org", "edit", "1", "--name", "PEN\u3164America"), "U+3164 HANGUL FILLER")
    assert snapshot(database) == before
    # Positive control: the same edit without the filler goes through.
    _ok(invoke("org", "edit", "1", "--name", "PEN America Center"))


def test_org_list_json_is_a_list_of_objects_with_names(database: Database, invoke: Invoke) -> None:
    _ok(invoke("org", "add", "ئاتلانتىس ئۇيغۇر ئاياللار بىرلىكى", "--country", "NL"))
    items = json.loads(_ok(invoke("org", "list", "--format", "json")))
    assert [item["name"] for item in items] == ["ئاتلانتىس ئۇيغۇر ئاياللار بىرلىكى"]
    assert items[0]["country_name"] == "Netherlands"


def test_org_list_csv_has_the_columns_import_reads(database: Database, invoke: Invoke) -> None:
    _ok(invoke("org", "add", "PEN America", "--country", "US"))
    text = _ok(invoke("org", "list", "--format", "csv")).removeprefix("\ufeff")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:4] == ["Name", "Sort name", "Slug", "Country"]
    assert rows[1][:4] == ["PEN America", "PEN America", "pen-america", "US"]


def test_org_list_csv_starts_with_a_byte_order_mark_and_keeps_a_leading_plus_readable(
    database: Database, invoke: Invoke
) -> None:
    _ok(invoke("org", "add", "+972 Magazine", "--country", "IL"))
    text = _ok(invoke("org", "list", "--format", "csv"))
    assert text.startswith("\ufeffName,")
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    assert rows[1][0] == '="+972 Magazine"'
    assert _ok(invoke("org", "export", "-")).startswith("\ufeffName,")
    assert _ok(invoke("org", "export", "-", "--format", "json")).startswith("[")


def test_org_list_filters_by_country(database: Database, invoke: Invoke) -> None:
    _ok(invoke("org", "add", "PEN America", "--country", "US"))
    _ok(invoke("org", "add", "Tamarisk Forum", "--country", "GB"))
    listed = _ok(invoke("org", "list", "--country", "United States"))
    assert "PEN America" in listed
    assert "Tamarisk" not in listed


def test_org_list_with_an_unknown_country_filter_is_refused(
    database: Database, invoke: Invoke
) -> None:
    _refused(invoke("org", "list", "--country", "Narnia"), "not an ISO 3166-1 country")


def test_org_show_prints_contacts_and_campaign_answers(database: Database, invoke: Invoke) -> None:
    _ok(invoke("org", "add", "PEN America", "--contact", "A. Person", "--email", "a@pen.example"))
    shown = _ok(invoke("org", "show", "pen-america"))
    assert shown.startswith("#1 PEN America\n")
    assert "Contact: A. Person, a@pen.example" in shown


def test_org_show_of_an_unknown_reference_says_how_to_find_it(
    database: Database, invoke: Invoke
) -> None:
    _refused(invoke("org", "show", "nobody"), "No organisation has the id, slug or name 'nobody'")


def test_org_edit_changes_a_field(database: Database, invoke: Invoke) -> None:
    _ok(invoke("org", "add", "PEN America"))
    assert _ok(invoke("org", "edit", "1", "--country", "US")) == (
        "Changed country of #1 PEN America (slug pen-america).\n"
    )
    assert "United States" in _ok(invoke("org", "show", "1"))


def test_org_edit_without_a_field_is_a_usage_error(database: Database, invoke: Invoke) -> None:
    _ok(invoke("org", "add", "PEN America"))
    result = invoke("org", "edit", "1")
    assert result.exit_code == 2
    assert "Give at least one field to change" in result.output


def test_org_remove_asks_first_and_a_no_changes_nothing(database: Database, invoke: Invoke) -> None:
    _ok(invoke("org", "add", "PEN America"))
    before = snapshot(database)
    result = invoke("org", "remove", "pen-america", input="n\n")
    assert result.exit_code == 1
    assert "Remove #1 PEN America (slug pen-america)" in result.output
    assert snapshot(database) == before


def test_org_remove_with_yes_removes(database: Database, invoke: Invoke) -> None:
    _ok(invoke("org", "add", "PEN America"))
    assert "Removed #1 PEN America" in _ok(invoke("org", "remove", "pen-america", "--yes"))
    assert snapshot(database)["organisations"] == []


def test_org_remove_refuses_a_signatory_unless_forced(
    database: Database, invoke: Invoke, record_answer: Callable[..., None]
) -> None:
    _ok(invoke("org", "add", "PEN America"))
    record_answer(1, "confirm", "founding")
    before = snapshot(database)
    _refused(invoke("org", "remove", "1", "--yes"), "has signed founding", "--force")
    assert snapshot(database) == before
    _ok(invoke("org", "remove", "1", "--yes", "--force"))
    assert snapshot(database)["invitations"] == []


def test_org_merge_reports_what_moved(database: Database, invoke: Invoke) -> None:
    _ok(invoke("org", "add", "Human Rights First", "--email", "a@hrf.example"))
    _ok(invoke("org", "add", "HRF Duplicate", "--email", "b@hrf.example"))
    merged = _ok(invoke("org", "merge", "human-rights-first", "hrf-duplicate", "--yes"))
    assert "Merged #2 HRF Duplicate (slug hrf-duplicate) into #1 Human Rights First" in merged
    assert "Contacts moved: 1" in merged
    assert "HRF Duplicate" not in _ok(invoke("org", "list"))


def test_org_import_of_the_seventy_reports_each_line_and_the_totals(
    database: Database, invoke: Invoke, seventy_csv: Path
) -> None:
    output = _ok(invoke("org", "import", str(seventy_csv)))
    assert "line 2: add    Tamarisk Justice Forum (new organisation)" in output
    assert "line 3: add    Tamarisk Justice Forum (another contact for line 2)" in output
    assert "70 organisations were added, 0 updated, 0 skipped" in output
    assert "Ignored columns: Date added (column J)" in output


def test_org_import_quiet_prints_skipped_lines_and_the_totals_but_not_each_add(
    database: Database, invoke: Invoke, seventy_csv: Path
) -> None:
    _ok(invoke("org", "add", "Tamarisk Justice Forum"))
    output = _ok(invoke("org", "import", str(seventy_csv), "--quiet"))
    assert "line 2: skip" in output
    assert ": add " not in output
    assert "69 organisations were added, 0 updated, 1 skipped" in output


def test_org_import_dry_run_writes_nothing(
    database: Database, invoke: Invoke, seventy_csv: Path
) -> None:
    before = snapshot(database)
    output = _ok(invoke("org", "import", str(seventy_csv), "--dry-run"))
    assert "70 organisations would be added" in output
    assert "Dry run: nothing was written." in output
    assert snapshot(database) == before


def test_org_import_of_a_bad_file_lists_every_problem_and_imports_nothing(
    database: Database, invoke: Invoke, make_csv: Callable[..., Path]
) -> None:
    path = make_csv(
        ["Organisation", "Country", "E-mail"],
        ["Good Group", "GB", "good@example.org"],
        ["Bad Email Group", "GB", "not-an-address"],
        ["Bad Country Group", "Atlantis", ""],
    )
    before = snapshot(database)
    _refused(
        invoke("org", "import", str(path)),
        "2 problems found; nothing was imported:",
        f"{path}, line 3, column C (E-mail): Email 'not-an-address' is not a valid address",
        f"{path}, line 4, column B (Country): Country 'Atlantis' is not an ISO 3166-1 country",
    )
    assert snapshot(database) == before


def test_org_export_writes_csv_that_org_import_reads_back(
    database: Database, invoke: Invoke, seventy_csv: Path, tmp_path: Path
) -> None:
    _ok(invoke("org", "import", str(seventy_csv)))
    target = tmp_path / "registry.csv"
    assert _ok(invoke("org", "export", str(target))) == f"Wrote 73 rows to {target}.\n"
    assert target.read_bytes().startswith(b"\xef\xbb\xbf")
    again = _ok(invoke("org", "import", str(target)))
    assert "0 organisations were added, 0 updated, 70 skipped" in again


def test_org_export_to_standard_output_as_json(database: Database, invoke: Invoke) -> None:
    _ok(invoke("org", "add", "PEN America"))
    items = json.loads(_ok(invoke("org", "export", "-", "--format", "json")))
    assert items[0]["name"] == "PEN America"


def test_org_export_refuses_to_overwrite_a_file(
    database: Database, invoke: Invoke, tmp_path: Path
) -> None:
    target = tmp_path / "registry.csv"
    target.write_text("keep me")
    _refused(invoke("org", "export", str(target)), "already exists", "--force")
    assert target.read_text() == "keep me"


def test_org_commands_on_a_database_never_set_up_say_to_run_init(invoke: Invoke) -> None:
    _refused(invoke("org", "list"), "Run `coalitionletter init` first")


def test_org_show_json_includes_each_campaign_answer(
    database: Database, invoke: Invoke, record_answer: Callable[..., None]
) -> None:
    _ok(invoke("org", "add", "PEN America"))
    record_answer(1, "confirm", "founding")
    details = json.loads(_ok(invoke("org", "show", "PEN America", "--format", "json")))
    assert details["campaigns"] == [{"campaign": "founding", "state": "confirmed"}]


def test_org_list_all_includes_organisations_merged_away(
    database: Database, invoke: Invoke
) -> None:
    _ok(invoke("org", "add", "Human Rights First"))
    _ok(invoke("org", "add", "HRF Duplicate"))
    _ok(invoke("org", "merge", "1", "2", "--yes"))
    listed = _ok(invoke("org", "list", "--all"))
    assert "HRF Duplicate [merged into #1]" in listed
    assert "Human Rights First [merged" not in listed  # the one kept is not marked


def test_org_merge_without_a_terminal_says_to_pass_yes(database: Database, invoke: Invoke) -> None:
    _ok(invoke("org", "add", "Human Rights First"))
    _ok(invoke("org", "add", "HRF Duplicate"))
    before = snapshot(database)
    result = invoke("org", "merge", "1", "2")  # no input: as from a script or cron
    assert result.exit_code == 2, result.output
    assert "Pass --yes" in result.output
    assert snapshot(database) == before


def test_org_merge_asks_and_a_yes_typed_merges(database: Database, invoke: Invoke) -> None:
    _ok(invoke("org", "add", "Human Rights First"))
    _ok(invoke("org", "add", "HRF Duplicate"))
    assert "Merged #2" in _ok(invoke("org", "merge", "1", "2", input="y\n"))


def test_org_merge_answered_no_changes_nothing(database: Database, invoke: Invoke) -> None:
    _ok(invoke("org", "add", "Human Rights First"))
    _ok(invoke("org", "add", "HRF Duplicate"))
    before = snapshot(database)
    result = invoke("org", "merge", "1", "2", input="n\n")
    assert result.exit_code == 1 and "Aborted" in result.output
    assert snapshot(database) == before


def test_kosovo_is_a_country(database: Database, invoke: Invoke) -> None:
    _ok(invoke("org", "add", "Kosovo Rights Group", "--country", "Kosovo"))
    assert "Kosovo (XK)" in _ok(invoke("org", "show", "kosovo-rights-group"))


def test_org_import_of_a_file_not_in_utf8_lists_the_names_to_check_by_eye(
    database: Database, invoke: Invoke, tmp_path: Path
) -> None:
    # Saved as Mac Roman: Windows-1252 reads it without error but with the wrong letters.
    path = tmp_path / "mac.csv"
    path.write_bytes("Organisation\nSociété Exemple\nPlain Group\n".encode("mac_roman"))
    result = invoke("org", "import", str(path))
    assert result.exit_code == 0, result.output
    assert "mac.csv is not UTF-8, so it was read as Windows-1252" in result.stderr
    assert "save it from the spreadsheet as 'CSV UTF-8'" in result.stderr
    assert "line 2: SociŽtŽ Exemple" in result.stderr
    assert "Plain Group" not in result.stderr


def test_org_import_of_a_utf8_file_asks_for_no_check(
    database: Database, invoke: Invoke, tmp_path: Path
) -> None:
    path = tmp_path / "utf8.csv"
    path.write_text("Organisation\nSociété Exemple\n", encoding="utf-8")
    result = invoke("org", "import", str(path))
    assert result.exit_code == 0, result.output
    assert "Check these names" not in result.output


def test_registry_changes_name_the_staff_member_as_the_sign_on_commands_do(
    database: Database, invoke: Invoke
) -> None:
    env = {"COALITIONLETTER_STAFF_NAME": "Jane Coordinator"}
    _ok(invoke("org", "add", "Tamarisk Justice Forum", env=env))
    with database.reading() as session:
        actors = session.scalars(
            select(Event.actor).where(Event.chain == events.REGISTRY_CHAIN)
        ).all()
    assert actors == ["staff: Jane Coordinator"]
