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
