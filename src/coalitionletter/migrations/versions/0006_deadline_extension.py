"""A campaign's deadline extended by staff: `reopen --until` keeps it in the database.

The deadline is written in letter.toml; an extension given at the end of a
campaign (`coalitionletter reopen CAMPAIGN --until ...`) is kept beside it and,
while set, is the deadline. Existing campaigns have none.

Revision ID: 0006
Revises: 0003
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

from coalitionletter.models import UtcDateTime

revision = "0006"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("campaigns") as batch:
        batch.add_column(sa.Column("extended_until", UtcDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("campaigns") as batch:
        batch.drop_column("extended_until")
