"""A sig's doses by time of day against the order's coded frequency (clinical-logic, "How a dose is read", several
doses a day). "1 tab every morning and 2 tabs at bedtime" on an order coded QID is 3 tablets a day by its words and 4
by its coded dose and frequency: the larger counts, for the MME and the days' supply alike, and the disagreement is
named. Before, the words replaced the coded frequency without a word (3 a day counted)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from cds_support import PATIENT_ID, bundle, full_prefetch, hook_request, make_app
from fixtures.mme.helpers import EPIC_TYPE, GTS, RXNORM, UCUM, med_request, mme, orders, qty, terms

from guideline.config import GuidelineConfig
from guideline.mme import OrderMme
from guideline.supply import daily_units, order_supply

OXY_5 = "1049621"  # oxycodone hydrochloride 5 MG Oral Tablet
OXY_15 = "1049611"  # oxycodone hydrochloride 15 MG Oral Tablet
CERNER_FREQUENCY = "https://fhir-ehr.cerner.com/r4/ec2458f2-1e24-41c8-b71b-0e701af7583d/codeSet/4003"
SIG = "1 tab every morning and 2 tabs at bedtime"
# Epic's frequency record names as it sends them in timing.code.text.
EPIC_FREQUENCY_NAMES = {
    "QD": "Daily",
    "BID": "2 times daily",
    "TID": "3 times daily",
    "QID": "4 times daily",
    "Q6H": "every 6 hours",
}
NAMED = (
    "the instructions give 3 tablets a day by time of day but the coded frequency gives 4 tablets a day (1 tablet 4 "
    "times a day); counted 4 tablets a day"
)


def epic_order(
    sig: str = SIG,
    *,
    code: str = "QID",
    frequency: int = 4,
    rxcui: str = OXY_5,
    strength_mg: int = 5,
    status: str = "active",
    id: str = "eRx1",
    dispense: dict[str, Any] | None = None,
    tablets: int = 1,
) -> dict[str, Any]:
    """An Epic MedicationRequest: the sig in dosageInstruction.text, the frequency record as a GTS code with its
    repeat, and the coded dose as Epic sends it (calculated in mg, admin amount in tablets; the sig's first dose
    unless `tablets` says otherwise)."""
    resource = med_request(
        None,
        [
            {
                "text": sig,
                "patientInstruction": sig,
                "timing": {
                    "repeat": {"frequency": frequency, "period": 1, "periodUnit": "d"},
                    "code": {"coding": [{"system": GTS, "code": code}], "text": EPIC_FREQUENCY_NAMES[code]},
                },
                "route": {"text": "Oral"},
                "doseAndRate": [
                    {
                        "type": {"coding": [{"system": EPIC_TYPE, "code": "calculated", "display": "calculated"}]},
                        "doseQuantity": {"value": strength_mg * tablets, "unit": "mg", "system": UCUM, "code": "mg"},
                    },
                    {
                        "type": {"coding": [{"system": EPIC_TYPE, "code": "admin-amount", "display": "admin-amount"}]},
                        "doseQuantity": {"value": tablets, "unit": "tablet", "system": UCUM, "code": "{tbl}"},
                    },
                ],
            }
        ],
        id=id,
        status=status,
        medicationCodeableConcept={
            "text": f"oxyCODONE (ROXICODONE) {strength_mg} MG immediate release tablet",
            "coding": [
                {"system": RXNORM, "code": rxcui, "display": f"oxycodone hydrochloride {strength_mg} MG Oral Tablet"}
            ],
        },
        subject={"reference": f"Patient/{PATIENT_ID}", "display": "Test, Patient"},
        category=[
            {
                "coding": [
                    {"system": "http://terminology.hl7.org/CodeSystem/medicationrequest-category", "code": "community"}
                ]
            }
        ],
        dispenseRequest=dispense or {"expectedSupplyDuration": {"value": 30, "unit": "Day", "code": "d"}},
    )
    return resource


def oracle_order(sig: str, frequency: int, display: str, id: str = "oRx1") -> dict[str, Any]:
    """An Oracle Health (Cerner) MedicationRequest: the sig with the dose in mg and tablets, the frequency as the
    site's own code (display only) beside its repeat, the dose in mg."""
    return med_request(
        OXY_5,
        [
            {
                "text": sig,
                "timing": {
                    "repeat": {"frequency": frequency, "period": 1, "periodUnit": "d"},
                    "code": {"coding": [{"system": CERNER_FREQUENCY, "code": "696531", "display": display}]},
                },
                "doseAndRate": [{"doseQuantity": {"value": 5, "unit": "mg", "system": UCUM, "code": "mg"}}],
            }
        ],
        id=id,
        dispense={"quantity": qty(90, "tab"), "numberOfRepeatsAllowed": 0},
    )


