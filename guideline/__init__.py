"""PainPlan clinical logic: typed patient record, dosage, MME and the CDC checks (pure, no HTTP)."""
