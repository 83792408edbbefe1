"""Sign-on links and letter versions: several live links per invitation, texts kept by hash.

A reminder carries a fresh link without killing the one in the first email, so
links move to their own table (hash only); `--resend` revokes them all. Each
letter text shown or agreed to is kept, so `reconfirm` can show what changed.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

from coalitionletter.models import UtcDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("invitations") as batch:
        batch.drop_constraint("uq_invitations_token_hash", type_="unique")
        batch.drop_column("token_issued_at")
        batch.drop_column("token_hash")
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("text_hash", sa.String(64), nullable=True))

    op.create_table(
        "invitation_tokens",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("invitation_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("outbox_id", sa.Integer(), nullable=True),
        sa.Column("issued_at", UtcDateTime(), nullable=False),
        sa.Column("revoked_at", UtcDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["invitation_id"],
            ["invitations.id"],
            name="fk_invitation_tokens_invitation_id_invitations",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_invitation_tokens"),
        sa.UniqueConstraint("token_hash", name="uq_invitation_tokens_token_hash"),
    )
    op.create_index("ix_invitation_tokens_invitation_id", "invitation_tokens", ["invitation_id"])

    op.create_table(
        "letter_texts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("text_hash", sa.String(64), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name="fk_letter_texts_campaign_id_campaigns",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_letter_texts"),
        sa.UniqueConstraint("campaign_id", "text_hash", name="uq_letter_texts_campaign_id"),
    )


def downgrade() -> None:
    op.drop_table("letter_texts")
    op.drop_index("ix_invitation_tokens_invitation_id", table_name="invitation_tokens")
    op.drop_table("invitation_tokens")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("text_hash")
    with op.batch_alter_table("invitations") as batch:
        batch.add_column(sa.Column("token_hash", sa.String(64), nullable=True))
        batch.add_column(sa.Column("token_issued_at", UtcDateTime(), nullable=True))
        batch.create_unique_constraint("uq_invitations_token_hash", ["token_hash"])
