"""CDS Hooks 2.0.1 face: discovery, services, prefetch and FHIR fallback, JWT auth, cards, feedback."""
