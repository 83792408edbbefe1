"""Rendering: the one place that knows Jinja and WeasyPrint.

One function builds the Jinja environment used by the letters, the count
sheet, the emails and the web pages alike. Loader order: the campaign's own
`templates/`, the workspace's `templates/`, then the packaged defaults, which
are also reachable as `default:<name>` so an override can extend what it
replaces. Autoescaping is on for every HTML template.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from jinja2 import (
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    PrefixLoader,
    StrictUndefined,
    select_autoescape,
)

PACKAGE_DIR = Path(__file__).parent


@cache
def packaged_templates_dir() -> Path:
    """The default templates shipped with the package (the repo's templates/ when editable)."""
    bundled = PACKAGE_DIR / "default_templates"
    if bundled.is_dir():
        return bundled
    return PACKAGE_DIR.parent.parent / "templates"


def template_dirs(workspace_templates: Path | None, campaign_dir: Path | None = None) -> list[Path]:
    """The template folders searched, first match wins."""
    dirs: list[Path] = []
    if campaign_dir is not None and (campaign_dir / "templates").is_dir():
        dirs.append(campaign_dir / "templates")
    if workspace_templates is not None and workspace_templates.is_dir():
        dirs.append(workspace_templates)
    default = packaged_templates_dir()
    if default not in [d.resolve() for d in dirs]:
        dirs.append(default)
    return dirs


def make_environment(
    workspace_templates: Path | None, campaign_dir: Path | None = None
) -> Environment:
    """Build the Jinja environment (layered loaders, autoescape, strict undefined)."""
    loaders = [FileSystemLoader(str(d)) for d in template_dirs(workspace_templates, campaign_dir)]
    loader = ChoiceLoader(
        [*loaders, PrefixLoader({"default": FileSystemLoader(str(packaged_templates_dir()))})]
    )
    return Environment(
        loader=loader,
        autoescape=select_autoescape(
            enabled_extensions=("html", "htm", "xml", "svg"), default_for_string=True
        ),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
