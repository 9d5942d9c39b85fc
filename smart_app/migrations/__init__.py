"""Alembic migrations of PainPlan's database (every face's tables), shipped inside the package."""
