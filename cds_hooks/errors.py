"""Error answers as FHIR OperationOutcome bodies (CDS Hooks 3.0 asks for them on every non-2xx response)."""

from __future__ import annotations

from typing import Any

FHIR_JSON = "application/fhir+json"


class RequestError(Exception):
    """A client mistake we answer with a 4xx; the message is safe to show (no tokens, no patient data)."""

    def __init__(self, status: int, message: str, code: str = "invalid") -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code


def operation_outcome(message: str, code: str = "invalid", severity: str = "error") -> dict[str, Any]:
    return {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": severity, "code": code, "diagnostics": message}],
    }