def _only(*resources: dict[str, Any]) -> OrderMme:
    (order,) = mme(*resources).orders
    return order


# ---- the coded frequency gives more than the sig: the coded dose counts, and is named ----


def test_an_epic_order_coded_qid_whose_sig_gives_3_tablets_counts_4_and_names_it() -> None:
    """Oxycodone 5 mg QID, 1 tablet: 20 mg, 30.0 MME/day (the sig alone, 3 tablets, was 22.5 and said nothing)."""
    order = _only(epic_order())
    assert (order.state, order.mme) == ("ok", Decimal(30)), order.explanation
    assert order.daily_dose_text == "20 mg oxycodone/day"
    assert order.explanation == (
        "oxyCODONE (ROXICODONE) 5 MG immediate release tablet: 1 tablet 4 times a day = 20 mg/day oxycodone × 1.5 = "
        f"30.0 MME/day; {NAMED}, check which is meant"
    )
    assert [a.text for a in order.sig_against_code] == [NAMED]


def test_the_coded_frequency_as_repeat_alone_is_read_the_same() -> None:
    resource = epic_order()
    del resource["dosageInstruction"][0]["timing"]["code"]
    order = _only(resource)
    assert order.mme == Decimal(30)
    assert [a.text for a in order.sig_against_code] == [NAMED]


def test_an_oracle_order_coded_4_times_a_day_with_its_sig_in_mg_and_tablets() -> None:
    order = _only(oracle_order("5 mg = 1 tab, Oral, every morning; 10 mg = 2 tab, Oral, at bedtime", 4, "4x/day"))
    assert order.mme == Decimal(30), order.explanation
    assert [a.text for a in order.sig_against_code] == [NAMED]


# ---- the sig gives more than the coded frequency: the sig counts, and is named ----


def test_a_sig_giving_more_than_a_once_a_day_code_counts_the_sig_and_names_it() -> None:
    order = _only(epic_order(code="QD", frequency=1))
    assert order.mme == Decimal("22.5"), order.explanation
    assert "1 tablet every morning + 2 tablets at bedtime (3 tablets a day)" in order.explanation
    assert [a.text for a in order.sig_against_code] == [
        "the instructions give 3 tablets a day by time of day but the coded frequency gives 1 tablet a day (1 "
        "tablet once a day); counted 3 tablets a day"
    ]


# ---- agreeing: nothing named, the answer as before ----


def test_the_same_day_total_both_ways_names_nothing() -> None:
    """1 + 3 tablets at two times, coded QID of 1 tablet: 4 a day both ways."""
    order = _only(epic_order("1 tab every morning and 3 tabs at bedtime"))
    assert (order.mme, order.sig_against_code) == (Decimal(30), ())
    assert "1 tablet every morning + 3 tablets at bedtime (4 tablets a day)" in order.explanation


def test_one_dose_at_each_of_the_coded_times_names_nothing() -> None:
    order = _only(epic_order("1 tab in the morning, 1 tab at noon, 1 tab at bedtime", code="TID", frequency=3))
    assert (order.mme, order.sig_against_code) == (Decimal("22.5"), ())


