"""Where a build's files go, what they are called, and writing them whole.

Every output name passes one guard (`safe_join`) that cannot leave the output
folder, as Pelican's `sanitised_join` does: a plain lower-case file name, and
a resolved path whose parent is the folder itself (so a symlink planted in the
folder cannot send a letter elsewhere).
"""

from __future__ import annotations

import re
from pathlib import Path

from coalitionletter.campaigns.definition import CampaignDefinition
from coalitionletter.errors import OutputPathError
from coalitionletter.private_files import naming, tighten, write_private

OUT_DIR = "out"
DELIVERED = "delivered"
PUBLIC = "public"
ALL = "all"  # the single variant when nobody is withheld
LIST_NAME = "signatories"
SAFE_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{0,150}$")


def safe_join(base: Path, name: str) -> Path:
    """`base / name`, refusing any name that is not a plain file name inside `base`."""
    if not SAFE_NAME.match(name) or ".." in name:
        raise OutputPathError(
            f"{name!r} is not a safe output file name (lower-case letters, digits, '.' and '-')."
        )
    root = base.resolve()
    path = (root / name).resolve()
    if path.parent != root:
        raise OutputPathError(f"{name!r} would be written outside {root}; refused.")
    return path


def output_dir(definition: CampaignDefinition, requested: Path | None) -> Path:
    """The folder the files go to: --out, or letters/<slug>/out."""
    folder = requested if requested is not None else definition.directory / OUT_DIR
    if folder.exists() and not folder.is_dir():
        raise OutputPathError(f"{folder} exists and is not a folder; choose another --out.")
    return folder


def file_name(recipient: str, variant: str, kind: str, language: str = "") -> str:
    """The output file name for a recipient (or the list, "*") in a variant.

    `language`: the version a file holds alone (canada.fr.pdf); "" when one file holds
    every language the recipient receives.
    """
    stem = LIST_NAME if recipient == "*" else recipient
    if language:
        stem = f"{stem}.{language}"
    return f"{stem}.{kind}" if variant == ALL else f"{stem}.{variant}.{kind}"


def write_whole(path: Path, data: bytes, *, private: bool = False) -> bool:
    """Write a file whole or not at all; False when it already held exactly these bytes.

    A private file (one naming organisations kept from the public, such as the
    delivered variant) is readable by its owner only, even one left from before.

    A reader never sees half a letter. A file already holding the same bytes is
    left alone (as make's "restat" does): a forced or reproducible rebuild then
    writes nothing to disk, and the file keeps its time. Writes were the most
    variable part of a one-letter build on a busy disk (2-15 ms each).
    """
    if path.is_file() and path.read_bytes() == data:
        if private:
            tighten(path)
        return False
    if private:
        write_private(path, data)
        return True
    partial = path.with_name(path.name + ".partial")
    with naming(path):
        try:
            partial.write_bytes(data)
            partial.replace(path)
        except OSError:
            partial.unlink(missing_ok=True)
            raise
    return True
