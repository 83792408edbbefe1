"""Commands for letters (filled in by its issue)."""

import click

COMMANDS: list[click.Command] = []
