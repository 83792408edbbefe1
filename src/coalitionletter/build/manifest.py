"""The build's skip-if-unchanged cache: what each output is keyed by, and the manifest.

`.coalitionletter-build.json` in the output folder records, for every file a
build wrote, the key it was built from and the SHA-256 of its bytes. A file is
rebuilt when its key changes (templates, campaign files, the list, the dates,
the program's version), when it is missing or was edited since, or on --force.
The keys hash content, never times: any change of text, template, list or
settings is noticed, whatever the file system's clock says.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable
from dataclasses import astuple, dataclass
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

from coalitionletter.build.output_files import write_whole
from coalitionletter.campaigns.definition import CampaignDefinition
from coalitionletter.campaigns.letter_text import BODY_FILE
from coalitionletter.campaigns.letter_toml import LETTER_FILE
from coalitionletter.campaigns.roster import Roster

MANIFEST = ".coalitionletter-build.json"
# Template folders of the emails, web pages and count sheet: editing them never changes a letter.
OTHER_FACES = frozenset({"email", "web", "counts"})
# Where fontconfig looks on Debian (fonts.conf): system, local and the user's folders.
FONT_DIRS = (
    Path("/usr/share/fonts"),
    Path("/usr/local/share/fonts"),
    Path.home() / ".local" / "share" / "fonts",
    Path.home() / ".fonts",
)


@dataclass(frozen=True)
class Output:
    """One file the build is responsible for."""

    name: str
    recipient: str  # a recipient key, or "*" for the list files
    kind: str  # html, pdf, csv, json
    variant: str  # all, public, delivered
    key: str
    language: str = ""  # the one language version a file holds; "" for all the recipient's


def sha256(data: bytes) -> str:
    """The SHA-256 of some bytes, in hex."""
    return hashlib.sha256(data).hexdigest()


# What a build's files depend on, each hashed on its own so that the manifest can say
# which of them changed since the last build (build/changes.py puts them in words).
INPUTS = ("program", "templates", "letter", "signatories", "fonts", "dates")


def input_digests(
    template_dirs: Iterable[Path],
    definition: CampaignDefinition,
    names: Roster,
    dated: Iterable[str],
) -> dict[str, str]:
    """A digest of each input every output of one build depends on, by name (INPUTS)."""
    return {
        "program": _versions(),
        "templates": _templates_digest(template_dirs),
        "letter": _campaign_digest(definition),
        "signatories": _roster_digest(names),
        "fonts": fonts_digest(),
        "dates": "\0".join(dated),
    }


def common_key(inputs: dict[str, str]) -> str:
    """What every output of one build depends on (its `input_digests`), hashed into one key."""
    return sha256("\0".join(inputs[name] for name in INPUTS).encode())


def output_key(common: str, recipient: str, variant: str, kind: str, language: str = "") -> str:
    """One output's key: the build's common key and which file it is."""
    return sha256(f"{common}\0{recipient}\0{variant}\0{kind}\0{language}".encode())


def _templates_digest(dirs: Iterable[Path]) -> str:
    digest = hashlib.sha256()
    for index, folder in enumerate(dirs):
        for relative in _letter_template_files(folder):
            digest.update(f"{index}:{'/'.join(relative)}\0".encode())
            digest.update(sha256(folder.joinpath(*relative).read_bytes()).encode())
    return digest.hexdigest()


def _letter_template_files(folder: Path) -> list[tuple[str, ...]]:
    """Every file under a template folder as path parts, sorted, the other faces left out.

    The other faces' folders are not walked at all: an unchanged build spends its
    time here.
    """
    files: list[tuple[str, ...]] = []
    for root, subfolders, names in os.walk(folder):
        parts = Path(root).relative_to(folder).parts
        if not parts:
            subfolders[:] = [d for d in subfolders if d not in OTHER_FACES]
        files.extend((*parts, n) for n in names if os.path.isfile(os.path.join(root, n)))
    return sorted(files)


def _campaign_digest(definition: CampaignDefinition) -> str:
    """letter.toml and every body file, and the words printed (published ones included)."""
    digest = hashlib.sha256()
    others = sorted(p.name for p in definition.directory.glob("body.*.md"))
    for name in (LETTER_FILE, BODY_FILE, *others):
        digest.update(f"{name}\0".encode())
        digest.update((definition.directory / name).read_bytes())
        digest.update(b"\0")
    # Published words come from the database, not the files: their hashes name them.
    for version in definition.versions:
        digest.update(f"{version.language}\0{version.text_hash}\0".encode())
    return digest.hexdigest()


def _roster_digest(names: Roster) -> str:
    # Every field of every signatory: the order comes from sort names and the lead,
    # and any field a template may print must rebuild the letter when it changes.
    rows = [[str(value) for value in astuple(s)] for s in names.signatories]
    payload = {"group_by": names.group_by, "rows": rows}
    return sha256(json.dumps(payload, ensure_ascii=False, sort_keys=True).encode())


# What turns the same list and templates into other bytes: the renderers and the collation.
RENDERING_PACKAGES = ("coalitionletter", "weasyprint", "jinja2", "markdown-it-py", "pyuca", "babel")


@cache
def _versions() -> str:
    return ",".join(metadata.version(name) for name in RENDERING_PACKAGES)


def fonts_digest(font_dirs: Iterable[Path] = FONT_DIRS) -> str:
    """A digest of the installed fonts: every font folder's path and modification time.

    Fontconfig itself decides whether its cache is current from folder times, so a
    font installed, removed or upgraded changes this digest; reading the font
    files' bytes would cost more than the rest of an unchanged build.
    """
    digest = hashlib.sha256()
    for root in font_dirs:
        for folder, _subfolders, _files in sorted(os.walk(root)):
            digest.update(f"{folder}\0{os.stat(folder).st_mtime_ns}\0".encode())
    return digest.hexdigest()


def load_manifest(out_dir: Path) -> dict[str, Any]:
    """The last build's manifest in this folder (empty when there is none or it is unreadable)."""
    path = out_dir / MANIFEST
    try:
        data = json.loads(path.read_text("utf-8"))
    except (FileNotFoundError, ValueError):
        return {"files": {}}
    return data if isinstance(data.get("files"), dict) else {"files": {}}


