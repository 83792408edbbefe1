"""A letter in several languages: the published hash of each version other than the campaign's own.

`publish` freezes every language version of the letter. The campaign's own
language (body.md) stays in `campaigns.published_hash`, as before; the others
are kept as canonical JSON, language code to hash ({"fr": "..."}), and their
words in letter_texts.source like any version. Existing campaigns have one
language and keep NULL.

Revision ID: 0013
Revises: 0009
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("campaigns") as batch:
        batch.add_column(sa.Column("published_versions", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("campaigns") as batch:
        batch.drop_column("published_versions")
