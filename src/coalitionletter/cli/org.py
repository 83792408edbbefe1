"""Commands for org (filled in by its issue)."""

import click

COMMANDS: list[click.Command] = []
