"""build and confirmations of an earlier text: refused as a list, or left out on request."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from bs4 import BeautifulSoup

from fixtures_letters import LEAD_NAME

FOUNDING = "ilp-magnitsky-2020"
OLD = "0" * 64


def _out(home: Path) -> Path:
    return home / "letters" / FOUNDING / "out"


def _listed(path: Path) -> list[str]:
    page = BeautifulSoup(path.read_text("utf-8"), "lxml")
    return [li.get_text() for li in page.select(".signatories ul.names li")]


def _count_in_body(path: Path) -> str:
    page = BeautifulSoup(path.read_text("utf-8"), "lxml")
    return page.select_one('.body span[data-placeholder="signatory_count"]').get_text()


def test_the_stale_refusal_lists_one_organisation_per_line_with_the_count(
    invoke, founding, add_signatories, founding_home: Path
) -> None:
    add_signatories(founding, [LEAD_NAME])
    add_signatories(founding, ["Zulu Old Text", "Alpha Old Text"], text_hash=OLD)
    result = invoke("build", "--format", "html", "-q")
    assert result.exit_code != 0
    lines = result.output.splitlines()
    assert any(
        line.startswith("Error: 2 confirmations were given to an earlier text") for line in lines
    )
    assert "  - Alpha Old Text" in lines
    assert "  - Zulu Old Text" in lines
    assert lines.index("  - Alpha Old Text") + 1 == lines.index("  - Zulu Old Text")
    assert "--leave-out-stale" in result.output
    assert not _out(founding_home).exists()


def test_leave_out_stale_prints_only_those_who_agreed_to_this_text_and_names_the_others(
    invoke, founding, add_signatories, founding_home: Path
) -> None:
    add_signatories(founding, [LEAD_NAME, "Current Rights"])
    add_signatories(founding, ["Old Text Org"], text_hash=OLD)
    result = invoke("build", "--format", "html", "-q", "--leave-out-stale")
    assert result.exit_code == 0, result.output
    assert "Left out 1 organisation that confirmed an earlier text" in result.output
    assert "  - Old Text Org" in result.output.splitlines()
    assert "Built" in result.output and "2 signatories" in result.output
    out = _out(founding_home)
    names = _listed(out / "uk.html")
    assert "Current Rights" in names and LEAD_NAME in names
    assert "Old Text Org" not in names
    assert _count_in_body(out / "uk.html") == "2"
    with (out / "signatories.csv").open(encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["name"] for row in rows if row["name"] == "Old Text Org"] == []
    assert len(rows) == 2
    listing = json.loads((out / "signatories.json").read_text("utf-8"))
    assert listing["count"] == 2
    assert "Old Text Org" not in json.dumps(listing, ensure_ascii=False)


def test_leave_out_stale_with_nothing_stale_builds_as_usual(
    invoke, founding, add_signatories, founding_home: Path
) -> None:
    add_signatories(founding, [LEAD_NAME, "Current Rights"])
    result = invoke("build", "--format", "html", "-q", "--leave-out-stale")
    assert result.exit_code == 0, result.output
    assert "Left out" not in result.output
    assert sorted(_listed(_out(founding_home) / "uk.html")) == sorted([LEAD_NAME, "Current Rights"])


def test_allow_stale_and_leave_out_stale_together_are_refused_and_write_nothing(
    invoke, founding, add_signatories, founding_home: Path
) -> None:
    add_signatories(founding, [LEAD_NAME])
    add_signatories(founding, ["Old Text Org"], text_hash=OLD)
    result = invoke("build", "--format", "html", "-q", "--leave-out-stale", "--allow-stale")
    assert result.exit_code != 0
    assert "choose one" in result.output
    assert not _out(founding_home).exists()
