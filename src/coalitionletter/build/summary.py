"""What a build did, in the words staff read: the CLI prints them, the console shows them."""

from __future__ import annotations

from coalitionletter.build.letters import BuildReport
from coalitionletter.campaigns import catalogue as campaigns
from coalitionletter.campaigns.definition import CampaignDefinition
from coalitionletter.errors import CampaignError
from coalitionletter.settings import Settings


def draft_note(settings: Settings, definition: CampaignDefinition) -> str | None:
    """A note when body.md holds edits the build does not print (they are not published)."""
    if not definition.published:
        return None
    try:
        draft = campaigns.load(settings, definition.slug)
    except CampaignError as problem:
        return f"Note: the draft in letters/{definition.slug}/ has an error: {problem}"
    if {v.language: v.text_hash for v in draft.versions} != {
        v.language: v.text_hash for v in definition.versions
    }:
        return (
            f"Note: letters/{definition.slug}/ holds changes to the text that are not published; "
            "this build prints the published text. See them with: coalitionletter publish "
            f"{definition.slug} --diff"
        )
    return None


def left_out_lines(report: BuildReport) -> list[str]:
    """Who --leave-out-stale left out, one per line after a heading; none when nobody was."""
    if not report.left_out:
        return []
    count = len(report.left_out)
    heading = (
        f"Left out {count} organisation{'s' if count != 1 else ''} that confirmed an earlier "
        "text and not this one (--leave-out-stale); not named and not counted in any file:"
    )
    return [heading, *(f"  - {name}" for name in report.left_out)]


def summary_lines(report: BuildReport, slug: str) -> list[str]:
    """The build's summary: the trail's anchor, what was written, kept and removed."""
    named = f"{report.count} signatories"
    if report.withheld:
        named += f" ({report.withheld} named only in the delivered copies)"
    lines = [f"The trail of {slug} verified; its anchor: {report.trail_head}"]
    if not report.written:
        lines.append(f"Nothing changed for {slug}; the files in {report.out_dir} are current.")
        return lines
    lines.append(f"Built {len(report.written)} file(s) for {slug} in {report.out_dir}: {named}.")
    lines.extend(f"  {path.name}" for path in report.written)
    if report.unchanged:
        lines.append(f"{len(report.unchanged)} file(s) unchanged.")
    lines.extend(f"Removed superseded {path.name}" for path in report.removed)
    return lines
