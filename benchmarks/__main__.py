"""Run the benchmarks: `python -m benchmarks [--quick] [--only B1,B9] [--report FILE]`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from benchmarks.cases import CASES
from benchmarks.harness import Result, write_report


def main(argv: list[str] | None = None) -> int:
    """Run the chosen cases, print each, write the report; exit 1 if a case errored."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="reduced sizes, under a minute")
    parser.add_argument("--only", help="comma-separated case ids, e.g. B1,B9")
    parser.add_argument(
        "--report",
        help="where to write the table (default: BENCHMARKS.md, for a full run of every case)",
    )
    args = parser.parse_args(argv)
    # Only a full run of every case may replace the committed table: a quick or partial
    # run, or one whose cases failed, once wrote an empty table over the last full one.
    partial = bool(args.quick or args.only)
    report = Path(args.report) if args.report else None if partial else Path("BENCHMARKS.md")
    wanted = {c.strip().upper() for c in args.only.split(",")} if args.only else None
    results: list[Result] = []
    failed = False
    for case_id, run in CASES.items():
        if wanted and case_id not in wanted:
            continue
        print(f"{case_id} ...", flush=True)
        try:
            result = run(args.quick)
        except Exception as exc:  # noqa: BLE001 - report every case, then fail at the end
            print(f"{case_id} FAILED: {exc}", flush=True)
            failed = True
            continue
        results.append(result)
        print(result.line(), flush=True)
    if report is not None and (results or args.report):
        if failed and not args.report:
            print("Not writing BENCHMARKS.md: a case failed.", flush=True)
        else:
            write_report(results, report, args.quick)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
