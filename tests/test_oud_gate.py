"""The OUD medication `oud-treatment` could not count is named where that check judges the patient (an active OUD
diagnosis, the check on for the hook): a naltrexone injection given for alcohol use, on a chart with no OUD
diagnosis, was named "not counted as treatment" on the data-incomplete card of every hook. And an OUD medicine's
fill the check does not count as treatment (status unknown, or dated after today) is named on the OUD card, which
said "no pharmacy fill" while the data-incomplete card named the fill."""

from __future__ import annotations

from typing import Any

from builders import ICD10, PATIENT_ID, RXNORM, card, days_ago, run
from test_oud_unknown_status import oud_diagnosis, sublocade_given

from guideline.checks.oud_treatment import CHECK_ID as OUD_CHECK
from guideline.fhirdata import HCPCS
from guideline.named_gaps import NAMED_GAPS, ON_CARD
from guideline.plan import build_plan
from guideline.population.standing import uncounted_doses

SUBOXONE_FILM = "1010604"  # buprenorphine 8 MG / naloxone 2 MG Sublingual Film
OUD_KINDS = ("unknown-status-doses", "future-dated-doses", "uncounted-administrations")


def alcohol_use_disorder() -> dict[str, Any]:
    """Epic's problem-list entry for alcohol dependence (ICD-10-CM F10.20), active: no OUD."""
    return {
        **oud_diagnosis(),
        "id": "eAUD.1",
        "code": {"coding": [{"system": ICD10, "code": "F10.20", "display": "Alcohol dependence, uncomplicated"}]},
    }


def naltrexone_injection(status: str = "unknown", day: str = "2026-05-02", ident: str = "eJ2315.4") -> dict[str, Any]:
    """Vivitrol billed in clinic (HCPCS J2315), as Epic sends the charge, on `day`."""
    return {
        "resourceType": "Procedure",
        "id": ident,
        "status": status,
        "code": {
            "coding": [{"system": HCPCS, "code": "J2315", "display": "Injection, naltrexone, depot form, 1 mg"}],
            "text": "Naltrexone ER injection",
        },
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
        "performedDateTime": f"{day}T09:30:00-05:00",
    }


def undated_sublocade() -> dict[str, Any]:
    return {k: v for k, v in sublocade_given("completed").items() if k != "effectiveDateTime"}


def suboxone_fill(status: str, handed_over: str) -> dict[str, Any]:
    """A Suboxone film fill as Epic's dispense feed sends it: 14 films for 14 days."""
    return {
        "resourceType": "MedicationDispense",
        "id": "eMD.suboxone",
        "status": status,
        "medicationCodeableConcept": {
            "coding": [{"system": RXNORM, "code": SUBOXONE_FILM}],
            "text": "buprenorphine-naloxone 8-2 mg SL film",
        },
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
        "quantity": {"value": 14},
        "daysSupply": {"value": 14, "unit": "day"},
        "whenHandedOver": f"{handed_over}T15:00:00-05:00",
    }


def _named(evaluation) -> dict[str, tuple[str, ...]]:
    view = build_plan(evaluation, (), evaluation.facts.config, evaluation.facts.now)
    return {kind: view.named[kind] for kind in OUD_KINDS}


def _data_incomplete(evaluation) -> str:
    """The items the data-incomplete card lists: the faces build that card, not the engine, so the evaluation holds
    no such card to read (asked for one, these assertions held for any chart)."""
    return "\n".join(item for kind in ON_CARD for item in kind.card_named(evaluation.facts))


DOSES = (naltrexone_injection(), naltrexone_injection("completed", days_ago(-10), "eJ2315.5"), undated_sublocade())


def test_oud_doses_are_not_named_for_a_patient_with_no_oud_diagnosis() -> None:
    evaluation = run("patient-view", resources=[alcohol_use_disorder(), *DOSES])
    assert _named(evaluation) == dict.fromkeys(OUD_KINDS, ())
    assert "Naltrexone ER injection" not in _data_incomplete(evaluation)
    assert "Sublocade" not in _data_incomplete(evaluation)


def test_oud_doses_are_not_named_on_a_hook_the_check_is_off_for() -> None:
    config = {"checks": {"oud-treatment": {"hooks": ["order-sign"]}}}
    evaluation = run("patient-view", resources=[oud_diagnosis(), *DOSES], config=config)
    assert card(evaluation, OUD_CHECK) is None
    assert _named(evaluation) == dict.fromkeys(OUD_KINDS, ())


def test_oud_doses_are_named_where_the_check_judges_the_patient() -> None:
    evaluation = run("patient-view", resources=[oud_diagnosis(), *DOSES])
    assert "Naltrexone ER injection" in _data_incomplete(evaluation)
    assert "Sublocade" in _data_incomplete(evaluation)
    named = _named(evaluation)
    assert named["unknown-status-doses"] == (
        "Naltrexone ER injection (procedure eJ2315.4), status unknown, dated 2026-05-02",
    )
    assert len(named["future-dated-doses"]) == 1
    assert named["uncounted-administrations"] == (
        "Sublocade 300 mg/1.5 mL injection (administration eMA.sublocade), no date",
    )


def test_an_oud_fill_of_unknown_status_is_named_on_the_oud_card_and_beside_the_population_finding() -> None:
    evaluation = run("patient-view", resources=[oud_diagnosis(), suboxone_fill("unknown", days_ago(10))])
    found = card(evaluation, OUD_CHECK)
    assert found is not None  # not handed over as far as the record says: no treatment
    item = f"buprenorphine-naloxone 8-2 mg SL film (fill eMD.suboxone), filled {days_ago(10)}"
    assert item in found.detail
    assert "No buprenorphine, methadone or naltrexone treatment could be counted in the last 90 days" in found.detail
    assert any(line.startswith(f"{item}: ") for line in uncounted_doses(evaluation.facts))


def test_an_oud_fill_dated_after_today_is_named_on_the_oud_card_and_beside_the_population_finding() -> None:
    evaluation = run("patient-view", resources=[oud_diagnosis(), suboxone_fill("completed", days_ago(-5))])
    found = card(evaluation, OUD_CHECK)
    assert found is not None
    item = f"buprenorphine-naloxone 8-2 mg SL film (fill eMD.suboxone), dated {days_ago(-5)}, after today"
    assert item in found.detail
    assert any(line.startswith(f"{item}: ") for line in uncounted_doses(evaluation.facts))


def test_the_undated_administrations_entry_speaks_of_undated_doses_only() -> None:
    entry = next(kind for kind in NAMED_GAPS if kind.key == "uncounted-administrations")
    assert entry.card is not None and entry.page is not None
    for text in (entry.card.why, entry.page.one, entry.page.many, entry.note):
        assert "unknown status" not in text


def test_beside_an_undated_dose_listed_the_card_says_none_could_be_counted() -> None:
    undated_bundle = {k: v for k, v in naltrexone_injection().items() if k != "performedDateTime"}
    evaluation = run("patient-view", resources=[oud_diagnosis(), undated_bundle])
    found = card(evaluation, OUD_CHECK)
    assert found is not None
    assert "status unknown, no date" in found.detail
    assert "No buprenorphine, methadone or naltrexone treatment could be counted in the last 90 days" in found.detail
