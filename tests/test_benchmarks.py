"""The benchmarks still run: every case measures something and the report names them all."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
CASES = [f"B{number}" for number in range(1, 10)]
RATIO_LINE = re.compile(r"^(B\d) .+: ratio (\d+\.\d+) ", re.MULTILINE)


@pytest.mark.slow
def test_quick_benchmarks_print_a_ratio_for_every_case_and_report_all_nine(
    tmp_path: Path,
) -> None:
    report = tmp_path / "BENCHMARKS.md"
    environment = {k: v for k, v in os.environ.items() if not k.startswith("COALITIONLETTER_")}
    completed = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--report", str(report)],
        cwd=REPO,
        env=environment,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    output = completed.stdout + completed.stderr
    assert completed.returncode == 0, output
    assert [case for case, _ratio in RATIO_LINE.findall(completed.stdout)] == CASES, output
    table = report.read_text(encoding="utf-8").splitlines()
    assert [line.split()[1] for line in table if line.startswith("| B")] == CASES


def test_a_partial_run_leaves_the_committed_table_alone(tmp_path: Path) -> None:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("COALITIONLETTER_")}
    environment["PYTHONPATH"] = str(REPO)
    completed = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--only", "B9"],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "B9 start-up: ratio" in completed.stdout  # positive control: the case ran
    assert not (tmp_path / "BENCHMARKS.md").exists()
