"""CSV import takes what spreadsheets produce, all or nothing; export gives it back unchanged."""

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from coalitionletter.db import Database
from coalitionletter.errors import ImportFileError
from coalitionletter.models import Organisation
from coalitionletter.registry import importing as registry_import
from coalitionletter.registry import organisations as registry
from fixtures_registry import import_csv, seventy_rows, snapshot, write_csv

MakeCsv = Callable[..., Path]
HEADER = ["Organisation", "Country", "Email"]


def _refused(database: Database, path: Path, **options: bool) -> list[str]:
    before = snapshot(database)
    with pytest.raises(ImportFileError) as refused:
        import_csv(database, path, **options)
    assert snapshot(database) == before
    assert "nothing was imported" in str(refused.value)
    return refused.value.problems


def _organisations(database: Database) -> list[Organisation]:
    with database.reading() as session:
        found = registry.list_organisations(session)
        for organisation in found:
            organisation.contacts  # noqa: B018 - loaded while the session is open
        return found


def _names(database: Database) -> set[str]:
    return {organisation.name for organisation in _organisations(database)}


def test_a_seventy_organisation_spreadsheet_export_imports_cleanly(
    database: Database, seventy_csv: Path
) -> None:
    report = import_csv(database, seventy_csv)
    assert (report.added, report.updated, report.skipped) == (70, 0, 0)
    assert report.encoding == "UTF-8 with BOM"
    assert report.ignored_columns == ["Date added (column J)"]
    _, rows = seventy_rows()
    assert _names(database) == {row[0] for row in rows if row[0]}
    assert len(report.organisation_ids()) == 70


def test_names_in_every_script_come_through_the_import_unchanged(
    database: Database, seventy_csv: Path
) -> None:
    import_csv(database, seventy_csv)
    names = _names(database)
    assert "Lantern Harbour Friends of Hong Kong (燈籠港香港之友)" in names
    assert "ئاتلانتىس ئۇيغۇر ئاياللار بىرلىكى" in names
    assert "انجمن نمونه\u200cای حقوق بشر" in names
    assert "Women’s Rights Sandbox Network" in names


def test_an_organisation_on_several_lines_gets_one_contact_per_line(
    database: Database, seventy_csv: Path
) -> None:
    import_csv(database, seventy_csv)
    by_name = {o.name: o for o in _organisations(database)}
    contacts = by_name["Tamarisk Justice Forum"].contacts
    assert [c.name for c in contacts] == ["Ada Quill", "Ben Quill"]


def test_importing_the_same_file_again_skips_every_organisation_and_changes_nothing(
    database: Database, seventy_csv: Path
) -> None:
    first = import_csv(database, seventy_csv)
    before = snapshot(database)
    again = import_csv(database, seventy_csv)
    assert (again.added, again.updated, again.skipped) == (0, 0, 70)
    assert "already in the registry as #1 Tamarisk Justice Forum" in again.rows[0].reason
    assert again.organisation_ids() == first.organisation_ids()
    assert snapshot(database) == before


def test_excel_windows_1252_keeps_accents_and_curly_apostrophes(
    database: Database, tmp_path: Path
) -> None:
    header, rows = seventy_rows()
    latin = [row for row in rows if row[0] and _encodable(" ".join(row), "cp1252")]
    path = write_csv(tmp_path / "excel.csv", header, latin, encoding="cp1252")
    report = import_csv(database, path)
    assert report.encoding == "Windows-1252"
    assert "Fondation Lumière d’Exemple" in _names(database)
    assert "Örnek İnsan Hakları Derneği" not in _names(database)  # İ and ı are not in cp1252
    assert report.added == len({row[0] for row in latin})


def _encodable(text: str, encoding: str) -> bool:
    try:
        text.encode(encoding)
    except UnicodeEncodeError:
        return False
    return True


def test_semicolons_between_cells_are_recognised(database: Database, tmp_path: Path) -> None:
    header, rows = seventy_rows()
    path = write_csv(tmp_path / "semi.csv", header, rows, delimiter=";", encoding="utf-8-sig")
    report = import_csv(database, path)
    assert (report.delimiter, report.added) == (";", 70)


