"""Measuring: medians after a warm-up, cases, results and the BENCHMARKS.md report."""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path


@dataclass
class Result:
    """One case's outcome: the ratio of ours to the baseline, and whether it met its target."""

    case: str
    title: str
    ratio: float
    baseline_s: float
    ours_s: float
    target: float
    higher_is_better: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def met(self) -> bool:
        """True when the ratio is on the right side of the target."""
        return self.ratio >= self.target if self.higher_is_better else self.ratio <= self.target

    def line(self) -> str:
        """One line for the terminal."""
        sign = ">=" if self.higher_is_better else "<="
        verdict = "ok" if self.met else "MISSED"
        return (
            f"{self.case} {self.title}: ratio {self.ratio:.3f} (target {sign} {self.target}) "
            f"baseline {self.baseline_s:.4f} s, ours {self.ours_s:.4f} s  [{verdict}]"
        )


def median_time(action: Callable[[], object], repeats: int, warmup: int = 1) -> float:
    """Median wall time of `action` over `repeats` runs after `warmup` unmeasured runs."""
    for _ in range(warmup):
        action()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def paired_median(
    baseline: Callable[[], object], ours: Callable[[], object], repeats: int, warmup: int = 1
) -> tuple[float, float]:
    """Median times of baseline and ours, interleaved so machine noise hits both alike."""
    for _ in range(warmup):
        baseline()
        ours()
    base_times, our_times = [], []
    for _ in range(repeats):
        start = time.perf_counter()
        baseline()
        base_times.append(time.perf_counter() - start)
        start = time.perf_counter()
        ours()
        our_times.append(time.perf_counter() - start)
    return statistics.median(base_times), statistics.median(our_times)


def cpu_timed(action: Callable[[], object], into: list[float]) -> Callable[[], None]:
    """`action`, noting this process's CPU time of each run in `into`."""

    def run() -> None:
        start = time.process_time()
        action()
        into.append(time.process_time() - start)

    return run


def cpu_ratio(cpu: dict[str, list[float]]) -> float:
    """Median CPU time of ours over the baseline's, the warm-up run left out."""
    return statistics.median(cpu["ours"][1:]) / statistics.median(cpu["base"][1:])


def load_note() -> str:
    """The machine's load while a case ran: other work shares the cores and moves wall times."""
    return f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"


def run_command(
    args: list[str], cwd: Path | None = None, env: dict[str, str] | None = None
) -> None:
    """Run a command, failing loudly if it fails (a benchmark of a failure means nothing)."""
    completed = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed:\n{completed.stdout}\n{completed.stderr}")


def coalitionletter_command() -> list[str]:
    """How to run our console script from this interpreter."""
    script = Path(sys.executable).parent / "coalitionletter"
    return [str(script)] if script.exists() else [sys.executable, "-m", "coalitionletter"]


def machine_line() -> str:
    """The machine the numbers come from."""
    return (
        f"{os.cpu_count()} CPUs, {platform.machine()}, Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}"
    )


def write_report(results: list[Result], path: Path, quick: bool) -> None:
    """Write BENCHMARKS.md: date, machine, and one row per case."""
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "# Benchmarks",
        "",
        f"Run {now} on {machine_line()}" + (" (quick mode: reduced sizes)." if quick else "."),
        "",
        "Each ratio is our time over a baseline doing the same work with nothing of ours "
        "around it, measured side by side in the same run (medians after a warm-up). "
        "Regenerate with `python -m benchmarks`.",
        "",
        "| case | ratio | target | baseline | ours | met | notes |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for result in results:
        sign = ">=" if result.higher_is_better else "<="
        lines.append(
            f"| {result.case} {result.title} | {result.ratio:.3f} | {sign} {result.target} "
            f"| {result.baseline_s:.4f} s | {result.ours_s:.4f} s "
            f"| {'yes' if result.met else '**no**'} | {'; '.join(result.notes)} |"
        )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
