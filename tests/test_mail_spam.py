"""The invitation as a spam filter sees it: SpamAssassin's own rules, network tests off."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from coalitionletter.campaigns import catalogue as campaigns
from coalitionletter.mail.message import Addressee, Letterhead, build_message
from coalitionletter.settings import load_settings

SLUG = "ilp-magnitsky-2020"
# SpamAssassin's test string: any installation scores a message holding it as spam.
GTUBE = "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X"
STATUS = re.compile(r"^X-Spam-Status: (Yes|No), score=(-?[\d.]+) required=([\d.]+)", re.M)


def _score(message: bytes, home: Path) -> tuple[float, float]:
    """(score, threshold) from `spamassassin -L -t` (local tests only), in a private HOME."""
    spamassassin = shutil.which("spamassassin")
    if spamassassin is None:
        pytest.fail(
            "spamassassin is not installed: run script/bootstrap (apt-get install spamassassin)"
        )
    result = subprocess.run(
        [spamassassin, "-L", "-t"],
        input=message,
        capture_output=True,
        env={"HOME": str(home), "PATH": "/usr/bin:/bin"},
        check=True,
        timeout=120,
    )
    found = STATUS.search(result.stdout.decode("utf-8", "replace"))
    assert found, result.stdout[:2000]
    return float(found.group(2)), float(found.group(3))


def _invitation(founding_home: Path) -> bytes:
    settings = load_settings(
        founding_home, environ={"COALITIONLETTER_BASE_URL": "https://sign.example.org"}
    )
    letterhead = Letterhead.for_campaign(settings, campaigns.load(settings, SLUG))
    addressee = Addressee(
        "Canadian Friends of Hong Kong (加拿大香港之友)",
        (("Cheuk Kwan", "cheuk@cfhk.example"),),
    )
    return build_message(
        letterhead, addressee, kind="invite", token="T" * 43, message_id="<1.a@ilp.example>"
    )


@pytest.mark.slow
def test_the_invitation_scores_below_spamassassins_default_threshold(
    founding_home: Path, tmp_path: Path
) -> None:
    score, threshold = _score(_invitation(founding_home), tmp_path)
    assert threshold == 5.0
    assert score < threshold


@pytest.mark.slow
def test_the_same_harness_scores_spamassassins_test_string_as_spam(
    founding_home: Path, tmp_path: Path
) -> None:
    spam = _invitation(founding_home).replace(b"Your organisation's personal link:", GTUBE.encode())
    score, threshold = _score(spam, tmp_path)
    assert score >= threshold
