"""`painplan population`: engines (DuckDB, Spark), tables, letters and the dashboard over guideline.population."""