def test_a_coded_frequency_with_as_many_doses_as_the_sig_names_nothing() -> None:
    """Epic structures the first of the doses by time of day with the number of times: twice a day, 1 tablet, and
    the sig's 1 + 2 tablets. The sig's sum counts, as before, and nothing disagrees."""
    order = _only(epic_order(code="BID", frequency=2))
    assert (order.mme, order.sig_against_code) == (Decimal("22.5"), ())
    oracle = _only(oracle_order("5 mg = 1 tab, Oral, every morning; 10 mg = 2 tab, Oral, at bedtime", 2, "BID"))
    assert (oracle.mme, oracle.sig_against_code) == (Decimal("22.5"), ())


DOSE_NAMED = (
    "the instructions give 3 tablets a day by time of day but the coded dose gives 6 tablets a day (3 tablets twice "
    "a day); counted 6 tablets a day"
)


def test_a_coded_dose_that_is_none_of_the_sigs_doses_counts_the_larger_and_names_it() -> None:
    """Coded twice a day, as many doses as the sig's times, but of 3 tablets, neither the sig's 1 nor its 2: 6
    tablets a day by the code against the sig's 3. Before, the sig's 3 counted (22.5 MME) and nothing was said."""
    order = _only(epic_order(code="BID", frequency=2, tablets=3))
    assert (order.state, order.mme) == ("ok", Decimal(45)), order.explanation
    assert [a.text for a in order.sig_against_code] == [DOSE_NAMED]
    assert order.explanation.endswith(f"; {DOSE_NAMED}, check which is meant")


def test_a_coded_dose_smaller_than_each_of_the_sigs_doses_counts_the_sig_and_names_it() -> None:
    resource = epic_order("2 tabs every morning and 3 tabs at bedtime", code="BID", frequency=2)
    order = _only(resource)
    assert order.mme == Decimal("37.5"), order.explanation
    assert [a.text for a in order.sig_against_code] == [
        "the instructions give 5 tablets a day by time of day but the coded dose gives 2 tablets a day (1 tablet "
        "twice a day); counted 5 tablets a day"
    ]


def test_a_coded_dose_that_is_the_sigs_second_dose_names_nothing() -> None:
    """Twice a day of 2 tablets against "1 tab every morning and 2 tabs at bedtime": the code carries one of the
    sig's doses, the structure an EHR gives doses by time of day, and the sig's 3 a day stands."""
    order = _only(epic_order(code="BID", frequency=2, tablets=2))
    assert (order.mme, order.sig_against_code) == (Decimal("22.5"), ())


# ---- the days' supply reads the same daily amount ----


def test_the_days_supply_from_the_quantity_uses_the_counted_daily_tablets() -> None:
    """120 tablets at the counted 4 a day last 30 days (at the sig's 3, 40: a different day than the MME's)."""
    resource = epic_order(dispense={"quantity": qty(120, "tablet")})
    (order,) = orders(resource)
    config = GuidelineConfig.from_mapping()
    assert daily_units(order, terms(), config) == (Decimal(4), "count")
    assert order_supply(order, terms(), config).per_fill_days == Decimal(30)


def test_the_days_supply_uses_the_sig_when_it_gives_more() -> None:
    resource = epic_order(code="QD", frequency=1, dispense={"quantity": qty(90, "tablet")})
    (order,) = orders(resource)
    assert daily_units(order, terms(), GuidelineConfig.from_mapping()) == (Decimal(3), "count")


def test_an_oracle_order_supply_counts_the_coded_tablets() -> None:
    resource = oracle_order("5 mg = 1 tab, Oral, every morning; 10 mg = 2 tab, Oral, at bedtime", 4, "4x/day")
    (order,) = orders(resource)
    assert daily_units(order, terms(), GuidelineConfig.from_mapping()) == (Decimal(4), "count")


# ---- through the service: order-sign ----


