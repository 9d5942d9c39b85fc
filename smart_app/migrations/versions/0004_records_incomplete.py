"""Issued cards keep whether they were issued on incomplete records: `records_incomplete`, the kinds of data the
card's finding rests on that could not be read (sorted, comma-separated), so the feedback report and /metrics can
tell an override of a card fired because a search failed from one fired on a complete chart.

Rows stored before this revision keep NULL: whether their records were complete was not recorded.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TABLE = "cds_issued_cards"
COLUMN = "records_incomplete"


def upgrade() -> None:
    present = {column["name"] for column in sa.inspect(op.get_bind()).get_columns(TABLE)}
    if COLUMN not in present:  # a database made by create_all from this code already has it
        op.add_column(TABLE, sa.Column(COLUMN, sa.Text))


def downgrade() -> None:
    with op.batch_alter_table(TABLE) as batch:
        batch.drop_column(COLUMN)
