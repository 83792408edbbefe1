"""Events bind the invitations they change: an `outcome` per entry, and a snapshot to start from.

Each event that changes an invitation now carries the invitation's fields as it
left them (state, listing, agreed text, organisation, version), hashed with the
entry, so `audit --verify`, `build` and `export` catch a row changed behind the
program's back. Entries written before this revision have no outcome; to give
every existing invitation a starting point, the upgrade appends one chained
`trail_snapshot` entry per invitation stating its state as found. Tampering done
before the upgrade is taken as found; from the snapshot on, it is caught.

The snapshot entries are written with the program's own chain code (`events`),
so that they hash exactly as `verify` recomputes them.

Revision ID: 0005
Revises: 0003
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.orm import Session

from coalitionletter import events
from coalitionletter.signon.states import outcome_of

revision = "0005"
down_revision = "0003"
branch_labels = None
depends_on = None

SNAPSHOT_ACTOR = "upgrade 0005"


def _snapshot(session: Session) -> None:
    invitations = sa.table(
        "invitations",
        sa.column("id"),
        sa.column("campaign_id"),
        sa.column("organisation_id"),
        sa.column("state"),
        sa.column("listing"),
        sa.column("text_hash"),
        sa.column("version"),
    )
    campaigns = sa.table("campaigns", sa.column("id"), sa.column("slug"))
    rows = session.execute(
        sa.select(campaigns.c.slug, invitations)
        .join(campaigns, campaigns.c.id == invitations.c.campaign_id)
        .order_by(campaigns.c.slug, invitations.c.id)
    ).all()
    by_chain: dict[str, list[events.Entry]] = {}
    for row in rows:
        outcome = outcome_of(
            row.organisation_id, row.state, row.listing, row.text_hash, row.version or 0
        )
        entry = events.Entry(
            "trail_snapshot",
            SNAPSHOT_ACTOR,
            row.campaign_id,
            row.organisation_id,
            row.id,
            detail={"note": "the invitation as found when events began to bind invitations"},
            outcome=outcome,
        )
        by_chain.setdefault(events.campaign_chain(row.slug), []).append(entry)
    for chain, entries in by_chain.items():
        events.record_many(session, chain=chain, entries=entries)


def upgrade() -> None:
    with op.batch_alter_table("events") as batch:
        batch.add_column(sa.Column("outcome", sa.Text(), nullable=True))
    session = Session(bind=op.get_bind())
    _snapshot(session)
    session.flush()


def downgrade() -> None:
    # The outcomes are part of their entries' hashes: without the column, every entry
    # written since the upgrade (snapshots included) no longer verifies. Downgrade only
    # a copy, to read it with the older program.
    with op.batch_alter_table("events") as batch:
        batch.drop_column("outcome")
