"""A chart holding `count` items of every kind PainPlan names as not read or not counted (an order-sign call), and
where one order's named line shows: the named kind, the data-incomplete card, the plan page's completeness panel."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from builders import (
    ICD10,
    LOINC,
    PATIENT_ID,
    RXNORM,
    SNOMED,
    condition,
    days_ago,
    dispense,
    med_request,
    observation,
    patient,
)
from cds_support import bundle, full_prefetch, hook_request, make_app, plan_page

from guideline.fhirdata import HCPCS
from guideline.named_gaps import NAMED_GAPS
from guideline.population.claims import claims_read_for_a_hook

OXYCODONE = "1049621"  # oxycodone hydrochloride 5 MG Oral Tablet
LORAZEPAM = "197901"
SUBLOCADE = "1996192"
AMOXICILLIN = "308191"  # no check reads it
AMOXICILLIN_NAME = "amoxicillin 500 MG Oral Capsule"
PDMP_REVIEW = "461621000124108"
COCAINE_SCREEN = "14314-9"
OXYCODONE_SCREEN = "58430-0"  # oxyCODONE+oxyMORphone Ur Ql Scn
SERTRALINE = "92652-7"  # Sertraline [Presence] in Urine by Confirmatory method: a drug PainPlan does not judge
CREATININE = "2161-8"  # Creatinine [Mass/volume] in Urine: a specimen validity result
CANNABINOID_SCREEN = "18282-4"  # Cannabinoids [Presence] in Urine by Screen method: not judged by default setting
FUTURE = "2026-07-01"  # builders' evaluation day is 2026-06-15
NDC = "http://hl7.org/fhir/sid/ndc"
SITE_ORDER_CLASS = {"coding": [{"system": "urn:oid:1.2.840.114350.1.13.0.1.7.10.798268.30", "code": "3"}]}
ICD10_CMS = "http://hl7.org/fhir/sid/icd-10"  # Blue Button's name for the ICD-10-CM codes it bills
HCPCS_CMS = "https://bluebutton.cms.gov/resources/codesystem/hcpcs"
PHARMACY_RX = "urn:oid:2.16.840.1.113883.3.1234.rx"  # a pharmacy system's prescription-fill number


def every_gap_drafts(count: int = 1) -> list[dict[str, Any]]:
    """The order being signed (an opioid, so every check applies), `count` new opioid orders of unknown supply, and
    `count` new orders of a codeine product whose cut name hides a word that may be carisoprodol (a sedative)."""
    signed = med_request(OXYCODONE, draft=True, id="draft-oxy", supply_days=5)
    unclassified = [
        med_request(OXYCODONE, draft=True, id=f"draft-nosupply-{n}", supply_days=None) for n in range(count)
    ]
    partly_read = [
        {
            **med_request("0", draft=True, id=f"draft-cod-partly-{n}", supply_days=5),
            "medicationCodeableConcept": {
                "coding": [
                    {"system": NDC, "code": "00603-2550-21", "display": "ASA/CARISOPRO/CODEINE TAB 325-200-16MG"}
                ]
            },
        }
        for n in range(count)
    ]
    # Amoxicillin (no check reads it): two differing drafts sharing one id, and a draft whose subject is another
    # patient; each counted and named.
    twins = [
        med_request(AMOXICILLIN, draft=True, id=f"draft-twin-{n}", supply_days=5, dose=dose, display=AMOXICILLIN_NAME)
        for n in range(count)
        for dose in (1, 2)
    ]
    elsewhere = [
        {
            **med_request(AMOXICILLIN, draft=True, id=f"draft-elsewhere-{n}", display=AMOXICILLIN_NAME),
            "subject": {"reference": "Patient/p2"},
        }
        for n in range(count)
    ]
    return [signed, *unclassified, *partly_read, *twins, *elsewhere]


def every_gap_selections(count: int = 1) -> list[str]:
    """The order-select selections: the order being signed and `count` orders that are not among the drafts."""
    return ["MedicationRequest/draft-oxy", *(f"MedicationRequest/draft-gone-{n}" for n in range(count))]


def every_gap_resources(count: int = 1) -> list[dict[str, Any]]:
    """`count` items of each kind: unidentified (current, starting later, ended in the last 90 days, and a dose given in
    them), current opioid whose MME cannot be worked out, undated fill, fill of unknown status, fill dated ahead, order
    dated to the month only, order whose date cannot be read, order of unknown status, home opioid on the list with no
    recent order, unread category, unread drug test, drug test dated ahead, drug test of a drug not judged, cannabinoid
    positive the site does not judge, specimen validity result in a unit not read, undated procedure, review dated
    ahead, evaluation of unreadable status, OUD dose given with no date, OUD dose billed of unknown status, OUD dose
    billed dated ahead, diagnosis in words only, diagnosis in words too long to read, opioid fill of an implausible
    days' supply, order of a days' supply no prescription can hold, opioid fill possibly sent twice, opioid order whose
    sig and coded frequency disagree, opioid order whose sig is too long to read, order whose medication name is too
    long to read, opioid order whose fill has no quantity, opioid order whose code and name state different drugs,
    hospice care of unknown status, benzodiazepine whose name was only partly read, two lab reports of one result whose
    conclusions disagree, a negative whose lab report's conclusion could not be read surely, a lab report whose
    conclusion was read only in part, a drug only a lab report's conclusion reports, a payer claim billing cancer with
    no date of service, a lab result known by a name too long to read, a drug test result whose lab comment was read
    only in part, an OUD medication fill still being prepared, and the patient's record replaced by others in a
    merge."""
    # An opioid use disorder: the doses given below are then the treatment the oud-treatment check looks for.
    found: list[dict[str, Any]] = [
        condition(ICD10, "F11.20", display="Opioid dependence", recorded="2024-01-10", id="c-oud")
    ]
    for n in range(count):
        found.append(
            {
                **med_request("0", id=f"mr-unknown-drug-{n}", authored=days_ago(5)),
                "medicationCodeableConcept": {"text": f"Zorblex {n + 1}0 mg tablet"},
            }
        )
        # An order written two days ago to be filled from 1 July (its earliest fill date), for a medicine nothing
        # identifies: not current yet, named as starting later.
        later = med_request("0", id=f"mr-later-unknown-{n}", authored=days_ago(2))
        later["dispenseRequest"]["validityPeriod"] = {"start": FUTURE}
        found.append({**later, "medicationCodeableConcept": {"text": f"Vexolan {n + 1} mg tablet"}})
        # An order of 40 days ago, completed, for a medicine nothing identifies: it may have been an opioid.
        ended = med_request("0", id=f"mr-ended-unknown-{n}", authored=days_ago(40), status="completed")
        found.append({**ended, "medicationCodeableConcept": {"text": f"Quorvane {n + 1} mg tablet"}})
        # A current opioid whose sig is in words only (an outside medication): its MME cannot be worked out.
        words_only = med_request(OXYCODONE, id=f"mr-sig-{n}", authored=days_ago(4), supply_days=None)
        found.append({**words_only, "dosageInstruction": [{"text": f"Take {n + 1} tablet by mouth twice a day"}]})
        undated_fill = {**dispense(OXYCODONE, days_ago(5)), "id": f"md-undated-{n}"}
        del undated_fill["whenHandedOver"]
        found.append(undated_fill)
        found.append(med_request(OXYCODONE, id=f"mr-month-{n}", authored="2026-05"))  # may last until 29 June
        # A current lorazepam order whose authoredOn cannot be read as a date: counted as current, named.
        found.append(med_request(LORAZEPAM, id=f"mr-bad-date-{n}", authored=f"2026-13-{45 + n}", period=8))
        # Each fill its own prescription-fill number: otherwise the copies of one fill sent twice, read once.
        status_fill = {**dispense(LORAZEPAM, days_ago(4), status="unknown"), "id": f"md-status-{n}"}
        found.append({**status_fill, "identifier": [{"system": PHARMACY_RX, "value": f"RX-status-{n}"}]})
        found.append(
            {
                **dispense(OXYCODONE, FUTURE),
                "id": f"md-ahead-{n}",
                "identifier": [{"system": PHARMACY_RX, "value": f"RX-ahead-{n}"}],
            }
        )
        # The quantity keyed in as the days' supply (#180 for 180 days): read as 1 tablet a day, named. Each on a
        # prescription of its own (none in this record), so that the two do not queue one after the other.
        long_fill = {**dispense(OXYCODONE, days_ago(6), 180), "id": f"md-long-{n}", "quantity": {"value": 180}}
        long_fill["identifier"] = [{"system": PHARMACY_RX, "value": f"RX-long-{n}"}]
        found.append({**long_fill, "authorizingPrescription": [{"reference": f"MedicationRequest/outside-{n}"}]})
        found.append(med_request(LORAZEPAM, id=f"mr-status-{n}", authored=days_ago(10), status="unknown", period=8))
        found.extend(_possibly_sent_twice(n))
        # A home opioid on the active list, written down 200 days ago with no end: not counted in MME, named.
        home = med_request(OXYCODONE, id=f"mr-home-{n}", authored=days_ago(200), supply_days=None, intent="plan")
        found.append({**home, "reportedBoolean": True})
        site_class = med_request(OXYCODONE, id=f"mr-class-{n}", authored=days_ago(3), category=None)
        found.append({**site_class, "category": [SITE_ORDER_CLASS]})
        unread = observation(COCAINE_SCREEN, when=days_ago(40 + n), value_string="Inconclusive")
        found.append({**unread, "id": f"obs-inconclusive-{n}"})
        ahead = observation(COCAINE_SCREEN, when=FUTURE, value_string="Negative")
        found.append({**ahead, "id": f"obs-ahead-{n}"})
        not_judged = observation(SERTRALINE, when=days_ago(30 + n), value_string="Positive")
        found.append({**not_judged, "id": f"obs-not-judged-{n}"})
        left_out = observation(CANNABINOID_SCREEN, when=days_ago(20 + n), value_string="Positive")
        found.append({**left_out, "id": f"obs-left-out-{n}"})
        # A negative cocaine screen whose specimen's creatinine came with no unit: its validity not judged, named.
        collected, specimen = (
            {"effectiveDateTime": f"{days_ago(50 + n)}T09:14:00-05:00"},
            {"reference": f"Specimen/s{n}"},
        )
        screened = observation(COCAINE_SCREEN, value_string="Negative")
        found.append({**screened, **collected, "id": f"obs-screened-{n}", "specimen": specimen})
        creatinine = observation(CREATININE, value_quantity=15 + n)
        creatinine["code"]["text"] = "Creatinine Ur"
        found.append({**creatinine, **collected, "id": f"obs-creatinine-{n}", "specimen": specimen})
        found.append(_procedure(f"pr-age-{n}", performedAge={"value": 55 + n, "unit": "years"}))
        found.append(_procedure(f"pr-ahead-{n}", performedDateTime=f"{FUTURE}T10:00:00-04:00"))
        found.append(_dose_with_no_date(f"ma-undated-{n}"))
        found.append(_dose_not_identified(f"ma-unknown-{n}", days_ago(15 + n)))
        found.append(_dose_of_unknown_status(f"pr-otp-unknown-{n}", days_ago(12 + n)))
        found.append(_dose_ahead(f"pr-otp-ahead-{n}"))
        found.append(_fill_being_prepared(f"md-bup-prep-{n}", days_ago(4 + n)))
        # A benefit/harm evaluation of last week whose status came as a list: not counted as done, named.
        found.append(_evaluation_of_unreadable_status(f"pr-eval-status-{n}", days_ago(5 + n)))
        # A current opioid coded once a day whose sig gives 1 tablet every morning and 2 at bedtime: 3 a day counted.
        once_a_day = med_request(OXYCODONE, id=f"mr-sig-code-{n}", authored=days_ago(3), period=1, period_unit="d")
        once_a_day["dosageInstruction"][0]["text"] = "1 tab every morning and 2 tabs at bedtime"
        found.append(once_a_day)
        # A current opioid whose sig runs on past `words.TEXT_READ_CHARACTERS` (a note pasted in): not read, named;
        # its dose estimated from its quantity and days' supply.
        pasted = med_request(OXYCODONE, id=f"mr-sig-pasted-{n}", authored=days_ago(3), quantity=120)
        pasted["dosageInstruction"][0]["text"] = "1 tab every 6 hours as needed. " + "See note. " * 300
        found.append(pasted)
        # A current lorazepam order of 9000 tablets at 3 a day (a typo of 90): 3000 days' supply, not counted, named.
        typo = med_request(LORAZEPAM, id=f"mr-typo-{n}", authored=days_ago(6), period=8, supply_days=None)
        found.append({**typo, "dispenseRequest": {"quantity": {"value": 9000 + n, "unit": "tablet"}}})
        # A current opioid order whose pharmacy fill came with no quantity: its dose could not be weighed against it.
        found.append(med_request(OXYCODONE, id=f"mr-unread-fill-{n}", authored=days_ago(8)))
        unread_fill = {**dispense(OXYCODONE, days_ago(7)), "id": f"md-unread-dose-{n}"}
        unread_fill["authorizingPrescription"] = [{"reference": f"MedicationRequest/mr-unread-fill-{n}"}]
        found.append({**unread_fill, "identifier": [{"system": PHARMACY_RX, "value": f"RX-unread-{n}"}]})
        # An Epic drug record mapped to oxycodone's RxNorm code but named hydromorphone: counted as the drug of the
        # higher MME, named.
        mapped = med_request(OXYCODONE, id=f"mr-drug-named-{n}", authored=days_ago(4))
        found.append(
            {
                **mapped,
                "medicationCodeableConcept": {
                    **mapped["medicationCodeableConcept"],
                    "text": f"HYDROmorphone {n + 2} MG tablet",
                },
            }
        )
        # Hospice care of last week whose status is unknown: not read as hospice care (no exclusion), named.
        found.append(
            {
                "resourceType": "Procedure",
                "id": f"pr-hospice-{n}",
                "status": "unknown",
                "subject": {"reference": f"Patient/{PATIENT_ID}"},
                "code": {"coding": [{"system": SNOMED, "code": "385763009"}], "text": f"Hospice care {n + 1}"},
                "performedDateTime": days_ago(7 + n),
            }
        )
        # A current order whose medication name runs past `words.TEXT_READ_CHARACTERS` (a note pasted into an
        # outside record's drug name), coded as lorazepam: read by its code, its name not read, named.
        pasted_name = med_request(LORAZEPAM, id=f"mr-name-pasted-{n}", authored=days_ago(4), period=8)
        pasted_name["medicationCodeableConcept"]["text"] = f"LORazepam {n + 1} MG tablet. " + "See note. " * 300
        found.append(pasted_name)
        # A benzodiazepine whose name holds a word PainPlan does not know: read as alprazolam; the word may be an
        # opioid.
        partly = med_request("0", id=f"mr-partly-{n}", authored=days_ago(6))
        found.append({**partly, "medicationCodeableConcept": {"text": f"alprazolam / Xyzolin{n} 1 mg"}})
        found.extend(_reports_that_disagree(n))
        found.extend(_report_not_read_surely(n))
        found.extend(_report_of_long_conclusion(n))
        found.extend(_report_of_conclusion_only_drug(n))
        text_only = condition(SNOMED, "0", id=f"c-words-{n}")
        found.append({**text_only, "code": {"text": f"Outside record entry {n + 1}"}})
        # A diagnosis in words past `words.TEXT_READ_CHARACTERS` (a note pasted into the entry): not read, named.
        pasted = condition(SNOMED, "0", id=f"c-pasted-{n}")
        found.append({**pasted, "code": {"text": f"Outside record entry {n + 1}: " + "see note; " * 300}})
        found.extend(_undated_claim_diagnosis(f"eob-undated-{n}"))
        # An oxycodone screen reading "Positive" whose lab comment runs past `uds.CONCLUSION_READ_CHARACTERS`: read
        # in part, named.
        noted = observation(OXYCODONE_SCREEN, when=f"{days_ago(80 + n)}T10:02:00-04:00", value_string="Positive")
        noted["id"] = f"obs-long-note-{n}"
        noted["note"] = [{"text": "Comment: " + "see attached report; " * 600}]
        found.append(noted)
        # A result under a lab's own code whose name runs past `words.TEXT_READ_CHARACTERS`: not read, named.
        long_named = observation("UDS10", system="urn:oid:1.2.3.4", when=days_ago(20), value_string="Negative")
        long_named["id"] = f"obs-long-name-{n}"
        long_named["code"]["text"] = f"Drug screen, urine {n + 1}: " + "see note; " * 300
        found.append(long_named)
    # The patient's own record, retired in a merge: it links to the `count` records that replaced it.
    found.append(_merged_patient(count))
    return found


def _merged_patient(count: int) -> dict[str, Any]:
    """The patient in context as an MPI merge leaves it: inactive, each record that replaced it linked."""
    links = [{"other": {"reference": f"Patient/p9-{n}"}, "type": "replaced-by"} for n in range(count)]
    return {**patient(), "active": False, "link": links}


def _undated_claim_diagnosis(ident: str) -> list[dict[str, Any]]:
    """A Blue Button carrier claim billing breast cancer that gives no date of service (no billablePeriod, no line
    dates), as the hook reads it (its diagnosis; its line, a procedure, left out)."""
    claim = {
        "resourceType": "ExplanationOfBenefit",
        "id": ident,
        "status": "active",
        "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/claim-type", "code": "professional"}]},
        "use": "claim",
        "patient": {"reference": f"Patient/{PATIENT_ID}"},
        "diagnosis": [
            {"sequence": 1, "diagnosisCodeableConcept": {"coding": [{"system": ICD10_CMS, "code": "C50911"}]}}
        ],
        "item": [{"sequence": 1, "productOrService": {"coding": [{"system": HCPCS_CMS, "code": "99214"}]}}],
    }
    return [r for r in claims_read_for_a_hook([claim]).resources if r["resourceType"] == "Condition"]


def _reports_that_disagree(n: int) -> list[dict[str, Any]]:
    """An oxycodone screen reading "Positive" and two final reports of it issued together (the lab's and an HIE's
    copy), one concluding "Positive for oxycodone" and the other "Positive for oxycodone, dilute specimen": the
    result is read as it says, and the reports named once as the lab's words that disagree (a report concluding
    "Negative" would contradict the positive too, and be named a second time: tests/test_report_contradictions.py)."""
    when = days_ago(60 + n)
    screen = observation(OXYCODONE_SCREEN, when=f"{when}T09:14:00-04:00", value_string="Positive")
    screen["id"] = f"obs-disagreed-{n}"
    return [
        {
            "resourceType": "DiagnosticReport",
            "id": f"rep-disagreeing-{n}-{copy}",
            "status": "final",
            "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0074", "code": "LAB"}]}],
            "code": {"coding": [{"system": LOINC, "code": "24349-3", "display": "Drugs of abuse 5 panel - Urine"}]},
            "subject": {"reference": f"Patient/{PATIENT_ID}"},
            "effectiveDateTime": when,
            "issued": f"{when}T15:00:00-04:00",
            "result": [{"reference": f"Observation/{screen['id']}"}],
            "conclusion": conclusion,
        }
        for copy, conclusion in enumerate(("Positive for oxycodone", "Positive for oxycodone, dilute specimen"))
    ] + [screen]


def _report_not_read_surely(n: int) -> list[dict[str, Any]]:
    """An oxycodone screen reading "Negative" and its final report, whose conclusion gives an amount of oxycodone and
    no finding ("Oxycodone 250 ng/mL": found, or measured under the cutoff): the negative is not judged, and named as
    one whose conclusion could not be read surely."""
    when = days_ago(70 + n)
    screen = observation(OXYCODONE_SCREEN, when=f"{when}T09:14:00-04:00", value_string="Negative")
    screen["id"] = f"obs-not-read-surely-{n}"
    report = {
        "resourceType": "DiagnosticReport",
        "id": f"rep-not-read-surely-{n}",
        "status": "final",
        "code": {"coding": [{"system": LOINC, "code": "24349-3", "display": "Drugs of abuse 5 panel - Urine"}]},
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
        "effectiveDateTime": when,
        "result": [{"reference": f"Observation/{screen['id']}"}],
        "conclusion": f"Oxycodone {250 + n} ng/mL",
    }
    return [report, screen]


def _report_of_long_conclusion(n: int) -> list[dict[str, Any]]:
    """An oxycodone screen reading "Positive" and its final report, whose conclusion agrees and then runs on past
    `uds.CONCLUSION_READ_CHARACTERS` (a pasted CSV): read only in part, and named so."""
    when = days_ago(80 + n)
    screen = observation(OXYCODONE_SCREEN, when=f"{when}T09:14:00-04:00", value_string="Positive")
    screen["id"] = f"obs-long-conclusion-{n}"
    report = {
        "resourceType": "DiagnosticReport",
        "id": f"rep-long-conclusion-{n}",
        "status": "final",
        "code": {"coding": [{"system": LOINC, "code": "24349-3", "display": "Drugs of abuse 5 panel - Urine"}]},
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
        "effectiveDateTime": when,
        "result": [{"reference": f"Observation/{screen['id']}"}],
        "conclusion": "Positive for oxycodone. " + "," * 12_000,
    }
    return [report, screen]


def _report_of_conclusion_only_drug(n: int) -> list[dict[str, Any]]:
    """An oxycodone screen reading "Positive" and its final report, whose conclusion also says fentanyl was found, which
    no result it sent tests: not judged as a result, and named so."""
    when = days_ago(90 + n)
    screen = observation(OXYCODONE_SCREEN, when=f"{when}T09:14:00-04:00", value_string="Positive")
    screen["id"] = f"obs-conclusion-only-{n}"
    report = {
        "resourceType": "DiagnosticReport",
        "id": f"rep-conclusion-only-{n}",
        "status": "final",
        "code": {"coding": [{"system": LOINC, "code": "24349-3", "display": "Drugs of abuse 5 panel - Urine"}]},
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
        "effectiveDateTime": when,
        "result": [{"reference": f"Observation/{screen['id']}"}],
        "conclusion": "Oxycodone positive. Fentanyl positive.",
    }
    return [report, screen]


def _possibly_sent_twice(n: int) -> list[dict[str, Any]]:
    """A pharmacy's fill of an outside prescription naming its prescriber (a practitioner performer), and a copy of
    it naming none: the same day, drug, quantity, days' supply, pharmacy and order. Both counted (the copy queued as
    an early refill, ended before today), the copy named. Each pair on a day and a prescription of its own."""
    fill = {
        **dispense(OXYCODONE, days_ago(100 + n)),
        "id": f"md-twice-{n}",
        "quantity": {"value": 60, "unit": "tablet"},
        "authorizingPrescription": [{"reference": f"MedicationRequest/outside-twice-{n}"}],
        "performer": [
            {"actor": {"reference": "Practitioner/dr-twice"}},
            {"actor": {"reference": f"Organization/ph{n}"}},
        ],
    }
    return [fill, {**fill, "id": f"md-twice-copy-{n}", "performer": fill["performer"][1:]}]


def _procedure(ident: str, **performed: Any) -> dict[str, Any]:
    """A PDMP review dated as given (an age, a day after today)."""
    return {
        "resourceType": "Procedure",
        "id": ident,
        "status": "completed",
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
        "code": {"coding": [{"system": SNOMED, "code": PDMP_REVIEW}], "text": "PDMP review"},
        **performed,
    }


def _evaluation_of_unreadable_status(ident: str, performed: str) -> dict[str, Any]:
    """An opioid benefit/harm evaluation whose status is a list, as a broken interface sends it."""
    return {
        "resourceType": "Procedure",
        "id": ident,
        "status": ["completed"],
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
        "code": {"coding": [{"system": SNOMED, "code": "454281000124100"}], "text": "Opioid benefit/harm review"},
        "performedDateTime": performed,
    }


def _dose_with_no_date(ident: str) -> dict[str, Any]:
    """Sublocade recorded as given, with no effective time."""
    return {
        "resourceType": "MedicationAdministration",
        "id": ident,
        "status": "completed",
        "medicationCodeableConcept": {
            "coding": [{"system": RXNORM, "code": SUBLOCADE}],
            "text": "Sublocade 300 mg/1.5 mL injection",
        },
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
    }


def _dose_not_identified(ident: str, given: str) -> dict[str, Any]:
    """A dose recorded as given in clinic, named only as a claims-style feed abbreviates it: not identified."""
    return {
        "resourceType": "MedicationAdministration",
        "id": ident,
        "status": "completed",
        "medicationCodeableConcept": {"text": "SUBOX 8MG-2MG FLM"},
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
        "effectiveDateTime": f"{given}T10:15:00-05:00",
    }


def _dose_of_unknown_status(ident: str, performed: str) -> dict[str, Any]:
    """An opioid treatment program's weekly methadone bundle (HCPCS G2067) of status "unknown", dated in the window."""
    return {
        "resourceType": "Procedure",
        "id": ident,
        "status": "unknown",
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
        "code": {"coding": [{"system": HCPCS, "code": "G2067", "display": "Methadone weekly bundle"}]},
        "performedDateTime": f"{performed}T09:30:00-04:00",
    }