def test_utf16_tab_separated_unicode_text_is_read(database: Database, tmp_path: Path) -> None:
    header, rows = seventy_rows()
    path = write_csv(tmp_path / "unicode.txt", header, rows, delimiter="\t", encoding="utf-16")
    assert import_csv(database, path).added == 70


@pytest.mark.parametrize(
    "header",
    [
        ["ORGANIZATION", "country", "E-mail"],
        ["Name", "Country", "Email address"],
        ["org", "COUNTRY", "email"],
    ],
)
def test_headers_in_any_case_and_their_synonyms_are_understood(
    database: Database, make_csv: MakeCsv, header: list[str]
) -> None:
    import_csv(database, make_csv(header, ["PEN America", "United States", "pen@example.org"]))
    [organisation] = _organisations(database)
    assert (organisation.name, organisation.country) == ("PEN America", "US")
    assert organisation.contacts[0].email == "pen@example.org"


@pytest.mark.parametrize(
    ("row", "where", "reason"),
    [
        (["", "GB", "a@example.org"], "column A (Organisation)", "Name is empty"),
        (["x" * 301, "GB", ""], "column A (Organisation)", "at most 300 are allowed"),
        (["PEN America", "GB", "pen@@example"], "column C (Email)", "is not a valid address"),
        (["PEN America", "Narnia", ""], "column B (Country)", "not an ISO 3166-1 country"),
        (["PEN\u202e America", "", ""], "column A (Organisation)", "U+202E RIGHT-TO-LEFT"),
        (["PEN\u200b America", "", ""], "column A (Organisation)", "U+200B ZERO WIDTH SPACE"),
        (["PEN\u034f America", "", ""], "column A (Organisation)", "U+034F COMBINING GRAPHEME"),
        (["PEN\ufe0f America", "", ""], "column A (Organisation)", "U+FE0F VARIATION SELECTOR"),
        (["PEN\u3164America", "", ""], "column A (Organisation)", "U+3164 HANGUL FILLER"),
        (["\u0301\u0308", "", ""], "column A (Organisation)", "no letter or digit"),
    ],
)
def test_a_bad_row_is_refused_with_file_line_column_and_reason_and_nothing_imported(
    database: Database, make_csv: MakeCsv, row: list[str], where: str, reason: str
) -> None:
    path = make_csv(HEADER, ["Good Organisation", "GB", "good@example.org"], row)
    [problem] = _refused(database, path)
    assert problem.startswith(f"{path}, line 3, {where}: ")
    assert reason in problem


def test_every_problem_in_the_file_is_reported_at_once(
    database: Database, make_csv: MakeCsv
) -> None:
    path = make_csv(
        HEADER,
        ["One", "Narnia", ""],
        ["Two", "GB", "bad@"],
        ["", "GB", ""],
    )
    problems = _refused(database, path)
    assert [problem.split(":")[0] for problem in problems] == [
        f"{path}, line 2, column B (Country)",
        f"{path}, line 3, column C (Email)",
        f"{path}, line 4, column A (Organisation)",
    ]


def test_a_file_without_a_name_column_is_refused(database: Database, make_csv: MakeCsv) -> None:
    [problem] = _refused(database, make_csv(["Country", "Email"], ["GB", "a@example.org"]))
    assert "no column gives the organisation's name" in problem


def test_two_columns_for_one_field_are_refused_as_ambiguous(
    database: Database, make_csv: MakeCsv
) -> None:
    path = make_csv(["Organisation", "Name"], ["PEN America", "A. Person"])
    [problem] = _refused(database, path)
    assert "column A (Organisation) and column B (Name) both give the Name" in problem


def test_a_line_with_more_cells_than_the_header_is_refused(
    database: Database, make_csv: MakeCsv
) -> None:
    [problem] = _refused(database, make_csv(["Organisation"], ["PEN, America", "extra"]))
    assert "line 2, column B: the line has more cells than the header" in problem


def test_one_organisation_given_two_countries_on_two_lines_is_refused(
    database: Database, make_csv: MakeCsv
) -> None:
    path = make_csv(HEADER, ["PEN America", "US", ""], ["PEN America", "GB", "b@example.org"])
    [problem] = _refused(database, path)
    assert "line 3, column B (Country): 'GB' differs from line 2's 'US'" in problem


