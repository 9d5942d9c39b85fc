"""Snoozes keep the finding they were set on: `about` (digests of its parts) and `level` (its MME total).

Added to issued cards (an override reads them from the card it answers) and to snoozes. Rows stored before this
revision keep NULL, which the engine reads as "not recorded": such a snooze covers every finding of its check, as
it did when it was set.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TABLES = ("cds_issued_cards", "cds_snoozes")


def _columns(table: str) -> set[str]:
    return {column["name"] for column in sa.inspect(op.get_bind()).get_columns(table)}


def upgrade() -> None:
    for table in TABLES:
        present = _columns(table)  # a database made by create_all from this code already has them
        if "about" not in present:
            op.add_column(table, sa.Column("about", sa.Text))
        if "level" not in present:
            op.add_column(table, sa.Column("level", sa.String(32)))


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("level")
            batch.drop_column("about")
