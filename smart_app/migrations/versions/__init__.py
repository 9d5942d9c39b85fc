"""Alembic revisions, oldest first: 0001 is the schema the app created before migrations existed."""