def test_two_lines_giving_one_site_with_and_without_www_agree(
    database: Database, make_csv: MakeCsv
) -> None:
    header = ["Organisation", "Website", "Email"]
    path = make_csv(
        header,
        ["PEN America", "https://www.pen.example", "a@pen.example"],
        ["PEN America", "pen.example", "b@pen.example"],
    )
    report = import_csv(database, path)
    assert report.added == 1


def test_two_lines_giving_two_sites_disagree(database: Database, make_csv: MakeCsv) -> None:
    header = ["Organisation", "Website", "Email"]
    path = make_csv(
        header,
        ["PEN America", "pen.example", "a@pen.example"],
        ["PEN America", "other.example", "b@pen.example"],
    )
    [problem] = _refused(database, path)
    assert "line 3, column B (Website)" in problem and "differs from line 2's" in problem


def test_a_file_in_neither_utf8_nor_windows_1252_is_refused(
    database: Database, tmp_path: Path
) -> None:
    path = tmp_path / "odd.csv"
    path.write_bytes(b"Organisation\n\x81\x8d\n")
    [problem] = _refused(database, path)
    assert "not UTF-8 or Windows-1252" in problem
    assert "CSV UTF-8" in problem


def test_a_dry_run_reports_every_action_and_writes_nothing(
    database: Database, seventy_csv: Path
) -> None:
    before = snapshot(database)
    report = import_csv(database, seventy_csv, dry_run=True)
    assert report.added == 70
    assert {row.action for row in report.rows} == {"add"}
    assert report.organisation_ids() == []
    assert snapshot(database) == before


def test_a_dry_run_still_reports_every_problem(database: Database, make_csv: MakeCsv) -> None:
    path = make_csv(HEADER, ["One", "Narnia", ""])
    assert len(_refused(database, path, dry_run=True)) == 1


def test_an_existing_organisation_is_skipped_naming_it_without_update(
    database: Database, new_org: Callable[..., int], make_csv: MakeCsv
) -> None:
    new_org("PEN America", country="US")
    report = import_csv(database, make_csv(HEADER, ["pen america", "GB", ""]))
    [row] = report.rows
    assert (row.action, row.organisation_id) == ("skip", 1)
    assert "#1 PEN America" in row.reason and "--update" in row.reason
    assert _organisations(database)[0].country == "US"


def test_update_changes_given_fields_and_adds_new_contacts_but_empty_cells_clear_nothing(
    database: Database, new_org: Callable[..., int], make_csv: MakeCsv
) -> None:
    new_org("PEN America", country="US", notes="keep me", email="old@pen.example")
    header = ["Organisation", "Country", "Notes", "Email"]
    report = import_csv(
        database, make_csv(header, ["PEN America", "GB", "", "new@pen.example"]), update=True
    )
    assert (report.added, report.updated) == (0, 1)
    [organisation] = _organisations(database)
    assert (organisation.country, organisation.notes) == ("GB", "keep me")
    assert [c.email for c in organisation.contacts] == ["old@pen.example", "new@pen.example"]


def test_update_refuses_a_line_that_matches_two_organisations(
    database: Database, new_org: Callable[..., int], make_csv: MakeCsv
) -> None:
    new_org("PEN America")
    new_org("Other Group", email="shared@example.org")
    path = make_csv(HEADER, ["PEN America", "", "shared@example.org"])
    [problem] = _refused(database, path, update=True)
    assert "matches more than one organisation" in problem
    assert "#1 PEN America" in problem and "#2 Other Group" in problem


def test_organisation_ids_follow_the_file_order_including_ones_already_there(
    database: Database, new_org: Callable[..., int], make_csv: MakeCsv
) -> None:
    existing = new_org("Second Group")
    report = import_csv(
        database, make_csv(HEADER, ["First Group", "", ""], ["Second Group", "", ""])
    )
    assert report.organisation_ids() == [existing + 1, existing]


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ('=HYPERLINK("http://evil")', "'=HYPERLINK"),
        ("+1 Group", '="+1 Group"'),
        ("-Minus Group", '="-Minus Group"'),
        ("@Handle Group", "'@Handle Group"),
        ("'=Already Quoted", "''=Already Quoted"),
        ("Plain Group", "Plain Group"),
    ],
)
def test_export_neutralises_cells_a_spreadsheet_would_run_as_formulas(
    database: Database, new_org: Callable[..., int], value: str, cell: str
) -> None:
    new_org(value)
    stream = io.StringIO()
    with database.reading() as session:
        registry_import.write_csv(registry.list_organisations(session), stream)
    first_cell = list(csv.reader(io.StringIO(stream.getvalue())))[1][0]
    assert first_cell.startswith(cell)


