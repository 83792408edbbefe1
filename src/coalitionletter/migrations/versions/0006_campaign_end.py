"""The end of a campaign: a deadline staff extended, and the published text of the letter.

The deadline is written in letter.toml; an extension given at the end of a
campaign (`coalitionletter reopen CAMPAIGN --until ...`) is kept beside it and,
while set, is the deadline. `coalitionletter publish` freezes the words
organisations see and sign: the campaign names the published version's hash,
and letter_texts keeps each version's source parts so it can be shown again.
Existing campaigns have neither (their files stay live until first published)
and existing letter_texts rows no source.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

from coalitionletter.models import UtcDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("campaigns") as batch:
        batch.add_column(sa.Column("extended_until", UtcDateTime(), nullable=True))
        batch.add_column(sa.Column("published_hash", sa.String(64), nullable=True))
    with op.batch_alter_table("letter_texts") as batch:
        batch.add_column(sa.Column("source", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("letter_texts") as batch:
        batch.drop_column("source")
    with op.batch_alter_table("campaigns") as batch:
        batch.drop_column("published_hash")
        batch.drop_column("extended_until")
