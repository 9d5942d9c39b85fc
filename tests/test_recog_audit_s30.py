"""Black-box audit (session 30): medications coded as real EHRs, pharmacies and payers send them.

Each payload is an order, a fill or a reported medication for an opioid, a benzodiazepine, naloxone, buprenorphine or
methadone as Epic, Oracle Health (Cerner, Multum), athena, a pharmacy claims feed (NCPDP → FHIR), a CARIN Blue Button
payer or an HIE sends it: RxNorm of every term type, codes of systems PainPlan does not read (Multum, First Databank,
Medi-Span GPI, a site's own OID) with a readable display, NDCs in each layout, a Medication contained or only in the
bundle, STU3 and DSTU2 shapes, and free text. Each is run through the engine on order-sign and must be recognised
right (its class, and its MME when it has one), or named as not understood: never skipped or misread in silence.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from builders import all_text, card, run

from guideline.engine import Evaluation
from guideline.set_names import CNS_DEPRESSANT, MOUD, NALOXONE_RESCUE, OPIOID, OUD_TREATMENT_OPIOID

RX = "http://www.nlm.nih.gov/research/umls/rxnorm"
NDC = "http://hl7.org/fhir/sid/ndc"
UCUM = "http://unitsofmeasure.org"
EPIC_ERX = "urn:oid:1.2.840.114350.1.13.861.1.7.2.698288"  # an Epic site's medication (ERX) records
MULTUM = "https://fhir.cerner.com/ec2458f2-1e24-41c8-b71b-0e701af7583d/codeSet/multum"
MULTUM_SYNONYM = "https://fhir.cerner.com/ec2458f2-1e24-41c8-b71b-0e701af7583d/multum-synonym"
FDB_MEDID = "http://www.fdbhealth.com/medid"
GPI = "urn:oid:2.16.840.1.113883.6.68"  # Medi-Span Generic Product Identifier
SITE_OID = "urn:oid:1.3.6.1.4.1.22812.3.2009316.3.4"
NDC_OID = "urn:oid:2.16.840.1.113883.6.69"
PAYLOAD = "payload"


# ---- what each payload must come out as ----


@dataclass(frozen=True)
class Opioid:
    """An opioid counted in the MME total at `mme` a day (None: an opioid whose MME cannot be worked out, named)."""

    mme: str | None


@dataclass(frozen=True)
class Benzodiazepine:
    """A benzodiazepine: signing oxycodone beside it gives the opioid + benzodiazepine card."""


@dataclass(frozen=True)
class Sedative:
    """A sedative of the CNS depressant set the opioid + sedative checks count."""


@dataclass(frozen=True)
class Naloxone:
    """Naloxone rescue on hand: no card asks to offer it."""


@dataclass(frozen=True)
class Moud:
    """Medication for opioid use disorder, never counted as pain therapy in the MME total."""


@dataclass(frozen=True)
class Unidentified:
    """Not understood: signing oxycodone names it (by `named`) on the unidentified-medication card."""

    named: str


Expected = Opioid | Benzodiazepine | Sedative | Naloxone | Moud | Unidentified


# ---- payload builders ----


def concept(*codings: tuple[str, str, str | None], text: str | None = None) -> dict[str, Any]:
    """A CodeableConcept of (system, code, display) codings, with its text when given."""
    built: dict[str, Any] = {
        "coding": [{"system": s, "code": c, **({"display": d} if d else {})} for s, c, d in codings]
    }
    if text:
        built["text"] = text
    return built


def rx(code: str, display: str | None = None) -> dict[str, Any]:
    return concept((RX, code, display))


def coded(medication: dict[str, Any]) -> dict[str, Any]:
    return {"medicationCodeableConcept": medication}


def dose(value: float, unit: str = "tablet", code: str = "{tbl}") -> dict[str, Any]:
    return {"value": value, "unit": unit, "system": UCUM, "code": code}


def timing(hours: int) -> dict[str, Any]:
    return {"repeat": {"frequency": 1, "period": hours, "periodUnit": "h"}}


def order(
    medication: dict[str, Any],
    *,
    every: int = 6,
    amount: float = 1,
    unit: str = "tablet",
    code: str = "{tbl}",
    contained: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """An R4 outpatient order written 2026-06-01 for 30 days: `amount` `unit` every `every` hours."""
    resource: dict[str, Any] = {
        "resourceType": "MedicationRequest",
        "id": PAYLOAD,
        "status": "active",
        "intent": "order",
        "category": [
            {
                "coding": [
                    {"system": "http://terminology.hl7.org/CodeSystem/medicationrequest-category", "code": "community"}
                ]
            }
        ],
        "subject": {"reference": "Patient/p1"},
        "authoredOn": "2026-06-01",
        **medication,
        "dosageInstruction": [
            {"timing": timing(every), "doseAndRate": [{"doseQuantity": dose(amount, unit, code)}]},
        ],
        "dispenseRequest": {"expectedSupplyDuration": {"value": 30, "unit": "days", "system": UCUM, "code": "d"}},
    }
    if contained:
        resource["contained"] = contained
    return resource


def fill(medication: dict[str, Any], *, quantity: int = 120, days: int = 30) -> dict[str, Any]:
    """A pharmacy fill with no order (a PBM's medication history, a claims feed), handed over 2026-06-10."""
    return {
        "resourceType": "MedicationDispense",
        "id": PAYLOAD,
        "status": "completed",
        "subject": {"reference": "Patient/p1"},
        "whenHandedOver": "2026-06-10",
        **medication,
        "quantity": {"value": quantity, "unit": "EA"},
        "daysSupply": {"value": days, "unit": "day", "system": UCUM, "code": "d"},
    }


def statement(medication: dict[str, Any], *, every: int = 6) -> dict[str, Any]:
    """An HIE's reported medication, taken since 2026-06-01."""
    return {
        "resourceType": "MedicationStatement",
        "id": PAYLOAD,
        "status": "active",
        "subject": {"reference": "Patient/p1"},
        "effectivePeriod": {"start": "2026-06-01"},
        **medication,
        "dosage": [{"timing": timing(every), "doseAndRate": [{"doseQuantity": dose(1)}]}],
    }


def stu3_order(medication: dict[str, Any]) -> dict[str, Any]:
    """STU3's MedicationRequest: the dose sits on the dosage itself; the prescriber under requester.agent."""
    return {
        "resourceType": "MedicationRequest",
        "id": PAYLOAD,
        "status": "active",
        "intent": "order",
        "subject": {"reference": "Patient/p1"},
        "authoredOn": "2026-06-01",
        "requester": {"agent": {"reference": "Practitioner/dr1"}},
        **medication,
        "dosageInstruction": [{"timing": timing(6), "doseQuantity": dose(1)}],
        "dispenseRequest": {"expectedSupplyDuration": {"value": 30, "unit": "days", "system": UCUM, "code": "d"}},
    }


def dstu2_order(medication: dict[str, Any]) -> dict[str, Any]:
    """DSTU2's MedicationOrder: patient, dateWritten, prescriber."""
    return {
        "resourceType": "MedicationOrder",
        "id": PAYLOAD,
        "status": "active",
        "patient": {"reference": "Patient/p1"},
        "dateWritten": "2026-06-01",
        "prescriber": {"reference": "Practitioner/dr1"},
        **medication,
        "dosageInstruction": [{"timing": timing(6), "doseQuantity": dose(1)}],
        "dispenseRequest": {"expectedSupplyDuration": {"value": 30, "unit": "days", "system": UCUM, "code": "d"}},
    }


def stu3_statement(medication: dict[str, Any]) -> dict[str, Any]:
    return {
        "resourceType": "MedicationStatement",
        "id": PAYLOAD,
        "status": "active",
        "taken": "y",
        "subject": {"reference": "Patient/p1"},
        "effectiveDateTime": "2026-06-01",
        **medication,
        "dosage": [{"timing": timing(6), "doseQuantity": dose(1)}],
    }


def medication(ident: str, code: dict[str, Any], **more: Any) -> dict[str, Any]:
    return {"resourceType": "Medication", "id": ident, "code": code, **more}


def ingredient(code: dict[str, Any], milligrams: float) -> dict[str, Any]:
    return {
        "itemCodeableConcept": code,
        "strength": {
            "numerator": {"value": milligrams, "unit": "mg", "system": UCUM, "code": "mg"},
            "denominator": {"value": 1, "unit": "tablet", "system": UCUM, "code": "{tbl}"},
        },
    }


OXYCODONE_5 = ("1049621", "oxycodone hydrochloride 5 MG Oral Tablet")
PERCOCET_10 = ("1049625", "acetaminophen 325 MG / oxycodone hydrochloride 10 MG Oral Tablet [Percocet]")
SPRAY = {"unit": "spray", "code": "{spray}"}
FILM = {"unit": "film", "code": "{film}"}
PATCH = {"unit": "patch", "code": "{patch}"}


def case(name: str, expected: Expected, payload: dict[str, Any], *others: dict[str, Any]) -> Any:
    return pytest.param((payload, *others), expected, id=name)


CASES = [
    # -- RxNorm, each term type --
    case("rxnorm-scd", Opioid("30.0"), order(coded(rx(*OXYCODONE_5)))),  # 20 mg oxycodone × 1.5
    case("rxnorm-sbd-no-display", Opioid("60.0"), order(coded(rx(PERCOCET_10[0])))),  # 40 mg × 1.5
    case("rxnorm-sbd-er", Opioid("60.0"), order(coded(rx("1049565", None)), every=12)),  # OxyContin 20 mg q12h
    case(
        "rxnorm-gpck",
        Opioid("96.0"),  # 600 mcg fentanyl a day × 0.16 (mucosal spray)
        order(coded(rx("1740007", "{2 (fentanyl 0.6 MG/ACTUAT Mucosal Spray) } Pack")), every=24, **SPRAY),
    ),
    case(
        "rxnorm-bpck",
        Opioid("96.0"),
        order(
            coded(rx("1740008", "{2 (fentanyl 0.6 MG/ACTUAT Mucosal Spray [Subsys]) } Pack [Subsys 1200 MCG]")),
            every=24,
            **SPRAY,
        ),
    ),
    # A dose form group or a drug form gives no strength: an opioid whose MME is unknown, named on the dose card.
    case("rxnorm-scdf", Opioid(None), order(coded(rx("1049619", "oxycodone hydrochloride Oral Tablet")))),
    case("rxnorm-sbdf", Opioid(None), order(coded(rx("1049622", "oxycodone hydrochloride Oral Tablet [Roxicodone]")))),
    case("rxnorm-scdg", Opioid(None), order(coded(rx("1151131", "oxycodone Oral Product")))),
    case("rxnorm-scdg-pill", Opioid(None), order(coded(rx("1163706", "hydrocodone Pill")))),
    case("rxnorm-in", Opioid(None), statement(coded(rx("7804", "oxycodone")))),
    case("rxnorm-in-no-display", Opioid(None), statement(coded(rx("3423")))),  # hydromorphone
    case("rxnorm-in-methadone-no-display", Opioid(None), statement(coded(rx("6813")))),
    case("rxnorm-pin", Opioid(None), statement(coded(rx("82063", "oxycodone hydrochloride")))),
    case("rxnorm-min", Opioid(None), statement(coded(rx("214182", "acetaminophen / hydrocodone")))),
    case("rxnorm-min-buprenorphine-naloxone", Moud(), statement(coded(rx("352364", "buprenorphine / naloxone")))),
    case("rxnorm-bn-percocet", Opioid(None), statement(coded(rx("42844", "Percocet")))),
    case("rxnorm-bn-narcan", Naloxone(), statement(coded(rx("1725062", "Narcan")))),
    case("rxnorm-bn-xanax", Benzodiazepine(), statement(coded(rx("202479", "Xanax")))),
    case("rxnorm-in-lorazepam", Benzodiazepine(), statement(coded(rx("6470", "lorazepam")))),
    # A naloxone pack whose code the packaged data lacks, known by its RxNorm name; the OUD-only products by code.
    case(
        "rxnorm-gpck-naloxone-by-name",
        Naloxone(),
        fill(
            coded(rx("1725065", "{2 (0.1 ML naloxone hydrochloride 40 MG/ML Nasal Spray) } Pack [Narcan]")), quantity=1
        ),
    ),
    case(
        "rxnorm-sublocade",
        Moud(),
        fill(coded(rx("1996193", "1.5 ML buprenorphine 200 MG/ML Prefilled Syringe [Sublocade]")), quantity=1),
    ),
    case(
        "rxnorm-methadone-dispersible",
        Moud(),
        order(coded(rx("864978", "methadone hydrochloride 40 MG Tablet for Oral Suspension")), every=24),
    ),
    # Codes alone that PainPlan's data does not hold, with no display: named, never guessed.
    case("rxnorm-in-alprazolam-no-display", Unidentified("RxNorm 596"), statement(coded(rx("596")))),
    case("rxnorm-pin-no-display", Unidentified("RxNorm 82063"), statement(coded(rx("82063")))),
    case("rxnorm-min-no-display", Unidentified("RxNorm 352364"), statement(coded(rx("352364")))),
    case(
        "rxnorm-in-text-with-strength",
        Opioid("30.0"),
        order(coded(concept((RX, "7804", "oxycodone"), text="oxyCODONE 5 mg tablet"))),
    ),
    # Epic's ingredient codes of a combination, with its name: the name's strengths count.
    case(
        "rxnorm-in-codes-with-text",
        Opioid("30.0"),
        order(
            coded(
                concept(
                    (RX, "161", None), (RX, "7804", None), text="oxyCODONE-acetaminophen (PERCOCET) 5-325 MG per tablet"
                )
            )
        ),
    ),
    # -- Epic: its own ERX code beside RxNorm, or alone with its medication name --
    case(
        "epic-erx-and-scd",
        Opioid("30.0"),
        order(
            coded(
                concept(
                    (EPIC_ERX, "10814", "oxyCODONE (ROXICODONE) 5 MG immediate release tablet"),
                    (RX, OXYCODONE_5[0], None),
                    text="oxyCODONE (ROXICODONE) 5 MG immediate release tablet",
                )
            )
        ),
    ),
    case(
        "epic-erx-norco",
        Opioid("20.0"),
        order(coded(concept((EPIC_ERX, "34567", "HYDROcodone-acetaminophen (NORCO) 5-325 MG per tablet")))),
    ),
    case(
        "epic-erx-text-only",
        Opioid("40.0"),
        order(coded(concept((EPIC_ERX, "34568", None), text="HYDROcodone-acetaminophen (NORCO) 10-325 MG per tablet"))),
    ),
    case(
        "epic-erx-tapentadol-er",
        Opioid("40.0"),
        order(coded(concept((EPIC_ERX, "2222", "tapentadol (NUCYNTA ER) 50 MG 12 hr tablet"))), every=12),
    ),
    case(
        "epic-erx-methadone",
        Opioid("141.0"),  # 30 mg methadone × 4.7
        order(coded(concept((EPIC_ERX, "3333", "methadone (DOLOPHINE) 10 MG tablet"))), every=8),
    ),
    case(
        "epic-erx-morphine-er",
        Opioid("30.0"),
        order(coded(concept((EPIC_ERX, "7777", "morphine (MS CONTIN) 15 MG 12 hr tablet"))), every=12),
    ),
    case(
        "epic-erx-naloxone",
        Naloxone(),
        order(coded(concept((EPIC_ERX, "4444", "naloxone (NARCAN) 4 mg/actuation nasal spray"))), every=24, **SPRAY),
    ),
    case(
        "epic-erx-suboxone",
        Moud(),
        order(coded(concept((EPIC_ERX, "5555", "buprenorphine-naloxone (SUBOXONE) 8-2 mg SL film"))), every=24, **FILM),
    ),
    case(
        "epic-erx-clonazepam",
        Benzodiazepine(),
        order(coded(concept((EPIC_ERX, "6666", "clonazePAM (KlonoPIN) 0.5 MG tablet"))), every=12),
    ),
    # -- Oracle Health: Multum codes, with Multum's names --
    case("multum-oxycodone", Opioid("30.0"), order(coded(concept((MULTUM, "d03431", "oxyCODONE 5 mg oral tablet"))))),
    case(
        "multum-hydrocodone",
        Opioid("30.0"),
        order(coded(concept((MULTUM_SYNONYM, "2757", "HYDROcodone-acetaminophen 7.5 mg-325 mg oral tablet")))),
    ),
    case("multum-tramadol", Opioid("40.0"), order(coded(concept((MULTUM, "d03826", "traMADol 50 mg oral tablet"))))),
    case("multum-lorazepam", Benzodiazepine(), order(coded(concept((MULTUM, "d00149", "LORazepam 1 mg oral tablet"))))),
    case(
        "multum-fentanyl-patch",
        Opioid("60.0"),  # 25 mcg/h × 2.4
        order(
            coded(concept((MULTUM, "d03416", "fentaNYL 25 mcg/hr transdermal film, extended release"))),
            every=72,
            **PATCH,
        ),
    ),
    # Multum names an extended-release tablet by what it holds over the hours it lasts ("15 mg/12 hr", "20 mg/24
    # hours"): what one tablet holds, never a rate as a patch's "25 mcg/hr" is.
    case(
        "multum-morphine-er-12-hr",
        Opioid("30.0"),
        order(
            coded(concept((MULTUM, "d04114", "morphine sulfate 15 mg/12 hr oral tablet, extended release"))), every=12
        ),
    ),
    case(
        "multum-oxycontin-12-hours",
        Opioid("30.0"),  # 20 mg oxycodone × 1.5
        order(coded(concept((MULTUM, "d04115", "OxyCONTIN 10 mg/12 hours oral tablet, extended release"))), every=12),
    ),
    case(
        "multum-hysingla-24-hours",
        Opioid("20.0"),
        order(coded(concept((MULTUM, "d04116", "Hysingla ER 20 mg/24 hours oral tablet, extended release"))), every=24),
    ),
    case(
        "multum-tramadol-er-24-hr",
        Opioid("20.0"),  # 100 mg tramadol × 0.2
        order(coded(concept((MULTUM, "d04117", "traMADol 100 mg/24 hr oral tablet, extended release"))), every=24),
    ),
    case(  # Multum names the acetaminophen first, with each strength's unit
        "multum-acetaminophen-first",
        Opioid("30.0"),
        order(coded(concept((MULTUM, "d03431", "acetaminophen-oxyCODONE 325 mg-5 mg oral tablet")))),
    ),
    case(
        "multum-liquid",
        Opioid("30.0"),  # 15 mL four times a day: 30 mg hydrocodone × 1
        order(
            coded(concept((MULTUM, "d03428", "HYDROcodone-acetaminophen 7.5 mg-325 mg/15 mL oral solution"))),
            amount=15,
            unit="mL",
            code="mL",
        ),
    ),
    case(
        "multum-butrans",
        Opioid(None),  # buprenorphine for pain: never converted
        order(
            coded(concept((MULTUM, "d04760", "Butrans 10 mcg/hr transdermal film, extended release"))),
            every=168,
            **PATCH,
        ),
    ),
    # -- First Databank, Medi-Span GPI, a site's own codes: read by their names --
    case("fdb-morphine", Opioid("60.0"), order(coded(concept((FDB_MEDID, "151706", "MORPHINE SULFATE IR 15 MG TAB"))))),
    case(
        "gpi-hydromorphone",
        Opioid("40.0"),  # 8 mg × 5
        order(coded(concept((GPI, "65100035100310", "HYDROmorphone HCl Tab 2 MG")))),
    ),
    case(
        "gpi-naloxone",
        Naloxone(),
        order(coded(concept((GPI, "42200050102020", "Naloxone HCl Nasal Liquid 4 MG/0.1ML"))), every=24, **SPRAY),
    ),
    case(
        "gpi-buprenorphine",
        Moud(),
        order(coded(concept((GPI, "65200010100710", "Buprenorphine HCl SL Tab 8 MG"))), every=24),
    ),
    case("site-oid-code-only", Unidentified("88231"), order(coded(concept((SITE_OID, "88231", None))))),
    case(
        "site-oid-methadone-concentrate",
        Moud(),  # the opioid treatment programme's 10 mg/mL concentrate
        order(
            coded(concept((SITE_OID, "88232", "METHADONE HCL 10 MG/ML ORAL CONC"))),
            every=24,
            amount=3,
            unit="mL",
            code="mL",
        ),
    ),
    # -- pharmacy claims (NCPDP → FHIR): NDCs in each layout, with the drug file's name --
    case("ndc-11-digits", Opioid("30.0"), fill(coded(concept((NDC, "00406051201", "OXYCODONE HCL 5 MG TABLET"))))),
    case("ndc-4-4-2", Opioid("30.0"), fill(coded(concept((NDC, "0406-0512-01", "OXYCODONE HCL 5 MG TAB"))))),
    case(
        "ndc-5-3-2",
        Opioid("20.0"),
        fill(coded(concept((NDC, "12345-678-90", "HYDROCODONE-ACETAMINOPHEN 5-325 MG TAB")))),
    ),
    case(
        "ndc-5-4-1",
        Opioid("80.0"),  # 16 mg hydromorphone × 5
        fill(coded(concept((NDC, "59011-4560-1", "HYDROMORPHONE HCL 4 MG TABLET")))),
    ),
    case("ndc-10-digits", Opioid("30.0"), fill(coded(concept((NDC, "0406051201", "OXYCODONE HCL 5 MG TABLET"))))),
    case("ndc-oid", Opioid("30.0"), fill(coded(concept((NDC_OID, "00406051201", "OXYCODONE HCL 5 MG TABLET"))))),
    case("ndc-cut-name", Opioid("40.0"), fill(coded(concept((NDC, "00406036201", "HYDROCO/APAP TAB 10-325MG"))))),
    case(
        "ndc-alprazolam", Benzodiazepine(), statement(coded(concept((NDC, "59762-3720-1", "ALPRAZOLAM 0.5 MG TABLET"))))
    ),
    case(
        "ndc-naloxone", Naloxone(), fill(coded(concept((NDC, "69547-0353-02", "NARCAN 4 MG NASAL SPRAY"))), quantity=2)
    ),
    case(
        "ndc-tylenol-number",
        Opioid("18.0"),  # acetaminophen 300 mg with codeine 30 mg: 120 mg codeine × 0.15
        fill(coded(concept((NDC, "50580-0490-01", "ACETAMINOPHEN-CODEINE #3 TABLET")))),
    ),
    # A cut name PainPlan reads in part ("ACET" is no acetaminophen it knows, and may be an acetate): an opioid whose
    # dose is not guessed, named as not converted.
    case(
        "ndc-cut-name-partly-read", Opioid(None), fill(coded(concept((NDC, "00406052205", "OXYCOD/ACET TAB 5-325MG"))))
    ),
    case("ndc-only", Unidentified("NDC 00406051201"), fill(coded(concept((NDC, "00406051201", None))))),
    case("ndc-product-only", Unidentified("NDC 0406-0512"), fill(coded(concept((NDC, "0406-0512", None))))),
    # -- a CARIN Blue Button payer: the NDC with RxNorm beside it --
    case(
        "carin-ndc-and-rxnorm",
        Opioid("30.0"),
        fill(coded(concept((NDC, "00406051201", "oxycodone hcl 5 mg tab"), (RX, OXYCODONE_5[0], None)))),
    ),
    case(
        "pbm-sbd",
        Opioid("30.0"),
        fill(coded(rx("1049640", "acetaminophen 325 MG / oxycodone hydrochloride 5 MG Oral Tablet [Percocet]"))),
    ),
    # -- medicationReference: contained, only in the bundle, by display only, or missing --
    case(
        "reference-contained",
        Opioid("30.0"),
        order({"medicationReference": {"reference": "#m1"}}, contained=[medication("m1", rx(*OXYCODONE_5))]),
    ),
    case(
        "reference-contained-ingredients",
        Opioid("30.0"),
        order(
            {"medicationReference": {"reference": "#m1"}},
            contained=[medication("m1", {"text": "PAIN MED"}, ingredient=[ingredient(rx("7804", "oxycodone"), 5)])],
        ),
    ),
    case(
        "reference-in-bundle",
        Opioid("60.0"),
        order({"medicationReference": {"reference": "Medication/med77"}}),
        medication("med77", rx(*PERCOCET_10)),
    ),
    case(
        "reference-display-only",
        Opioid("30.0"),
        order({"medicationReference": {"reference": "Medication/med78", "display": "oxyCODONE 5 MG tablet"}}),
    ),
    case(
        "reference-missing",
        Unidentified("Medication/zzz"),
        order({"medicationReference": {"reference": "Medication/zzz"}}),
    ),
    # -- STU3 and DSTU2 shapes --
    case("stu3-medicationrequest", Opioid("30.0"), stu3_order(coded(rx(*OXYCODONE_5)))),
    case("stu3-medicationstatement", Opioid("30.0"), stu3_statement(coded(rx(*OXYCODONE_5)))),
    case("dstu2-medicationorder", Opioid("30.0"), dstu2_order(coded(rx(*OXYCODONE_5)))),
    case("dstu2-medicationorder-text", Opioid("60.0"), dstu2_order(coded({"text": "Percocet 10/325"}))),
    # -- free text only --
    case("text-oxycodone", Opioid("30.0"), order(coded({"text": "oxycodone 5mg tab"}))),
    case("text-methadone", Opioid("141.0"), order(coded({"text": "Methadone 10 mg PO"}), every=8)),
    case("text-subutex", Moud(), order(coded({"text": "Subutex 8mg SL"}), every=24)),
    case("text-belbuca", Opioid(None), order(coded({"text": "Belbuca 150 mcg buccal film"}), every=12, **FILM)),
    case("text-zimhi", Naloxone(), order(coded({"text": "Zimhi 5 mg/0.5 mL injection"}), every=24)),
    case("text-ativan", Benzodiazepine(), order(coded({"text": "Ativan 1 mg tablet"}))),
    # Brands of the packaged benzodiazepine and sedative sets (diazepam buccal film, zolpidem oral spray), once
    # unidentified by name.
    case("text-libervant", Benzodiazepine(), order(coded({"text": "Libervant 10 mg buccal film"}), every=24, **FILM)),
    case("ndc-libervant", Benzodiazepine(), statement(coded(concept((NDC, "67386-0701-01", "LIBERVANT 10 MG FILM"))))),
    case(
        "text-zolpimist", Sedative(), order(coded({"text": "Zolpimist 5 mg/actuation oral spray"}), every=24, **SPRAY)
    ),
    # A strength per zero mL or zero hours (a drug file's typo) is no strength: an opioid whose dose is unknown, named;
    # "5 mg/0 mL" failed every check that read it, and "7.5-325 mg/0 mL" was read as 7.5 mg a tablet.
    case(
        "typo-per-zero-ml",
        Opioid(None),
        order(coded({"text": "oxyCODONE 5 mg/0 mL oral solution"}), amount=5, unit="mL", code="mL"),
    ),
    case(
        "typo-list-per-zero-ml",
        Opioid(None),
        order(
            coded({"text": "HYDROcodone-acetaminophen 7.5-325 mg/0 mL oral solution"}), amount=15, unit="mL", code="mL"
        ),
    ),
    case(
        "typo-patch-per-zero-hours",
        Opioid(None),
        order(coded({"text": "fentaNYL 25 mcg/0 hr transdermal patch"}), every=72, **PATCH),
    ),
    case("text-not-understood", Unidentified("Pain pill from ER"), order(coded({"text": "Pain pill from ER"}))),
]


def oxycodone_draft() -> dict[str, Any]:
    """The order being signed beside the payload: oxycodone 5 mg, 1 tablet every 6 hours for 5 days."""
    draft = order(coded(rx(*OXYCODONE_5)))
    draft.update(id="signing", status="draft", authoredOn="2026-06-15")
    draft["dispenseRequest"]["expectedSupplyDuration"]["value"] = 5
    return draft


def payload_of(evaluation: Evaluation) -> Any:
    record = evaluation.facts.record
    return next(item for item in (*record.orders, *record.dispenses) if item.id == PAYLOAD)


def check_opioid(resources: tuple[dict[str, Any], ...], expected: Opioid) -> None:
    evaluation = run("order-sign", resources=resources)
    facts = evaluation.facts
    assert facts.is_in(OPIOID, payload_of(evaluation))
    if expected.mme is None:
        # Listed as not converted, with why (the total is "at least"); buprenorphine for pain is never converted.
        orders = [(line.state, line.reason_text) for line in facts.mme.orders if line.order.id == PAYLOAD]
        fills = [(line.state, line.explanation) for line in facts.mme.fills if line.dispense.id == PAYLOAD]
        ((state, why),) = orders + fills
        assert state in ("unknown", "excluded") and why and facts.mme.state != "complete"
    else:
        assert (facts.mme.state, facts.mme.total) == ("complete", Decimal(expected.mme))


def check_benzodiazepine(resources: tuple[dict[str, Any], ...]) -> None:
    evaluation = run("order-sign", drafts=[oxycodone_draft()], resources=resources)
    assert card(evaluation, "opioid-benzodiazepine") is not None


def check_unidentified(resources: tuple[dict[str, Any], ...], named: str) -> None:
    evaluation = run("order-sign", drafts=[oxycodone_draft()], resources=resources)
    found = card(evaluation, "unidentified-medication")
    assert found is not None and named in all_text(found)


@pytest.mark.parametrize(("resources", "expected"), CASES)
def test_a_medication_as_ehrs_and_payers_code_it_is_recognised_or_named(
    resources: tuple[dict[str, Any], ...], expected: Expected
) -> None:
    if isinstance(expected, Opioid):
        check_opioid(resources, expected)
    elif isinstance(expected, Benzodiazepine):
        check_benzodiazepine(resources)
    elif isinstance(expected, Unidentified):
        check_unidentified(resources, expected.named)
    else:
        evaluation = run("order-sign", resources=resources)
        item = payload_of(evaluation)
        if isinstance(expected, Sedative):
            assert evaluation.facts.is_in(CNS_DEPRESSANT, item)
        elif isinstance(expected, Naloxone):
            assert evaluation.facts.is_in(NALOXONE_RESCUE, item) and evaluation.facts.has_naloxone
        else:
            assert evaluation.facts.is_in(MOUD, item) or evaluation.facts.is_in(OUD_TREATMENT_OPIOID, item)
            assert evaluation.facts.mme.total == 0
