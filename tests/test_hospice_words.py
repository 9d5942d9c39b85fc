"""Hospice care known by its words alone reads the same wherever it is written: a site's visit type, a discharge
disposition (G5) or a problem-list entry with no code (G4). The visit and disposition reader and the problem-list
reader had word lists of their own: each read as hospice care words the other knew were not ("Hospice refused" and
"Hospice planning visit" as a visit type, "HOSPICE EVAL" and "Pre-hospice" as a diagnosis), and each such reading
switched every safety check off."""

from __future__ import annotations

from typing import Any

import pytest
from builders import SNOMED, card, condition, days_ago, encounter, med_request, run

EPIC_VISIT_TYPE = "urn:oid:1.2.840.114350.1.13.0.1.7.10.698084.30"
EPIC_DISPOSITION = "urn:oid:1.2.840.114350.1.13.0.1.7.10.698084.18888"
OXYCODONE = "1049621"  # 2 tablets of 5 mg every 4 hours = 90 MME/day: a critical high-mme card unless excluded

HOSPICE_CARE = [
    "Hospice",
    "Hospice - Home",
    "HOSPICE HOME VISIT",
    "Hospice enrollment",
    "Discharged/transferred to Hospice - home",  # NUBC 50's own words
    "Discharged to hospice",
    "Discharge to home hospice",
]
NOT_HOSPICE_CARE = [
    "Non-hospice home health visit",
    "Not hospice",
    # before care: referred, evaluated, informed, considered, planned or discussed
    "Hospice Referral",
    "HOSPICE EVAL",
    "Hospice Informational Visit",
    "Pre-hospice visit",
    "Hospice consult",
    "Hospice eligibility visit",
    "Hospice candidate",
    "Hospice planning visit",
    "Hospice discussion",
    # declined, or ended
    "Hospice - declined",
    "Hospice refused",
    "Hospice revocation",
    "Hospice services discontinued",
    "Hospice services ended",
    "Hospice services stopped",
    "Withdrew from hospice",
    "No longer in hospice",
    "Discharged from hospice",
    "Hospice discharge",
    "Hospice discharge to home",
    # past
    "Former hospice patient",
]
# A visit's type names the service given at the visit, and the visit's own dates say when: the words that make a
# problem-list entry a past or a plan are, on a visit type, hospice care ("prior" is a prior authorisation, "history"
# a history and physical, a plan of care the hospice team's). Read as no hospice care, each gave a hospice patient
# every card.
CARE_ON_A_VISIT_ONLY = [
    "Hospice Plan of Care",
    "Hospice visit (prior auth)",
    "Hospice - Advance Care",
    "HOSPICE HISTORY AND PHYSICAL",
    "Hospice care (history)",
]
PHRASES = [pytest.param(words, True, id=words) for words in HOSPICE_CARE] + [
    pytest.param(words, False, id=words) for words in NOT_HOSPICE_CARE
]
VISIT_PHRASES = PHRASES + [pytest.param(words, True, id=words) for words in CARE_ON_A_VISIT_ONLY]
ENTRY_PHRASES = PHRASES + [pytest.param(words, False, id=words) for words in CARE_ON_A_VISIT_ONLY]


def exclusions(*resources: dict[str, Any]) -> list[str]:
    """The general exclusions that apply to an order-sign of a 90 MME/day oxycodone draft with these resources."""
    draft = med_request(OXYCODONE, draft=True, id="ox1", dose=2, period=4)
    evaluation = run("order-sign", drafts=[draft], resources=list(resources))
    names = [f.name for f in evaluation.facts.exclusions]
    assert (card(evaluation, "high-mme") is None) is bool(names)
    return names


@pytest.mark.parametrize(("words", "care"), VISIT_PHRASES)
def test_a_visit_type_named_so(words: str, care: bool) -> None:
    visit = encounter(start=days_ago(1))
    visit["type"] = [{"coding": [{"system": EPIC_VISIT_TYPE, "code": "1012", "display": words}]}]
    assert exclusions(visit) == (["hospice_palliative"] if care else [])


@pytest.mark.parametrize(("words", "care"), PHRASES)
def test_a_discharge_disposition_named_so(words: str, care: bool) -> None:
    stay = encounter(start=days_ago(20))
    stay["hospitalization"] = {
        "dischargeDisposition": {"coding": [{"system": EPIC_DISPOSITION, "code": "7", "display": words}]}
    }
    assert exclusions(stay) == (["hospice_palliative"] if care else [])


@pytest.mark.parametrize(("words", "care"), ENTRY_PHRASES)
def test_a_problem_list_entry_in_words_only(words: str, care: bool) -> None:
    entry = condition(SNOMED, "0", clinical="active")
    entry["code"] = {"text": words}
    assert exclusions(entry) == (["terminal_condition"] if care else [])


ORACLE_TENANT = "ec2458f2-1e24-41c8-b71b-0e701af7583d"


def test_an_oracle_hospice_visit_named_by_its_service_type_and_text() -> None:
    # Oracle Health (Cerner) sends its encounter type and medical service as its own code sets, with the text the
    # site wrote: a hospice nurse's visit whose service says a prior authorisation is still hospice care.
    visit = encounter(start=days_ago(3))
    visit["class"] = {
        "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
        "code": "HH",
        "display": "home health",
    }
    visit["type"] = [
        {
            "coding": [{"system": f"https://fhir.cerner.com/{ORACLE_TENANT}/codeSet/71", "code": "309313"}],
            "text": "Recurring",
        }
    ]
    visit["serviceType"] = {
        "coding": [
            {
                "system": f"https://fhir.cerner.com/{ORACLE_TENANT}/codeSet/34",
                "code": "2552961433",
                "display": "Hospice visit (prior auth)",
            }
        ],
        "text": "Hospice visit (prior auth)",
    }
    assert exclusions(visit) == ["hospice_palliative"]
    visit["serviceType"] = {"text": "Hospice Referral"}
    assert exclusions(visit) == []
