"""The benchmark cases, in the order the issue lists them."""

from __future__ import annotations

from collections.abc import Callable

from benchmarks.cases import letters, registry, signon, startup
from benchmarks.harness import Result

CASES: dict[str, Callable[[bool], Result]] = {
    "B1": letters.b1_render_overhead,
    "B2": letters.b2_unchanged_rebuild,
    "B3": letters.b3_scale,
    "B4": letters.b4_parallel,
    "B5": registry.b5_import,
    "B6": registry.b6_counts,
    "B7": signon.b7_sending,
    "B8": signon.b8_confirmations,
    "B9": startup.run,
}
