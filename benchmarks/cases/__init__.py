"""The benchmark cases, in the order the issue lists them."""

from __future__ import annotations

from collections.abc import Callable

from benchmarks.cases import startup
from benchmarks.harness import Result

CASES: dict[str, Callable[[bool], Result]] = {
    "B9": startup.run,
}
