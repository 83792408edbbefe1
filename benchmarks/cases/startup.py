"""B9: `coalitionletter --help` against `python -c "import click"`."""

from __future__ import annotations

import sys

from benchmarks.harness import Result, coalitionletter_command, paired_median, run_command


def run(quick: bool) -> Result:
    """Start-up: our CLI's help against importing click alone."""
    repeats = 7 if quick else 21
    base, ours = paired_median(
        lambda: run_command([sys.executable, "-c", "import click"]),
        lambda: run_command([*coalitionletter_command(), "--help"]),
        repeats=repeats,
    )
    return Result("B9", "start-up", ours / base, base, ours, target=1.5)
