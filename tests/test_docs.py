"""Docs as tests: every command has help with an example and is named in the README."""

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
