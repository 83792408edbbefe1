"""Synthetic coalitions for the benchmarks: made-up organisations, never real ones."""

from __future__ import annotations

import csv
import random
from pathlib import Path

COUNTRIES = ["GB", "CA", "US", "DE", "FR", "TR", "KZ", "AU", "NL", "SE", "JP", "NO"]
TYPES = ["Uyghur diaspora group", "International NGO", "National NGO", "Legal or professional body"]
WORDS = [
    "Rights",
    "Justice",
    "Freedom",
    "Action",
    "Watch",
    "Alliance",
    "Forum",
    "Council",
    "Initiative",
    "Network",
    "Society",
    "Centre",
    "Institute",
    "Union",
    "Trust",
    "League",
]
FIELDS = ["name", "country", "type", "website", "contact", "email"]


def organisation_rows(count: int, seed: int = 1) -> list[dict[str, str]]:
    """`count` distinct made-up organisations with a contact each."""
    rng = random.Random(seed)
    rows = []
    for number in range(count):
        words = " ".join(rng.sample(WORDS, 2))
        rows.append(
            {
                "name": f"{words} Group {number:06d}",
                "country": rng.choice(COUNTRIES),
                "type": rng.choice(TYPES),
                "website": f"https://org{number:06d}.example.org",
                "contact": f"Contact Person {number}",
                "email": f"office{number}@org{number:06d}.example.org",
            }
        )
    return rows


def write_csv(rows: list[dict[str, str]], path: Path) -> Path:
    """Write rows as a UTF-8 CSV with a header."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=FIELDS)
        writer.writeheader()
        writer.writerows(rows)
    return path
