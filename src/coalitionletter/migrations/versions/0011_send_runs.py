"""Sending in the background: one row per campaign for the console's send that is running.

The console queues messages in the request and a background worker sends them.
The row is what two staff pressing Send at once meet: it is taken under the
campaign's lock, so only one send runs per campaign. It also holds what the
progress bar shows (the total, who started it, the outcome) and who is sending
now, with a heartbeat, so that after a restart another worker resumes the send
without two workers sending one campaign's queue at once. No existing row changes.

Revision ID: 0011
Revises: 0013
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

from coalitionletter.models import UtcDateTime

revision = "0011"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "send_runs",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("what", sa.String(40), nullable=False),
        sa.Column("started_by", sa.String(300), nullable=False),
        sa.Column("started_at", UtcDateTime(), nullable=False),
        sa.Column("finished_at", UtcDateTime(), nullable=True),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("only_invitations", sa.Text(), nullable=True),
        sa.Column("worker", sa.String(200), nullable=True),
        sa.Column("heartbeat_at", UtcDateTime(), nullable=True),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name="fk_send_runs_campaign_id_campaigns",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_send_runs"),
        sa.UniqueConstraint("campaign_id", name="uq_send_runs_campaign_id"),
    )


def downgrade() -> None:
    op.drop_table("send_runs")
