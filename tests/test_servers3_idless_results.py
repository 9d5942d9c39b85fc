"""A lab interface's transaction Bundle (or Synthea's) sends results with no `id`, each under a `urn:uuid` fullUrl,
and a DiagnosticReport or panel that names them by that fullUrl (`result: [{"reference": "urn:uuid:…"}]`). Such a
result arrived: it is keyed by its fullUrl (`build._observation_keys_by_url`), read and judged, and the report or panel
is never named as missing it. Before, an id-less result mapped to no key, the reference was left unmatched, and the
report was named "1 of its 1 results not received" while its fentanyl positive went unjudged."""

from __future__ import annotations

from typing import Any

import pytest
from builders import PATIENT_ID, card, days_ago, med_request, run

from guideline.checks import CHECKS, unexpected_uds_result
from guideline.checks.unexpected_uds_result import CHECK_ID, unread_results

LOINC = "http://loinc.org"
PANEL = ("69739-1", "Drugs of abuse panel - Urine by Screen method")
FENTANYL = ("11235-9", "Fentanyl [Presence] in Urine by Screen method")
OXYCODONE_SCREEN = ("58430-0", "oxyCODONE+oxyMORphone [Presence] in Urine by Screen method")
OXYCODONE = "1049621"  # oxycodone hydrochloride 5 MG Oral Tablet
WHEN = days_ago(20)
URLS = ("urn:uuid:9d2f6a4e-3b1c-4e7a-8f0d-5c6b7a8e9f01", "urn:uuid:9d2f6a4e-3b1c-4e7a-8f0d-5c6b7a8e9f02")


@pytest.fixture(autouse=True)
def registered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(CHECKS, CHECK_ID, unexpected_uds_result)


def _result(code: tuple[str, str], value: str | None) -> dict[str, Any]:
    """A reference lab's result as its interface sends it in a transaction: final, LOINC-coded, and no `id`."""
    result: dict[str, Any] = {
        "resourceType": "Observation",
        "status": "final",
        "category": [
            {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "laboratory"}]}
        ],
        "code": {"coding": [{"system": LOINC, "code": code[0], "display": code[1]}], "text": code[1]},
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
        "effectiveDateTime": f"{WHEN}T08:55:00-04:00",
        "issued": f"{WHEN}T18:02:11-04:00",
    }
    if value is not None:
        result["valueString"] = value
    return result


def _report() -> dict[str, Any]:
    return {
        "resourceType": "DiagnosticReport",
        "status": "final",
        "code": {"coding": [{"system": LOINC, "code": PANEL[0], "display": PANEL[1]}], "text": PANEL[1]},
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
        "effectiveDateTime": f"{WHEN}T08:55:00-04:00",
        "issued": f"{WHEN}T18:02:11-04:00",
        "result": [{"reference": url} for url in URLS],
    }


def _panel() -> dict[str, Any]:
    return {**_result(PANEL, None), "hasMember": [{"reference": url} for url in URLS]}


def _transaction(container: dict[str, Any]) -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {"fullUrl": "urn:uuid:9d2f6a4e-3b1c-4e7a-8f0d-5c6b7a8e9f00", "resource": container},
            {"fullUrl": URLS[0], "resource": _result(FENTANYL, "Positive")},
            {"fullUrl": URLS[1], "resource": _result(OXYCODONE_SCREEN, "Positive")},
        ],
    }


@pytest.mark.parametrize("container", [_report, _panel], ids=["report", "panel"])
def test_id_less_results_named_by_their_fullurls_are_received_and_judged(container: Any) -> None:
    draft = med_request(OXYCODONE, draft=True, id="ox1", supply_days=5)
    evaluation = run("order-sign", drafts=[draft], resources=[_transaction(container())])
    assert unread_results(evaluation.facts) == ()
    unexpected = card(evaluation, CHECK_ID)
    assert unexpected is not None and "fentanyl" in unexpected.detail.lower()
