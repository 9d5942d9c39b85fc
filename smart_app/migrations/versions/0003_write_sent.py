"""Write-back forms sent to the EHR: `launch_write_sent` keeps a hash of each form sent, so one arriving again (a
double click, a reload of the answer page) is not written to the chart a second time.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TABLE = "launch_write_sent"


def upgrade() -> None:
    if not sa.inspect(op.get_bind()).has_table(TABLE):  # a database made by create_all from this code has it
        op.create_table(
            TABLE,
            sa.Column("send_key", sa.String(64), primary_key=True),
            sa.Column("sent_at", sa.BigInteger, nullable=False),
        )


def downgrade() -> None:
    op.drop_table(TABLE)
