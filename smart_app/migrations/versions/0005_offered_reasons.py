"""Issued cards keep the override reason codes they offered: `offered_reasons`, space-separated, so feedback can
refuse an override whose reason PainPlan knows but the card did not offer (CDS Hooks 2.0.1: the overrideReason is one
of the card's), which would otherwise snooze its check for that reason's duration.

Rows stored before this revision keep NULL: what they offered was not recorded, and feedback on them is taken as it
was before.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

TABLE = "cds_issued_cards"
COLUMN = "offered_reasons"


def upgrade() -> None:
    present = {column["name"] for column in sa.inspect(op.get_bind()).get_columns(TABLE)}
    if COLUMN not in present:  # a database made by create_all from this code already has it
        op.add_column(TABLE, sa.Column(COLUMN, sa.Text))


def downgrade() -> None:
    with op.batch_alter_table(TABLE) as batch:
        batch.drop_column(COLUMN)
