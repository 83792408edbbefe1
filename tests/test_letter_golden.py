"""The founding letter to the UK, compared byte for byte with its golden copy.

When a change to the template, the stylesheet or the letter text is intended,
regenerate the golden file and review the diff before committing it:

    REGENERATE_GOLDEN=1 python -m pytest tests/test_letter_golden.py
    git diff tests/golden/
"""

from __future__ import annotations

import os
from pathlib import Path

GOLDEN = Path(__file__).parent / "golden" / "ilp-magnitsky-2020-uk.html"


def test_the_founding_uk_letter_matches_its_golden_copy(invoke, signed_founding, founding_home):
    # An ambient SOURCE_DATE_EPOCH would change the creation date stamped in the file.
    result = invoke(
        "build", "--recipient", "uk", "--format", "html", "-q", env={"SOURCE_DATE_EPOCH": ""}
    )
    assert result.exit_code == 0, result.output
    out = founding_home / "letters" / "ilp-magnitsky-2020" / "out" / "uk.html"
    built = out.read_text("utf-8")
    if os.environ.get("REGENERATE_GOLDEN") == "1":
        GOLDEN.write_text(built, "utf-8")
    assert built == GOLDEN.read_text("utf-8")