def _order_sign(tmp_path: Path, draft: dict[str, Any]) -> dict[str, Any]:
    draft["status"] = "draft"
    body = hook_request(drafts=[draft], prefetch=full_prefetch("order-sign"))
    response = make_app(tmp_path).test_client().post("/cds-services/order-sign", json=body)
    assert response.status_code == 200
    return response.json


def _card(body: dict[str, Any], topic: str) -> dict[str, Any] | None:
    return next((c for c in body["cards"] if c["source"]["topic"]["code"] == topic), None)


def test_order_sign_counts_the_coded_qid_dose_and_names_the_disagreement(tmp_path: Path) -> None:
    """Oxycodone 15 mg QID, sig 1 + 2 tablets: 60 mg, 90.0 MME/day, the critical card (the sig alone was 67.5)."""
    body = _order_sign(tmp_path, epic_order(rxcui=OXY_15, strength_mg=15, id="eDraft1"))
    high = _card(body, "high-mme")
    assert high is not None and "90.0 MME/day" in high["summary"], high
    assert high["indicator"] == "critical"
    assert NAMED in high["detail"]
    incomplete = _card(body, "data-incomplete")
    assert incomplete is not None
    assert (
        f"- oxyCODONE (ROXICODONE) 15 MG immediate release tablet (draft order eDraft1, {NAMED}): the instructions' "
        "doses by time of day and the order's coded frequency give different daily doses"
    ) in incomplete["detail"]


def test_order_sign_names_the_disagreement_below_the_dose_thresholds(tmp_path: Path) -> None:
    """5 mg: 30.0 MME/day, no dose card; the data card alone says the coded frequency and the sig disagree."""
    body = _order_sign(tmp_path, epic_order(id="eDraft2"))
    assert _card(body, "high-mme") is None
    incomplete = _card(body, "data-incomplete")
    assert incomplete is not None and f"(draft order eDraft2, {NAMED})" in incomplete["detail"]


def test_patient_view_names_a_current_order_whose_sig_and_coded_frequency_disagree(tmp_path: Path) -> None:
    prefetch = full_prefetch("patient-view", medsActive=bundle(epic_order()))
    body = hook_request("patient-view", prefetch=prefetch)
    response = make_app(tmp_path).test_client().post("/cds-services/patient-view", json=body)
    incomplete = _card(response.json, "data-incomplete")
    assert incomplete is not None
    assert (
        f"- oxyCODONE (ROXICODONE) 5 MG immediate release tablet (current order eRx1, {NAMED}): the instructions' "
        "doses by time of day and the order's coded frequency give different daily doses; the larger was counted in "
        "the MME total and the days' supply, so check which is meant\n"
    ) in incomplete["detail"]


def test_order_sign_with_agreeing_sig_and_frequency_names_nothing(tmp_path: Path) -> None:
    body = _order_sign(tmp_path, epic_order(code="BID", frequency=2, id="eDraft3"))
    incomplete = _card(body, "data-incomplete")
    assert incomplete is None or "coded frequency" not in incomplete["detail"]


def test_order_sign_names_a_coded_dose_that_is_none_of_the_sigs(tmp_path: Path) -> None:
    """Oxycodone 15 mg BID of 3 tablets, sig 1 + 2 tablets: 90 mg, 135.0 MME/day by the code (67.5 by the sig)."""
    body = _order_sign(
        tmp_path, epic_order(rxcui=OXY_15, strength_mg=15, id="eDraft4", code="BID", frequency=2, tablets=3)
    )
    high = _card(body, "high-mme")
    assert high is not None and "135.0 MME/day" in high["summary"], high
    assert DOSE_NAMED in high["detail"]
    incomplete = _card(body, "data-incomplete")
    assert incomplete is not None and f"(draft order eDraft4, {DOSE_NAMED})" in incomplete["detail"]


# ---- other shapes ----


