"""The schema as `create_all` made it before migrations: feedback, snoozes, JWT replay cache, SMART launches.

Each table is created only when it is missing, so a database made by the old start-up code (all or some of these
tables, no alembic_version) is upgraded in place: its tables are kept as they are and it is marked at 0001.

Revision ID: 0001
Revises:
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

ID = 512


def _missing(name: str) -> bool:
    return not sa.inspect(op.get_bind()).has_table(name)


def upgrade() -> None:
    if _missing("cds_issued_cards"):
        op.create_table(
            "cds_issued_cards",
            sa.Column("uuid", sa.String(36), primary_key=True),
            sa.Column("check_id", sa.String(64), nullable=False),
            sa.Column("patient_id", sa.String(ID)),
            sa.Column("user_id", sa.String(ID)),
            sa.Column("indicator", sa.String(16), nullable=False),
            sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("service", sa.String(64), nullable=False),
            sa.Column("hook_instance", sa.String(128)),
        )
        op.create_index("ix_cds_issued_cards_issued_at", "cds_issued_cards", ["issued_at"])
    if _missing("cds_feedback"):
        op.create_table(
            "cds_feedback",
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
            sa.Column("fingerprint", sa.String(64), nullable=False, unique=True),
            sa.Column("card_uuid", sa.String(128), nullable=False),
            sa.Column("service", sa.String(64), nullable=False),
            sa.Column("hook_instance", sa.String(128)),
            sa.Column("outcome", sa.String(16), nullable=False),
            sa.Column("reason_system", sa.String(256)),
            sa.Column("reason_code", sa.String(128)),
            sa.Column("comment", sa.Text),
            sa.Column("accepted_suggestions", sa.Text),
            sa.Column("outcome_timestamp", sa.DateTime(timezone=True), nullable=False),
            sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        )
        op.create_index("ix_cds_feedback_card_uuid", "cds_feedback", ["card_uuid"])
    if _missing("cds_snoozes"):
        op.create_table(
            "cds_snoozes",
            sa.Column("patient_id", sa.String(ID), primary_key=True),
            sa.Column("check_id", sa.String(64), primary_key=True),
            sa.Column("user_id", sa.String(ID), primary_key=True),
            sa.Column("reason", sa.String(128), primary_key=True),
            sa.Column("until", sa.DateTime(timezone=True), nullable=False),
            sa.Column("indicator", sa.String(16), nullable=False),
            sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("comment", sa.Text),
        )
    if _missing("cds_seen_jti"):
        op.create_table(
            "cds_seen_jti",
            sa.Column("iss", sa.String(512), primary_key=True),
            sa.Column("jti", sa.String(256), primary_key=True),
            sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        )
        op.create_index("ix_cds_seen_jti_expires_at", "cds_seen_jti", ["expires_at"])
    if _missing("launch_pending"):
        op.create_table(
            "launch_pending",
            sa.Column("state_hash", sa.String(64), primary_key=True),
            sa.Column("browser_hash", sa.String(64), nullable=False),
            sa.Column("iss", sa.Text, nullable=False),
            sa.Column("launch", sa.Text),
            sa.Column("code_verifier", sa.Text, nullable=False),
            sa.Column("nonce", sa.Text),
            sa.Column("scope", sa.Text, nullable=False),
            sa.Column("server", sa.Text, nullable=False),
            sa.Column("expires_at", sa.BigInteger, nullable=False),
        )
    if _missing("launch_session"):
        op.create_table(
            "launch_session",
            sa.Column("handle", sa.String(64), primary_key=True),
            sa.Column("secret_hash", sa.String(64), nullable=False),
            sa.Column("iss", sa.Text, nullable=False),
            sa.Column("client_iss", sa.Text),
            sa.Column("token_endpoint", sa.Text),
            sa.Column("access_token", sa.Text),
            sa.Column("refresh_token", sa.Text),
            sa.Column("token_expires_at", sa.BigInteger),
            sa.Column("patient_id", sa.Text, nullable=False),
            sa.Column("encounter_id", sa.Text),
            sa.Column("fhir_user", sa.Text),
            sa.Column("scope", sa.Text, nullable=False),
            sa.Column("app_context", sa.Text),
            sa.Column("need_patient_banner", sa.Boolean, nullable=False),
            sa.Column("tenant", sa.Text),
            sa.Column("created_at", sa.BigInteger, nullable=False),
            sa.Column("expires_at", sa.BigInteger, nullable=False),
            sa.Column("refresh_lock_until", sa.BigInteger),
        )


def downgrade() -> None:
    for name in ("launch_session", "launch_pending", "cds_seen_jti", "cds_snoozes", "cds_feedback", "cds_issued_cards"):
        op.drop_table(name)
