"""Write-back from the plan page: forms to FHIR resources, validation, CSRF and the writes to the EHR."""