def test_json_export_is_a_list_of_objects_with_names_and_contacts(
    database: Database, new_org: Callable[..., int]
) -> None:
    new_org("PEN America", country="US", email="pen@example.org")
    stream = io.StringIO()
    with database.reading() as session:
        registry_import.write_json(registry.list_organisations(session), stream)
    [item] = json.loads(stream.getvalue())
    assert item["name"] == "PEN America"
    assert item["country_name"] == "United States"
    assert item["contacts"][0]["email"] == "pen@example.org"


def test_importing_the_export_of_the_seventy_gives_back_the_same_registry(
    database: Database, seventy_csv: Path, tmp_path: Path, settings_copy: Database
) -> None:
    import_csv(database, seventy_csv)
    exported = tmp_path / "export.csv"
    with database.reading() as session, exported.open("w", encoding="utf-8-sig", newline="") as f:
        registry_import.write_csv(registry.list_organisations(session), f)
    import_csv(settings_copy, exported)
    assert _comparable(settings_copy) == _comparable(database)


def _comparable(database: Database) -> list[dict[str, object]]:
    with database.reading() as session:
        return [
            {k: v for k, v in registry.describe(o).items() if k not in TRANSIENT}
            for o in registry.list_organisations(session)
        ]


TRANSIENT = {"id", "created_at", "updated_at", "merged_into"}


@pytest.fixture
def settings_copy(tmp_path: Path) -> Database:
    """A second, empty database to import an export into."""
    from coalitionletter.db import upgrade

    second = Database(f"sqlite:///{tmp_path / 'second.db'}")
    upgrade(second)
    yield second
    second.dispose()


def test_a_dry_run_with_update_reports_adds_updates_and_skips_together(
    database: Database, new_org: Callable[..., int], make_csv: MakeCsv
) -> None:
    new_org("PEN America", country="US")
    new_org("Tamarisk Forum", country="GB")
    path = make_csv(
        HEADER,
        ["PEN America", "CA", ""],
        ["Tamarisk Forum", "GB", ""],
        ["New Group", "", ""],
    )
    before = snapshot(database)
    report = import_csv(database, path, update=True, dry_run=True)
    assert [(row.line, row.action) for row in report.rows] == [
        (2, "update"),
        (3, "skip"),
        (4, "add"),
    ]
    assert report.rows[0].reason == "updated country: US → CA"
    assert snapshot(database) == before


def test_names_from_a_file_read_as_windows_1252_are_listed_for_checking(
    database: Database, tmp_path: Path
) -> None:
    path = tmp_path / "excel.csv"
    path.write_bytes("Organisation\nFondation Lumière\nPlain Group\n".encode("cp1252"))
    report = import_csv(database, path)
    assert [(row.line, row.name) for row in report.names_to_check()] == [(2, "Fondation Lumière")]


def test_names_from_a_utf8_file_need_no_check(database: Database, tmp_path: Path) -> None:
    path = tmp_path / "utf8.csv"
    path.write_text("Organisation\nFondation Lumière\n", encoding="utf-8")
    assert import_csv(database, path).names_to_check() == []


def test_a_known_name_with_an_invisible_mark_added_is_refused_not_imported_as_new(
    database: Database, make_csv: MakeCsv
) -> None:
    import_csv(database, make_csv(HEADER, ["Human Rights First", "US", ""]))
    path = make_csv(HEADER, ["Human Rights First\u034f", "US", ""])
    [problem] = _refused(database, path)
    assert "U+034F COMBINING GRAPHEME JOINER at position 19" in problem
    assert [o.name for o in _organisations(database)] == ["Human Rights First"]
