"""A resource carrying a modifier extension PainPlan does not understand is named, never read as what it says."""

from __future__ import annotations

from typing import Any

from builders import days_ago, med_request, observation
from cds_support import bundle, full_prefetch, hook_request, make_app, oxycodone_draft, topics

COCAINE = "14314-9"  # Benzoylecgonine [Presence] in Urine by Screen method
RETRACTED = "https://lab.example.org/fhir/StructureDefinition/result-retracted"
NOT_GIVEN = "https://ehr.example.org/fhir/StructureDefinition/not-given"


def _post(tmp_path: Any, body: dict[str, Any]) -> dict[str, Any]:
    response = make_app(tmp_path).test_client().post("/cds-services/order-sign", json=body)
    assert response.status_code == 200
    return response.json


def _card_text(answer: dict[str, Any], topic: str) -> str:
    card = next(c for c in answer["cards"] if c["source"]["topic"]["code"] == topic)
    return f"{card['summary']} {card.get('detail', '')}"


def test_a_retracted_positive_result_fires_no_unexpected_result_card_and_is_named(tmp_path):
    result = observation(COCAINE, when=days_ago(20), value_string="Positive")
    result["id"] = "uds1"
    result["modifierExtension"] = [{"url": RETRACTED, "valueBoolean": True}]
    draft = med_request("1049621", draft=True, id="ox1", supply_days=5)
    answer = _post(tmp_path, hook_request(drafts=[draft], prefetch=full_prefetch("order-sign", udsLabs=bundle(result))))
    assert "unexpected-uds-result" not in topics(answer)
    text = _card_text(answer, "data-incomplete")
    assert "Observation/uds1" in text and RETRACTED in text


def test_a_draft_under_an_unknown_modifier_is_named_as_not_checked_and_not_counted(tmp_path):
    plain = _post(tmp_path, hook_request(drafts=[oxycodone_draft()]))
    assert plain["cards"] and "data-incomplete" not in topics(plain), topics(plain)  # checked when plain
    draft = oxycodone_draft()
    draft["modifierExtension"] = [{"url": NOT_GIVEN, "valueBoolean": True}]
    answer = _post(tmp_path, hook_request(drafts=[draft]))
    assert topics(answer) == ["data-incomplete"], topics(answer)
    text = _card_text(answer, "data-incomplete")
    assert "draft order 1" in text and NOT_GIVEN in text and "not checked" in text


def test_a_modifier_extension_with_no_url_is_still_named(tmp_path):
    draft = oxycodone_draft()
    draft["modifierExtension"] = [{"valueBoolean": True}]
    answer = _post(tmp_path, hook_request(drafts=[draft]))
    assert topics(answer) == ["data-incomplete"], topics(answer)
