"""STU3_CODES is written out from the STU3 value sets rather than read from fhir.resources' enum_values, because
those are incomplete where it matters; where they are complete the two agree."""

from fhir.resources.STU3 import get_fhir_model_class

from cds_hooks.stu3_resources import STU3_CODES


def _model_codes(kind: str, element: str) -> frozenset[str]:
    return frozenset(get_fhir_model_class(kind).model_fields[element].json_schema_extra["enum_values"])


def test_stu3_codes_agree_with_the_models_where_the_models_list_them_all() -> None:
    for kind, element in (("MedicationRequest", "status"), ("MedicationRequest", "intent"), ("Procedure", "status")):
        assert STU3_CODES[kind, element] == _model_codes(kind, element)


def test_the_models_lack_procedure_request_codes_stu3_has() -> None:
    # Read from the models, an STU3 ProcedureRequest with status unknown or intent original-order would be dropped.
    status = _model_codes("ProcedureRequest", "status")
    intent = _model_codes("ProcedureRequest", "intent")
    assert "unknown" in STU3_CODES["ProcedureRequest", "status"] - status
    assert "original-order" in STU3_CODES["ProcedureRequest", "intent"] - intent
    assert STU3_CODES["ProcedureRequest", "status"] >= status
    assert STU3_CODES["ProcedureRequest", "intent"] >= intent - {"+"}


def test_r4_statuses_stu3_writes_otherwise_are_rewritten_for_every_request_a_template_may_hold() -> None:
    # A site's CarePlan or CommunicationRequest template on hold or revoked: STU3 says suspended or cancelled. Before,
    # only ProcedureRequest was rewritten, and the others went out with a code STU3 does not have (the models take
    # any code).
    from cds_hooks.stu3_resources import as_stu3

    for kind in ("CarePlan", "CommunicationRequest", "ProcedureRequest"):
        assert as_stu3({"resourceType": kind, "status": "on-hold"}) == (
            {"resourceType": kind, "status": "suspended"},
            None,
        )
        assert as_stu3({"resourceType": kind, "status": "revoked"})[0]["status"] == "cancelled"
    # R4's Task intent "unknown" has no STU3 code: named, so the suggestion is left out (and said on the card).
    assert as_stu3({"resourceType": "Task", "status": "requested", "intent": "unknown"})[1] == "intent"
    assert as_stu3({"resourceType": "Task", "status": "requested", "intent": "order"})[1] is None


def test_the_template_request_codes_agree_with_the_models() -> None:
    for kind, element in (("CarePlan", "status"), ("CarePlan", "intent"), ("CommunicationRequest", "status")):
        assert STU3_CODES[kind, element] == _model_codes(kind, element)
