"""Corrected names are proposals: kept beside the invitation until staff approve them.

A name typed on the sign-on form used to print as it was given. It is now kept
as proposed (with who proposed it and when) and prints only once staff approve
it; `display_name` holds approved names only. Names that earlier versions put in
`display_name` straight from the form were never reviewed, so they move to the
proposal columns: the registry name prints until staff approve them. Downgrading
puts a pending proposal back in `display_name`, as the earlier version kept it.

Default-ignorable code points (U+034F, variation selectors, Hangul fillers...)
are now refused in names and left out of the duplicate key, so the keys of
names stored with one before are recomputed the same way: such a name then
matches the same name written plainly, and a new entry repeating it is refused.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

from coalitionletter.models import UtcDateTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_ORGANISATIONS = sa.table(
    "organisations",
    sa.column("id", sa.Integer()),
    sa.column("name_key", sa.String(300)),
)
_INVITATIONS = sa.table(
    "invitations",
    sa.column("display_name", sa.String(300)),
    sa.column("signer_name", sa.String(300)),
    sa.column("decided_at", UtcDateTime()),
    sa.column("proposed_name", sa.String(300)),
    sa.column("proposed_by", sa.String(300)),
    sa.column("proposed_at", UtcDateTime()),
)


def upgrade() -> None:
    with op.batch_alter_table("invitations") as batch:
        batch.add_column(sa.Column("proposed_name", sa.String(300), nullable=True))
        batch.add_column(sa.Column("proposed_by", sa.String(300), nullable=True))
        batch.add_column(sa.Column("proposed_at", UtcDateTime(), nullable=True))
    table = _INVITATIONS
    op.execute(
        table.update()
        .where(table.c.display_name.is_not(None))
        .values(
            proposed_name=table.c.display_name,
            proposed_by=table.c.signer_name,
            proposed_at=table.c.decided_at,
            display_name=None,
        )
    )
    _drop_ignorables_from_name_keys()


def _drop_ignorables_from_name_keys() -> None:
    import regex

    # The pattern names.py uses; a stored key is the folded name with P, Z and C
    # characters dropped, so dropping these too gives the key names.py now computes.
    ignorable = regex.compile(r"[\p{Default_Ignorable_Code_Point}--[\u200c\u200d]]", regex.V1)
    table = _ORGANISATIONS
    connection = op.get_bind()
    changed = [
        {"row_id": row.id, "new_key": ignorable.sub("", row.name_key)}
        for row in connection.execute(sa.select(table.c.id, table.c.name_key))
        if not row.name_key.isascii() and ignorable.search(row.name_key)
    ]
    if changed:
        connection.execute(
            table.update()
            .where(table.c.id == sa.bindparam("row_id"))
            .values(name_key=sa.bindparam("new_key")),
            changed,
        )


def downgrade() -> None:
    table = _INVITATIONS
    op.execute(
        table.update()
        .where(table.c.proposed_name.is_not(None))
        .values(display_name=table.c.proposed_name)
    )
    with op.batch_alter_table("invitations") as batch:
        batch.drop_column("proposed_at")
        batch.drop_column("proposed_by")
        batch.drop_column("proposed_name")
