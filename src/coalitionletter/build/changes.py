"""What a build would change since the last one: which inputs, which files, which names.

Read from the plan (`build.letters.plan`) and the last build's manifest and list
beside the letters; nothing is rendered or written. The console's letters page
shows it before staff press Build.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from coalitionletter.build.letters import Plan
from coalitionletter.build.manifest import INPUTS, recorded_inputs
from coalitionletter.build.output_files import DELIVERED, safe_join
from coalitionletter.campaigns.roster import collation_key
from coalitionletter.errors import OutputPathError

# Each input of the build in words (manifest.INPUTS).
INPUT_WORDS = {
    "program": "the program or its renderers (a new version)",
    "templates": "the letter's templates or stylesheet",
    "letter": "the campaign's files (letter.toml or body.md)",
    "signatories": "the signatories (who is named, their names, details or order)",
    "fonts": "the fonts installed on the server",
    "dates": "the letter's date",
}


@dataclass(frozen=True)
class Changes:
    """The difference between the files on disk and what a build would write now."""

    built_before: bool  # a manifest lists files in the output folder
    inputs_known: bool  # the last build recorded its inputs (older versions did not)
    changed_inputs: tuple[str, ...]  # in words (INPUT_WORDS), in INPUTS order
    files_due: tuple[str, ...]  # written, rewritten or missing
    files_superseded: tuple[str, ...]  # removed by the next build
    names_known: bool  # the last build's list could be read
    added: tuple[str, ...]  # named now, not in the last build's list
    removed: tuple[str, ...]  # in the last build's list, not named now

    @property
    def nothing_changed(self) -> bool:
        """True when a build now would write and remove nothing."""
        return self.built_before and not self.files_due and not self.files_superseded


def _last_list_names(build: Plan) -> list[str] | None:
    """The names in the last build's fullest list (signatories.json or its delivered copy)."""
    files = build.manifest.get("files", {})
    for name, entry in sorted(files.items()):
        if entry.get("recipient") != "*" or entry.get("kind") != "json":
            continue
        if entry.get("variant") not in ("all", DELIVERED):
            continue
        try:
            document = json.loads(safe_join(build.out_dir, name).read_text("utf-8"))
            return [str(row["name"]) for row in document["signatories"]]
        except (OSError, ValueError, KeyError, TypeError, OutputPathError):
            return None
    return None


def changes(build: Plan) -> Changes:
    """What building this plan would change, compared with the last build's files."""
    files = build.manifest.get("files", {})
    before = recorded_inputs(build.manifest)
    changed = tuple(
        INPUT_WORDS[name]
        for name in INPUTS
        if before is not None and before.get(name) != build.inputs.get(name)
    )
    now = {s.name for s in build.roster.named(delivered=True)}
    last = _last_list_names(build)
    previous = set(last) if last is not None else now
    return Changes(
        built_before=bool(files),
        inputs_known=before is not None,
        changed_inputs=changed,
        files_due=tuple(o.name for o in build.due()),
        files_superseded=tuple(build.stale_outputs),
        names_known=last is not None,
        added=tuple(sorted(now - previous, key=collation_key)),
        removed=tuple(sorted(previous - now, key=collation_key)),
    )
