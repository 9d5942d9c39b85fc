"""An opioid fill of an implausible days' supply (over `mme.max_opioid_fill_days`) whose supply, as written, ended
before today but still counts in the opioid history (opioid-naive, long-term therapy) or the plan page's 12-month MME
history is named: its real supply was probably much shorter, so it may be what made the patient not opioid-naive."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from builders import NOW, RXNORM, UCUM, patient
from cds_support import bundle, full_prefetch, hook_request, make_app, topics
from markupsafe import escape
from werkzeug.datastructures import MultiDict

from smart_app.plan_view import PageInput, assemble, render_page

MORPHINE_ER_15 = "891881"  # morphine sulfate 15 MG Extended Release Oral Tablet
OXYCODONE_5 = "1049621"


def keyed_in_fill(handed_over: str, days: int, ident: str = "rx-4471-00") -> dict[str, Any]:
    """An Oracle Health pharmacy dispense of oxycodone 5 mg #120 whose days' supply is the quantity keyed in: 120."""
    return {
        "resourceType": "MedicationDispense",
        "id": ident,
        "status": "completed",
        "medicationCodeableConcept": {
            "coding": [{"system": RXNORM, "code": OXYCODONE_5, "display": "oxycodone HCl 5 MG Oral Tablet"}],
            "text": "oxyCODONE 5 mg oral tablet",
        },
        "subject": {"reference": "Patient/p1"},
        "quantity": {"value": 120, "unit": "tab", "system": UCUM, "code": "{tbl}"},
        "daysSupply": {"value": days, "unit": "day", "system": UCUM, "code": "d"},
        "whenHandedOver": handed_over,
    }


def morphine_er_draft() -> dict[str, Any]:
    """The order being signed: morphine ER 15 mg every 12 hours, a long-acting opioid for an opioid-naive patient."""
    return {
        "resourceType": "MedicationRequest",
        "id": "draft-mser",
        "status": "draft",
        "intent": "order",
        "subject": {"reference": "Patient/p1"},
        "authoredOn": NOW.isoformat(),
        "medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": MORPHINE_ER_15}]},
        "dosageInstruction": [
            {
                "timing": {"repeat": {"frequency": 1, "period": 12, "periodUnit": "h"}},
                "doseAndRate": [{"doseQuantity": {"value": 1, "unit": "tablet", "system": UCUM, "code": "{tbl}"}}],
            }
        ],
        "dispenseRequest": {"expectedSupplyDuration": {"value": 30, "unit": "days", "system": UCUM, "code": "d"}},
    }


# Handed over on 2 January 2026 with 120 days' supply: read as written it ran to 1 May, 45 days before today (15
# June), inside the 90 days the opioid history reads; #120 of 5 mg was probably 30 days, ended on 31 January.
ENDED_IN_THE_LOOK_BACK = "2026-01-02T15:20:00-05:00"


def order_sign(tmp_path: Path, fill: dict[str, Any]) -> dict[str, Any]:
    """The order-sign answer for signing morphine ER with the fill in the pharmacy data."""
    body = hook_request(drafts=[morphine_er_draft()], prefetch=full_prefetch("order-sign", dispenses=bundle(fill)))
    return make_app(tmp_path).test_client().post("/cds-services/order-sign", json=body).json


def test_a_fill_that_ended_in_the_look_back_is_named_where_it_changes_the_opioid_history(tmp_path: Path) -> None:
    response = order_sign(tmp_path, keyed_in_fill(ENDED_IN_THE_LOOK_BACK, 120))
    # The fill, as written, makes the patient not opioid-naive: no long-acting-for-a-naive-patient card. The answer
    # must say why, since the patient may well be opioid-naive.
    assert "er-la-opioid-naive" not in topics(response)
    detail = next(c for c in response["cards"] if c["source"]["topic"]["code"] == "data-incomplete")["detail"]
    assert (
        "oxyCODONE 5 mg oral tablet (pharmacy fill rx-4471-00, days' supply 120, filled 2026-01-02, read as supplying "
        "to 2026-05-01): that days' supply looks implausible for an opioid fill"
    ) in detail


def test_the_same_fill_within_ninety_days_is_not_named(tmp_path: Path) -> None:
    response = order_sign(tmp_path, keyed_in_fill(ENDED_IN_THE_LOOK_BACK, 90))
    assert "looks implausible" not in str(response)


def test_a_fill_that_ended_before_the_look_back_is_not_on_the_card(tmp_path: Path) -> None:
    # Handed over 1 October 2025 for 120 days: to 28 January 2026, before the 90 days; only the MME history reads it.
    response = order_sign(tmp_path, keyed_in_fill("2025-10-01T10:00:00-04:00", 120))
    assert "er-la-opioid-naive" in topics(response)
    assert "looks implausible" not in str(response)


def test_the_plan_page_names_a_fill_its_mme_history_draws(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    settings = app.config["PAINPLAN"]
    fill = keyed_in_fill("2025-10-01T10:00:00-04:00", 120)
    with app.test_request_context("/plan"):
        view = assemble(PageInput((patient(), fill), (), ()), settings.guideline, "p1", NOW, MultiDict())
        page = render_page(view, MultiDict(), lambda **_: "/plan", handle="H")
    panel = re.search(r'<section id="completeness".*?</section>', page, re.S)
    assert panel is not None
    named = "(pharmacy fill rx-4471-00, days' supply 120, filled 2025-10-01, read as supplying to 2026-01-28)"
    assert str(escape(named)) in panel.group(0)