def _dose_ahead(ident: str) -> dict[str, Any]:
    """An opioid treatment program's weekly methadone bundle (HCPCS G2067), completed, dated after today."""
    return {**_dose_of_unknown_status(ident, FUTURE), "status": "completed"}


def _fill_being_prepared(ident: str, prepared: str) -> dict[str, Any]:
    """A Suboxone film fill the pharmacy is still preparing (status "preparation"): no treatment handed over yet."""
    return {
        "resourceType": "MedicationDispense",
        "id": ident,
        "status": "preparation",
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
        "medicationCodeableConcept": {
            "coding": [{"system": RXNORM, "code": "1010604"}],
            "text": "buprenorphine-naloxone 8-2 mg SL film",
        },
        "quantity": {"value": 14},
        "daysSupply": {"value": 14, "unit": "day"},
        "whenPrepared": f"{prepared}T10:00:00-04:00",
    }


def named_kind(key: str) -> Any:
    """The named kind of this key (`guideline.named_gaps.NAMED_GAPS`)."""
    return next(kind for kind in NAMED_GAPS if kind.key == key)


def data_incomplete_detail(tmp_path: Path, order: dict[str, Any]) -> str:
    """The data-incomplete card's detail on patient-view for a chart holding this one order."""
    prefetch = full_prefetch("patient-view", medsActive=bundle(order), medsRecent=bundle(order))
    request = hook_request("patient-view", prefetch=prefetch)
    response = make_app(tmp_path).test_client().post("/cds-services/patient-view", json=request)
    cards = {card["source"]["topic"]["code"]: card for card in response.json["cards"]}
    return cards["data-incomplete"]["detail"]


def completeness_panel(tmp_path: Path, order: dict[str, Any]) -> str:
    """The plan page's data-completeness panel for a chart holding this one order, apostrophes unescaped."""
    panel = re.search(r'<section id="completeness".*?</section>', plan_page(tmp_path, order), re.S)
    assert panel is not None
    return panel.group(0).replace("&#39;", "'")
