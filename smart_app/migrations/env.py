"""Alembic environment: runs on the connection smart_app.migrate hands over (never its own URL or logging)."""

from __future__ import annotations

from alembic import context

from cds_hooks.store import metadata as cds_metadata
from launch.store import metadata as launch_metadata

target_metadata = [cds_metadata, launch_metadata]

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
