"""Write-back names the visit: the records a clinician saves from a launch in an encounter point at that encounter."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import responses
from fhir.resources.R4B import get_fhir_model_class
from launch_support import PUBLIC_URL
from test_write_back import CONTEXT, PEG, WRITE_SCOPE, _launch, _token

from smart_app.write.forms import agreement, decision, goal, note, peg

VISIT = {"reference": "Encounter/enc-77"}  # the encounter launch_support's EHR launches the page in
FORMS = {
    "peg": PEG,
    "note": {"note_text": "Plan reviewed with the patient."},
    "decision": {"decision": "continue", "reasons": "Goals met, no harms", "follow_up": "2026-09-15"},
    "goal": {"goal_kind": "function", "description": "Walk 20 minutes"},
    "agreement": {"date": "2026-06-15"},
}


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def _encounters(resource: dict[str, Any]) -> list[Any]:
    """Every reference to an encounter the record carries, wherever R4 puts it."""
    found = [resource["encounter"]] if "encounter" in resource else []
    return found + list(resource.get("context", {}).get("encounter", []))


def test_the_peg_score_the_note_and_the_plan_name_the_visit_they_were_recorded_in(tmp_path, rsps) -> None:
    """Saved from a launch in a visit, the PEG score, the note and the decision named the patient and no encounter:
    Epic files a clinical note and a flowsheet row in an encounter, and a record with none is refused or lands outside
    the visit. R4 gives Goal and Consent no encounter element: they name none, and stay valid R4."""
    client, chart, handle, page, _ = _launch(tmp_path, rsps, WRITE_SCOPE)
    for form, values in FORMS.items():
        answer = client.post(
            f"/plan/write/{form}?s={handle}", data={**values, "csrf_token": _token(page)}, base_url=PUBLIC_URL
        )
        assert answer.status_code == 303, form
    written = {body["resourceType"]: body for _, _, body in chart.received}
    assert set(written) == {"Observation", "DocumentReference", "CarePlan", "Goal", "Consent"}
    assert written["Observation"]["encounter"] == VISIT
    assert written["DocumentReference"]["context"] == {"encounter": [VISIT]}
    assert written["CarePlan"]["encounter"] == VISIT
    for kind, body in written.items():
        get_fhir_model_class(kind).model_validate(body)
        assert _encounters(body) == ([] if kind in ("Goal", "Consent") else [VISIT])
        assert "walter-brooks" in str(body.get("subject") or body.get("patient"))


def test_a_launch_with_no_encounter_writes_none() -> None:
    """A standalone launch (no encounter in the token response) names no visit rather than a made-up one."""
    built = [
        peg(PEG, CONTEXT),
        note(FORMS["note"], CONTEXT),
        decision(FORMS["decision"], CONTEXT),
        goal(FORMS["goal"], CONTEXT),
        agreement({**FORMS["agreement"], "agreement_kind": "consent"}, CONTEXT),
    ]
    assert all(b.resource is not None and _encounters(b.resource) == [] for b in built)
