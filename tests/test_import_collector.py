"""An import pauses Python's cyclic garbage collector while its rows are in memory, and
gives it back as it found it, without undoing anyone else's gc.freeze()."""

from __future__ import annotations

import gc
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from coalitionletter.registry import fields as registry_fields
from coalitionletter.registry import importing as registry_import

HEADER = "Organisation,Country\n"


@pytest.fixture
def collector_restored() -> Iterator[None]:
    """Whatever a test does to the collector is undone after it."""
    enabled = gc.isenabled()
    yield
    gc.unfreeze()
    if enabled:
        gc.enable()
    else:
        gc.disable()


def _file(tmp_path: Path, lines: int = 1) -> Path:
    path = tmp_path / "orgs.csv"
    rows = "".join(f"Kestrel Rights Watch {n},GB\n" for n in range(lines))
    path.write_text(HEADER + rows, encoding="utf-8")
    return path


@pytest.mark.usefixtures("collector_restored")
def test_reading_a_file_pauses_the_collector_and_turns_it_back_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[bool] = []
    original = registry_fields.clean_fields

    def spy(raw: Mapping[str, str | None]) -> tuple[dict[str, str | None], list[Any]]:
        seen.append(gc.isenabled())
        return original(raw)

    gc.enable()
    monkeypatch.setattr(registry_fields, "clean_fields", spy)
    prepared = registry_import.prepare(_file(tmp_path))
    assert seen == [False]
    assert gc.isenabled()
    assert prepared.problems == [] and len(prepared.groups) == 1


@pytest.mark.usefixtures("collector_restored")
def test_a_collector_that_was_off_stays_off(tmp_path: Path) -> None:
    gc.disable()
    registry_import.prepare(_file(tmp_path))
    assert not gc.isenabled()


@pytest.mark.usefixtures("collector_restored")
def test_objects_someone_else_froze_stay_frozen(tmp_path: Path) -> None:
    gc.enable()
    gc.freeze()
    frozen = gc.get_freeze_count()
    assert frozen > 0  # positive control: there is something frozen to keep
    registry_import.prepare(_file(tmp_path))
    assert gc.get_freeze_count() == frozen
    assert gc.isenabled()


@pytest.mark.usefixtures("collector_restored")
def test_what_was_made_while_paused_goes_to_the_oldest_generation_unwalked(
    tmp_path: Path,
) -> None:
    gc.enable()
    gc.collect()
    prepared = registry_import.prepare(_file(tmp_path, lines=2000))
    oldest = {id(item) for item in gc.get_objects(generation=2)}
    young = {id(item) for generation in (0, 1) for item in gc.get_objects(generation)}
    assert id(prepared.groups) in oldest
    assert id(prepared.groups[-1]) in oldest
    assert id(prepared.groups) not in young  # positive control of the lookup's sense
    assert gc.isenabled() and len(prepared.groups) == 2000
