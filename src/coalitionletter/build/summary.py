"""What a build did, in the words staff read: the CLI prints them, the console shows them.

Each line is Words: `str()` is the English the CLI prints, and the console shows
them in its reader's language. Where the CLI has always said "file(s)", the
English msgid and msgid_plural are the same text, so the CLI's words (which
scripts and tests read) do not change while other languages get their forms.
"""

from __future__ import annotations

from coalitionletter.build.letters import BuildReport
from coalitionletter.campaigns import catalogue as campaigns
from coalitionletter.campaigns.definition import CampaignDefinition
from coalitionletter.catalogs import N_, N_plural, Words, escaped
from coalitionletter.errors import CampaignError, words_of
from coalitionletter.settings import Settings


def draft_note(settings: Settings, definition: CampaignDefinition) -> Words | None:
    """A note when body.md holds edits the build does not print (they are not published)."""
    if not definition.published:
        return None
    try:
        draft = campaigns.load(settings, definition.slug)
    except CampaignError as problem:
        return N_(
            "Note: the draft in letters/%(slug)s/ has an error: %(problem)s",
            slug=definition.slug,
            problem=words_of(problem),
        )
    if {v.language: v.text_hash for v in draft.versions} != {
        v.language: v.text_hash for v in definition.versions
    }:
        return N_(
            "Note: letters/%(slug)s/ holds changes to the text that are not published; "
            "this build prints the published text. See them with: coalitionletter publish "
            "%(slug)s --diff",
            slug=definition.slug,
        )
    return None


def left_out_lines(report: BuildReport) -> list[Words]:
    """Who --leave-out-stale left out, one per line after a heading; none when nobody was."""
    if not report.left_out:
        return []
    heading = N_plural(
        "Left out %(count)s organisation that confirmed an earlier text and not this one "
        "(--leave-out-stale); not named and not counted in any file:",
        "Left out %(count)s organisations that confirmed an earlier text and not this one "
        "(--leave-out-stale); not named and not counted in any file:",
        len(report.left_out),
    )
    return [heading, *(escaped(f"  - {name}") for name in report.left_out)]


def summary_lines(report: BuildReport, slug: str) -> list[Words]:
    """The build's summary: the trail's anchor, what was written, kept and removed."""
    named = N_plural("%(count)s signatories", "%(count)s signatories", report.count)
    if report.withheld:
        named = N_plural(
            "%(named)s (%(count)s named only in the delivered copies)",
            "%(named)s (%(count)s named only in the delivered copies)",
            report.withheld,
            named=named,
        )
    lines = [
        N_(
            "The trail of %(slug)s verified; its anchor: %(anchor)s",
            slug=slug,
            anchor=report.trail_head,
        )
    ]
    if not report.written:
        lines.append(
            N_(
                "Nothing changed for %(slug)s; the files in %(folder)s are current.",
                slug=slug,
                folder=str(report.out_dir),
            )
        )
        return lines
    lines.append(
        N_plural(
            "Built %(count)s file(s) for %(slug)s in %(folder)s: %(named)s.",
            "Built %(count)s file(s) for %(slug)s in %(folder)s: %(named)s.",
            len(report.written),
            slug=slug,
            folder=str(report.out_dir),
            named=named,
        )
    )
    lines.extend(escaped(f"  {path.name}") for path in report.written)
    if report.unchanged:
        lines.append(
            N_plural(
                "%(count)s file(s) unchanged.",
                "%(count)s file(s) unchanged.",
                len(report.unchanged),
            )
        )
    lines.extend(N_("Removed superseded %(file)s", file=path.name) for path in report.removed)
    return lines
