"""Whether a signer's name and title may appear on the public list of signatories.

The person who confirms for an organisation gives their name and title; they go
to the recipients with the delivered letter and list. Since 0009 the sign-on
form also asks whether they may appear on the public list too, and the answer
is kept with the consent. The default is "not public": people at risk of
transnational repression sign these letters, so publishing is opted into,
never out of. Every existing consent is "not public", as nobody was asked.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("invitations") as batch:
        batch.add_column(
            sa.Column("signer_public", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("invitations") as batch:
        batch.drop_column("signer_public")
