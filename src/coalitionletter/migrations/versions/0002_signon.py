"""Sign-on: personal links, views, reminders, the outbox and shared web secrets.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

from coalitionletter.models import UtcDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("invitations") as batch:
        batch.add_column(sa.Column("token_hash", sa.String(64), nullable=True))
        batch.add_column(sa.Column("token_issued_at", UtcDateTime(), nullable=True))
        batch.add_column(sa.Column("viewed_at", UtcDateTime(), nullable=True))
        batch.add_column(sa.Column("view_count", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(
            sa.Column("reminders_sent", sa.Integer(), nullable=False, server_default="0")
        )
        batch.add_column(sa.Column("last_reminded_at", UtcDateTime(), nullable=True))
        batch.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="0"))
        batch.create_unique_constraint("uq_invitations_token_hash", ["token_hash"])

    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("invitation_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("recipients", sa.Text(), nullable=False),
        sa.Column("message_id", sa.String(250), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.Column("sent_at", UtcDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name="fk_outbox_campaign_id_campaigns",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["invitation_id"],
            ["invitations.id"],
            name="fk_outbox_invitation_id_invitations",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_outbox"),
        sa.UniqueConstraint("message_id", name="uq_outbox_message_id"),
    )
    op.create_index("ix_outbox_campaign_state", "outbox", ["campaign_id", "state"])
    op.create_index("ix_outbox_invitation_id", "outbox", ["invitation_id"])

    op.create_table(
        "app_secrets",
        sa.Column("name", sa.String(60), nullable=False),
        sa.Column("value", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_app_secrets"),
    )


def downgrade() -> None:
    op.drop_table("app_secrets")
    op.drop_table("outbox")
    with op.batch_alter_table("invitations") as batch:
        batch.drop_constraint("uq_invitations_token_hash", type_="unique")
        for column in (
            "version",
            "last_reminded_at",
            "reminders_sent",
            "view_count",
            "viewed_at",
            "token_issued_at",
            "token_hash",
        ):
            batch.drop_column(column)