def save_manifest(out_dir: Path, manifest: dict[str, Any]) -> None:
    """Write the manifest beside the files it describes (not when no folder was made)."""
    if not out_dir.is_dir():
        return
    data = json.dumps(manifest, sort_keys=True, indent=1).encode("utf-8")
    write_whole(out_dir / MANIFEST, data)


def is_fresh(manifest: dict[str, Any], out_dir: Path, output: Output) -> bool:
    """True when the file on disk is the one last built from this very key."""
    entry = manifest.get("files", {}).get(output.name)
    path = out_dir / output.name
    return (
        entry is not None
        and entry.get("key") == output.key
        and path.is_file()
        and sha256(path.read_bytes()) == entry.get("sha256")
    )


def record_inputs(manifest: dict[str, Any], inputs: dict[str, str]) -> None:
    """Note in the manifest the inputs of the build that last wrote files."""
    manifest["inputs"] = dict(inputs)


def recorded_inputs(manifest: dict[str, Any]) -> dict[str, str] | None:
    """The inputs the last build recorded, or None (no build, or one made before they were)."""
    inputs = manifest.get("inputs")
    return inputs if isinstance(inputs, dict) else None


def record(manifest: dict[str, Any], output: Output, data: bytes) -> None:
    """Note in the manifest that `output` was written with these bytes."""
    manifest.setdefault("files", {})[output.name] = {
        "key": output.key,
        "sha256": sha256(data),
        "recipient": output.recipient,
        "kind": output.kind,
        "variant": output.variant,
    }
