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
# Every one of them: types an R4 server does not have (a Bulk Data kick-off naming one may be refused).
NOT_R4 = frozenset({*ORDER_NAMES, *SERVICE_REQUEST_NAMES, DIAGNOSTIC_ORDER, *STATEMENT_NAMES})
