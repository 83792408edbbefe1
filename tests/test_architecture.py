"""The house plan as tests: rooms, doors that open one way, one address for each name."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "coalitionletter"
ROOMS = {
    "build",
    "campaigns",
    "cli",
    "mail",
    "registry",
    "reports",
    "signon",
    "staff",
    "web",
    "workspace",
}
SHARED = {
    "__init__",
    "__main__",
    "bulk_sql",
    "catalogs",
    "dates",
    "db",
    "errors",
    "events",
    "faults",
    "models",
    "names",
    "prepared",
    "private_files",
    "render",
    "settings",
    "spreadsheet_cells",
}
CORE_ROOMS = ROOMS - {"cli", "web"}
FACES = ("coalitionletter.cli", "coalitionletter.web", "click", "flask", "werkzeug")


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _module_file(dotted: str) -> Path | None:
    base = PACKAGE.parent.joinpath(*dotted.split("."))
    for candidate in (base / "__init__.py", base.with_suffix(".py")):
        if candidate.is_file():
            return candidate
    return None


def _source_files(root: Path = PACKAGE) -> list[Path]:
    return sorted(p for p in root.rglob("*.py") if "migrations" not in p.parts)


def _imported_modules(path: Path) -> set[str]:
    """Every module a file imports, at any depth (lazy imports inside functions too)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def _imported_into(dotted: str) -> dict[str, str]:
    """Names a module binds by importing them from another coalitionletter module."""
    path = _module_file(dotted)
    if path is None:
        return {}
    bound: dict[str, str] = {}
    for node in ast.parse(path.read_text("utf-8")).body:
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("coalitionletter"):
            for alias in node.names:
                if _module_file(f"{node.module}.{alias.name}") is None:
                    bound[alias.asname or alias.name] = str(node.module)
    return bound


def re_exports_used(path: Path) -> list[str]:
    """Places in a file that reach a name through a module that only imported it."""
    tree = ast.parse(path.read_text("utf-8"))
    module_aliases: dict[str, str] = {}
    problems: list[str] = []
    for node in ast.walk(tree):
        if not (
            isinstance(node, ast.ImportFrom) and (node.module or "").startswith("coalitionletter")
        ):
            continue
        for alias in node.names:
            if _module_file(f"{node.module}.{alias.name}"):
                module_aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
            elif alias.name in _imported_into(str(node.module)):
                problems.append(
                    f"{path.name}:{node.lineno} imports {alias.name} from {node.module}"
                )
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            module = module_aliases.get(node.value.id)
            if module and node.attr in _imported_into(module):
                problems.append(f"{path.name}:{node.lineno} uses {node.value.id}.{node.attr}")
    return problems


def test_the_top_level_holds_only_rooms_and_shared_modules() -> None:
    entries = {p.stem for p in PACKAGE.glob("*.py")} | {
        p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()
    }
    assert "registry" in entries and "db" in entries  # positive control: the scan sees both kinds
    assert entries - ROOMS - SHARED - {"migrations"} == set()


@pytest.mark.parametrize("room", sorted(ROOMS - {"cli"}))
def test_a_room_init_defines_and_imports_nothing(room: str) -> None:
    tree = ast.parse((PACKAGE / room / "__init__.py").read_text("utf-8"))
    assert [type(node).__name__ for node in tree.body] == ["Expr"], f"{room}/__init__.py"


def test_no_module_reaches_a_name_through_a_re_export() -> None:
    tests_dir = PACKAGE.parents[1] / "tests"
    problems = [p for f in [*_source_files(), *tests_dir.glob("*.py")] for p in re_exports_used(f)]
    assert problems == []


def test_the_re_export_check_catches_one(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    # catalogue imports CampaignDefinition from campaigns.definition, so both uses are re-exports
    sample.write_text(
        "from coalitionletter.campaigns.catalogue import CampaignDefinition\n"
        "from coalitionletter.campaigns import catalogue\n"
        "catalogue.CampaignDefinition\n"
    )
    assert len(re_exports_used(sample)) == 2


@pytest.mark.parametrize("room", sorted(CORE_ROOMS))
def test_the_core_never_imports_a_face(room: str) -> None:
    offending = {
        f"{path.relative_to(PACKAGE)} imports {name}"
        for path in _source_files(PACKAGE / room)
        for name in _imported_modules(path)
        if name.startswith(FACES)
    }
    assert offending == set()


def test_the_face_check_sees_imports_inside_functions(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("def f():\n    import flask\n    from coalitionletter.cli import main\n")
    assert {"flask", "coalitionletter.cli"} <= _imported_modules(sample)


@pytest.mark.parametrize("shared", sorted(SHARED - {"__init__", "__main__"}))
def test_shared_modules_import_no_room(shared: str) -> None:
    rooms = tuple(f"coalitionletter.{room}" for room in ROOMS)
    imported = _imported_modules(PACKAGE / f"{shared}.py")
    assert {name for name in imported if name.startswith(rooms)} == set()


def error_classes_outside_errors_py(root: Path = PACKAGE) -> list[str]:
    """Classes named *Error defined anywhere but errors.py: a domain error has one home."""
    found = []
    for path in _source_files(root):
        if path.name == "errors.py":
            continue
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.ClassDef) and node.name.endswith("Error"):
                found.append(f"{path.relative_to(root)}: {node.name}")
    return found


def test_every_domain_error_is_defined_in_errors_py() -> None:
    assert error_classes_outside_errors_py() == []


def test_the_error_check_finds_a_class_outside_errors_py(tmp_path: Path) -> None:
    (tmp_path / "errors.py").write_text("class KeptError(Exception):\n    pass\n")
    (tmp_path / "room.py").write_text("class StrayError(Exception):\n    pass\n")
    assert error_classes_outside_errors_py(tmp_path) == ["room.py: StrayError"]


def test_one_formula_guard_constant() -> None:
    defining = [
        f"{path.relative_to(PACKAGE)}"
        for path in _source_files()
        for node in ast.parse(path.read_text("utf-8")).body
        if isinstance(node, ast.Assign)
        and any(isinstance(t, ast.Name) and "FORMULA" in t.id for t in node.targets)
    ]
    assert defining == ["spreadsheet_cells.py"]
