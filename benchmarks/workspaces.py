"""Workspaces for the benchmarks: the founding campaign plus made-up confirmed signatories."""

from __future__ import annotations

import contextlib
import io
import shutil
import tempfile
from pathlib import Path

from benchmarks.data import organisation_rows, write_csv

REPO = Path(__file__).resolve().parent.parent
FOUNDING = "ilp-magnitsky-2020"
# The founding letter went out with ILP and 70 other organisations; the seed
# holds the six publicly known, so made-up ones stand in for the rest.
FOUNDING_SIGNATORIES = 71
SEED_SIGNATORIES = 6


def in_process(home: Path, *args: str) -> None:
    """Run a coalitionletter command inside this process; raise if it fails."""
    from coalitionletter.cli import cli

    try:
        with contextlib.redirect_stdout(io.StringIO()):
            cli.main(["--home", str(home), *args], standalone_mode=False)
    except SystemExit as exit_:
        if exit_.code not in (0, None):
            raise RuntimeError(f"coalitionletter {' '.join(args)} exited {exit_.code}") from None


def founding_workspace(extra_signatories: int = 0, invited_only: int = 0) -> Path:
    """A fresh workspace: init, then `extra_signatories` confirmed and `invited_only` not."""
    home = Path(tempfile.mkdtemp(prefix="coalitionletter-bench-"))
    shutil.copytree(
        REPO / "letters" / FOUNDING,
        home / "letters" / FOUNDING,
        ignore=shutil.ignore_patterns("out"),  # built letters of the repo's own quick start
    )
    in_process(home, "init")
    total = extra_signatories + invited_only
    if total:
        csv_path = write_csv(organisation_rows(total), home / "extra.csv")
        in_process(home, "org", "import", str(csv_path))
        _confirm(home, extra_signatories)
    return home


def _confirm(home: Path, count: int) -> None:
    from sqlalchemy import select

    from coalitionletter.campaigns import catalogue as campaigns
    from coalitionletter.db import Database
    from coalitionletter.models import Invitation, Organisation
    from coalitionletter.settings import load_settings
    from coalitionletter.signon import states as signon

    settings = load_settings(home, environ={})
    definition = campaigns.load(settings, FOUNDING)
    database = Database(settings.db_url)
    with database.writing() as session:
        campaign = campaigns.campaign_row(session, FOUNDING)
        signed = select(Invitation.organisation_id).where(Invitation.campaign_id == campaign.id)
        ids = session.scalars(
            select(Organisation.id).where(Organisation.id.not_in(signed)).order_by(Organisation.id)
        ).all()
        for organisation_id in ids[:count]:
            signon.transition(
                session,
                campaign,
                organisation_id,
                "confirm",
                actor="benchmark",
                text_hash=definition.text_hash,
            )
    database.dispose()


def out_dir(home: Path) -> Path:
    """Where a workspace's founding letters are written."""
    return home / "letters" / FOUNDING / "out"
