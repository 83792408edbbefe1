"""Docs as tests: every command has help with an example and is named in the README."""

import re
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from coalitionletter.cli import cli

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def _commands(
    group: click.Group, prefix: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], click.Command]]:
    for name, command in sorted(group.commands.items()):
        path = (*prefix, name)
        yield path, command
        if isinstance(command, click.Group):
            yield from _commands(command, path)


COMMANDS = list(_commands(cli))
IDS = [" ".join(path) for path, _ in COMMANDS]


def test_the_registry_commands_are_among_those_checked() -> None:
    assert {"org", "org add", "org import", "org export", "init", "backup"} <= set(IDS)


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=IDS)
def test_every_command_has_help_with_an_example(
    path: tuple[str, ...], command: click.Command
) -> None:
    result = CliRunner().invoke(cli, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert command.help and command.help.strip(), f"{' '.join(path)} has no help text"
    assert "Example" in result.output, f"{' '.join(path)} --help shows no example"
    assert f"coalitionletter {' '.join(path)}" in result.output


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=IDS)
def test_every_command_is_named_in_the_readme(
    path: tuple[str, ...], command: click.Command
) -> None:
    assert f"coalitionletter {' '.join(path)}" in README, (
        f"README.md does not mention `coalitionletter {' '.join(path)}`"
    )


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=IDS)
def test_short_help_prints_the_same_help_everywhere(
    path: tuple[str, ...], command: click.Command
) -> None:
    short = CliRunner().invoke(cli, [*path, "-h"])
    assert short.exit_code == 0, short.output
    assert short.output == CliRunner().invoke(cli, [*path, "--help"]).output
    assert short.output.startswith("Usage: ")  # positive control: it is the help page


def _headings(markdown: str) -> list[tuple[int, str]]:
    """The (level, text) of every heading outside code blocks."""
    found, in_code = [], False
    for line in markdown.splitlines():
        if line.startswith("```"):
            in_code = not in_code
        elif not in_code and (match := re.match(r"^(#{1,6}) (.+)$", line)):
            found.append((len(match.group(1)), match.group(2).strip()))
    return found


def _anchor(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to dashes."""
    return re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")


def _contents_links(markdown: str) -> list[str]:
    contents = markdown.split("## Contents\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"\]\(#([^)]+)\)", contents)


def test_every_link_in_the_readme_contents_reaches_a_heading() -> None:
    anchors = {_anchor(text) for _, text in _headings(README)}
    links = _contents_links(README)
    assert "coalitionletter-export-campaign" in links  # positive control: the list is read
    assert [link for link in links if link not in anchors] == []


def test_every_section_of_the_readme_is_in_its_contents() -> None:
    sections = [_anchor(text) for level, text in _headings(README) if level == 2]
    assert "quick-start" in sections  # positive control: the sections are read
    links = _contents_links(README)
    assert [s for s in sections if s != "contents" and s not in links] == []


def test_the_anchor_of_a_command_heading_is_githubs() -> None:
    heading = "`coalitionletter migrate-data --from DB --to DB`"
    assert _anchor(heading) == "coalitionletter-migrate-data---from-db---to-db"


REPO = Path(__file__).resolve().parent.parent
IMAGE = re.compile(r"!\[[^\]]*\]\(([^)]+)\)")
SCREENSHOT_LIMIT = 150 * 1024


def test_every_image_the_readme_shows_is_committed_and_small() -> None:
    images = IMAGE.findall(README)
    assert "docs/screenshots/8-letters-built.png" in images  # the walkthrough's last step
    for image in images:
        path = REPO / image
        assert path.is_file(), f"README.md shows {image}, which is not in the repository"
        assert path.stat().st_size < SCREENSHOT_LIMIT, f"{image} is over 150 KB"
