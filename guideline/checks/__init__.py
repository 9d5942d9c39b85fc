"""The CDC opioid checks, one module per check."""