def test_an_every_6_hours_code_says_its_doses_a_day() -> None:
    resource = epic_order(code="Q6H")
    resource["dosageInstruction"][0]["timing"]["repeat"] = {"frequency": 1, "period": 6, "periodUnit": "h"}
    order = _only(resource)
    assert order.mme == Decimal(30), order.explanation
    assert [a.text for a in order.sig_against_code] == [
        "the instructions give 3 tablets a day by time of day but the coded frequency gives 4 tablets a day (1 "
        "tablet every 6 hours, 4 a day); counted 4 tablets a day"
    ]


def test_a_liquid_in_ml_is_compared_in_ml() -> None:
    """Oxycodone 1 mg/mL, coded QID of 5 mL, sig 5 mL every morning and 10 mL at bedtime: 20 mL, 30.0 MME/day."""
    dose = {"value": 5, "unit": "mL", "system": UCUM, "code": "mL"}
    timing = {
        "repeat": {"frequency": 4, "period": 1, "periodUnit": "d"},
        "code": {"coding": [{"system": GTS, "code": "QID"}]},
    }
    resource = med_request(
        "1049604",
        [
            {
                "text": "5 mL every morning and 10 mL at bedtime",
                "timing": timing,
                "doseAndRate": [{"doseQuantity": dose}],
            }
        ],
    )
    order = _only(resource)
    assert order.mme == Decimal(30), order.explanation
    assert [a.text for a in order.sig_against_code] == [
        "the instructions give 15 mL a day by time of day but the coded frequency gives 20 mL a day (5 mL 4 times a "
        "day); counted 20 mL a day"
    ]


def test_an_stu3_epic_order_is_read_the_same() -> None:
    """STU3: the dose directly on the dosage (doseQuantity), no doseAndRate."""
    resource = epic_order()
    instruction = resource["dosageInstruction"][0]
    instruction["doseQuantity"] = instruction.pop("doseAndRate")[1]["doseQuantity"]
    order = _only(resource)
    assert order.mme == Decimal(30), order.explanation
    assert [a.text for a in order.sig_against_code] == [NAMED]


# ---- a coded schedule limited to some days of the week (timing.repeat.dayOfWeek) ----


def _on_days(resource: dict[str, Any], *days: str) -> dict[str, Any]:
    resource["dosageInstruction"][0]["timing"]["repeat"]["dayOfWeek"] = list(days)
    return resource


def test_a_coded_schedule_on_some_weekdays_larger_than_the_sig_counts_and_is_named() -> None:
    """QID on Monday to Saturday is 4 × 6/7 = 3.43 tablets a day over the week, more than the sig's 3 a day counted
    every day: the larger counts, and the disagreement is named. Before, a schedule with a dayOfWeek was left to the
    sig without a word (22.5 MME/day)."""
    order = _only(_on_days(epic_order(), "mon", "tue", "wed", "thu", "fri", "sat"))
    assert order.state == "ok"
    assert order.mme is not None and order.mme > Decimal("22.5")
    (against,) = order.sig_against_code
    assert against.coded_counted
    assert "4 times a day on Mon, Tue, Wed, Thu, Fri, Sat" in against.text


def test_a_coded_schedule_on_some_weekdays_giving_the_sig_doses_each_day_is_no_disagreement() -> None:
    """Epic codes the first dose with the sig's times a day: 1 tablet twice a day on Monday, Wednesday and Friday
    beside "1 tab every morning and 2 tabs at bedtime" agrees on each day it is taken; the sig stands, unnamed."""
    order = _only(_on_days(epic_order(code="BID", frequency=2), "mon", "wed", "fri"))
    assert order.sig_against_code == ()
    assert order.mme == Decimal("22.5")


def test_a_coded_schedule_with_an_unread_weekday_is_weighed_as_every_day() -> None:
    """A day that is no FHIR day code: the coded schedule may be every day, the most it can mean (4 tablets against
    the sig's 3), and the larger counts, named."""
    order = _only(_on_days(epic_order(), "mon", "Tuesday"))
    (against,) = order.sig_against_code
    assert against.coded == 4 and against.coded_counted
    assert order.mme == Decimal(30)
