"""The names FHIR releases other than R4 give the resource types PainPlan reads as R4's: one table, which the record
reader reads each by, the plan page's searches accept in an answer, and the population export never asks for."""

from __future__ import annotations

# DSTU2's order for a medicine (STU3 renamed it MedicationRequest).
ORDER_NAMES = ("MedicationOrder",)
# STU3's and DSTU2's orders for a test or procedure and referrals, each read as one R4 ServiceRequest.
SERVICE_REQUEST_NAMES = ("ProcedureRequest", "ReferralRequest")
# DSTU2's lab order, read as one ServiceRequest per test it orders.
DIAGNOSTIC_ORDER = "DiagnosticOrder"
# R5's ballots' name for MedicationStatement.
STATEMENT_NAMES = ("MedicationUsage",)
# Each of them by the R4 type the record reads it as: a server of that release answers a search for the R4 type with it.
READ_AS: dict[str, str] = {
    **dict.fromkeys(ORDER_NAMES, "MedicationRequest"),
    **dict.fromkeys((*SERVICE_REQUEST_NAMES, DIAGNOSTIC_ORDER), "ServiceRequest"),
    **dict.fromkeys(STATEMENT_NAMES, "MedicationStatement"),
}
# Every one of them: types an R4 server does not have (a Bulk Data kick-off naming one may be refused).
NOT_R4 = frozenset(READ_AS)


def names_read_as(r4_type: str) -> frozenset[str]:
    """The other releases' names of the types the record reads as this R4 type."""
    return frozenset(name for name, read_as in READ_AS.items() if read_as == r4_type)
