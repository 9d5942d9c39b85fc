"""An order whose code states a drug that is no opioid and whose name states one (clinical-logic, "A code that is no
opioid and a name that is one"): read as the name's opioid for every check, and the conflict named."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import builders
import pytest
from builders import RXNORM, as_epic_erx, med_request
from cds_support import bundle, full_prefetch, hook_request, make_app, topics

from guideline.config import GuidelineConfig
from guideline.fhirdata import Coding, Concept
from guideline.mme import Drug, identify_drug
from guideline.recognition import recognise
from guideline.record import ResolvedMedication
from guideline.set_names import BENZO, NALOXONE_RESCUE, OPIOID
from guideline.terminology import load_terminology

ACETAMINOPHEN_325 = "313782"  # acetaminophen 325 MG Oral Tablet: in no set PainPlan reads
ALPRAZOLAM = "308047"  # alprazolam 0.25 MG Oral Tablet
LORAZEPAM_1 = "197901"  # lorazepam 1 MG Oral Tablet
NALOXONE_SYRINGE = "1191250"  # 2 ML naloxone hydrochloride 1 MG/ML Prefilled Syringe
NALTREXONE_50 = "1483744"  # naltrexone hydrochloride 50 MG Oral Tablet
SUBOXONE_FILM = "1010600"  # buprenorphine 2 MG / naloxone 0.5 MG Sublingual Film
PERCOCET_5 = "1049640"  # acetaminophen 325 MG / oxycodone hydrochloride 5 MG Oral Tablet [Percocet]


def _epic_draft(name: str, rxcui: str, rx_display: str, dose: int = 2) -> dict[str, Any]:
    """An Epic draft order of a drug record (ERX) named `name`, its RxNorm mapping `rxcui`: `dose` tablets q4h."""
    return as_epic_erx(med_request("0", draft=True, id="draft-erx", dose=dose, period=4), name, rxcui, rx_display)


def _oracle(rxcui: str, display: str, text: str, **kwargs: Any) -> dict[str, Any]:
    """An Oracle Health order: the RxNorm coding with its display and the order's name as the concept's text."""
    order = med_request(rxcui, display=display, **kwargs)
    order["medicationCodeableConcept"]["text"] = text
    return order


def _sign(tmp_path: Path, draft: dict[str, Any], *active: dict[str, Any]) -> dict[str, Any]:
    prefetch = full_prefetch("order-sign", medsActive=bundle(*active))
    response = (
        make_app(tmp_path)
        .test_client()
        .post("/cds-services/order-sign", json=hook_request(drafts=[draft], prefetch=prefetch))
    )
    assert response.status_code == 200
    return response.json


def _detail(answer: dict[str, Any], topic: str) -> str:
    return next(c["detail"] for c in answer["cards"] if c["source"]["topic"]["code"] == topic)


def test_an_oxycodone_order_coded_as_a_benzodiazepine_gives_the_opioid_benzodiazepine_card(tmp_path: Path) -> None:
    # Oracle: alprazolam's RxNorm code on an order named hydrocodone with acetaminophen, beside an active lorazepam.
    draft = _oracle(
        ALPRAZOLAM,
        "alprazolam 0.25 MG Oral Tablet",
        "HYDROcodone-acetaminophen 10-325 MG per tablet",
        draft=True,
        id="draft-hc",
    )
    lorazepam = med_request(LORAZEPAM_1, id="mr-lzp", authored=builders.days_ago(10), display="LORazepam 1 MG tablet")
    answer = _sign(tmp_path, draft, lorazepam)
    assert "opioid-benzodiazepine" in topics(answer)
    assert (
        "its code says alprazolam, its name says hydrocodone and acetaminophen: counted as hydrocodone, 40.0 MME/day; "
        "as alprazolam it is no opioid; check which drug is meant" in _detail(answer, "data-incomplete")
    )


def test_an_epic_record_mapped_to_acetaminophen_is_counted_as_oxycodone_and_named(tmp_path: Path) -> None:
    draft = _epic_draft(
        "oxyCODONE-acetaminophen 5-325 MG tablet", ACETAMINOPHEN_325, "acetaminophen 325 MG Oral Tablet", dose=2
    )
    answer = _sign(tmp_path, draft)
    # 2 tablets every 4 hours: 60 mg oxycodone, 90 MME/day.
    assert "high-mme" in topics(answer)
    assert (
        "its code says acetaminophen, its name says oxycodone and acetaminophen: counted as oxycodone, 90.0 MME/day; "
        "as acetaminophen it is no opioid; check which drug is meant" in _detail(answer, "data-incomplete")
    )


def test_a_naloxone_code_named_oxycodone_is_no_naloxone_on_hand() -> None:
    terms = load_terminology(GuidelineConfig.from_mapping())
    medication = ResolvedMedication(
        concept=Concept((Coding(RXNORM, NALOXONE_SYRINGE, "naloxone 1 mg/mL syringe"),), "oxyCODONE 10 MG tablet")
    )
    assert recognise(medication, terms).kind == "opioid-by-name"
    assert recognise(medication, terms).code_says == "naloxone"
    assert terms.medication_in(OPIOID, medication)
    assert not terms.medication_in(NALOXONE_RESCUE, medication)


def test_a_benzodiazepine_code_named_an_opioid_is_in_the_opioid_sets_not_the_benzodiazepine_ones() -> None:
    terms = load_terminology(GuidelineConfig.from_mapping())
    medication = ResolvedMedication(concept=Concept((Coding(RXNORM, LORAZEPAM_1),), "oxyCODONE 5 MG tablet"))
    assert terms.medication_in(OPIOID, medication)
    assert not terms.medication_in(BENZO, medication)


@pytest.mark.parametrize(
    ("code", "text", "kind"),
    [
        (NALOXONE_SYRINGE, "naloxone (NARCAN) 1 mg/mL injection syringe", "naloxone"),
        (NALTREXONE_50, "naltrexone (REVIA) 50 MG tablet", "moud"),
        (SUBOXONE_FILM, "buprenorphine-naloxone (SUBOXONE) 2-0.5 mg film", "moud"),
        (LORAZEPAM_1, "LORazepam 1 MG tablet (not oxyCODONE)", "benzodiazepine"),  # an opioid named as not meant
        (LORAZEPAM_1, "LORazepam 1 mg tab - was HYDROcodone, stopped", "benzodiazepine"),
        (ALPRAZOLAM, "ALPRAZolam 0.25 MG tablet", "benzodiazepine"),
        (NALTREXONE_50, "naltrexone 50 mg (opioid blocker, no oxycodone)", "moud"),
        (PERCOCET_5, "acetaminophen 325 mg tablet", "known-opioid"),  # a combination named by its partner
        # The code's own drug named, and an opioid no product holds with it: the opioid is what the order is for.
        (NALOXONE_SYRINGE, "naloxone 1 mg/mL syringe - for fentanyl overdose", "naloxone"),
        (LORAZEPAM_1, "LORazepam 1 MG tablet, anxiety while tapering oxyCODONE", "benzodiazepine"),
    ],
)
def test_no_false_conflict(code: str, text: str, kind: str) -> None:
    terms = load_terminology(GuidelineConfig.from_mapping())
    recognition = recognise(ResolvedMedication(concept=Concept((Coding(RXNORM, code),), text)), terms)
    assert (recognition.kind, recognition.code_says) == (kind, None)


def test_a_partner_code_named_with_its_opioid_is_still_the_opioid() -> None:
    # Naloxone is sold with pentazocine (Talwin NX): named so on naloxone's code, the order may be the combination.
    terms = load_terminology(GuidelineConfig.from_mapping())
    medication = ResolvedMedication(
        concept=Concept((Coding(RXNORM, NALOXONE_SYRINGE),), "pentazocine-naloxone 50-0.5 MG tablet")
    )
    assert recognise(medication, terms).code_says == "naloxone"


def test_a_pharmacy_fill_coded_as_a_benzodiazepine_and_named_oxycodone_is_counted() -> None:
    # 120 tablets for 30 days: 4 a day of 5 mg oxycodone, 30 MME/day.
    fill = builders.pbm_fill_mme(
        {
            "medicationCodeableConcept": {
                "coding": [{"system": RXNORM, "code": LORAZEPAM_1, "display": "lorazepam 1 MG Oral Tablet"}],
                "text": "oxyCODONE 5 MG tablet",
            }
        }
    )
    assert (fill.state, fill.mme) == ("ok", Decimal(30))
    assert fill.explanation.endswith(
        "; its code says lorazepam, its name says oxycodone: counted as oxycodone, 30.0 MME/day; as lorazepam it is "
        "no opioid; check which drug is meant"
    )


def test_an_oxycodone_code_named_a_benzodiazepine_keeps_the_opioid_and_is_named(tmp_path: Path) -> None:
    """The reverse: Oracle, oxycodone 5 mg's code on an order named diazepam. The opioid is the safe side: kept."""
    draft = _oracle(
        "1049621", "oxycodone hydrochloride 5 MG Oral Tablet", "diazePAM 5 MG tablet", draft=True, id="draft-dzp"
    )
    answer = _sign(tmp_path, draft)
    assert (
        "its code says oxycodone, its name says diazepam: counted as oxycodone, 30.0 MME/day; as diazepam it is no "
        "opioid; check which drug is meant" in _detail(answer, "data-incomplete")
    )


def test_a_combination_code_named_by_its_partner_alone_is_no_conflict_either_way() -> None:
    terms = load_terminology(GuidelineConfig.from_mapping())
    medication = ResolvedMedication(concept=Concept((Coding(RXNORM, PERCOCET_5),), "acetaminophen 325 mg tablet"))
    drug = identify_drug(medication, terms)
    assert isinstance(drug, Drug) and drug.drug_conflicts == ()


def test_an_rxnorm_code_with_no_name_may_be_the_opioid_so_nothing_is_said_against_it() -> None:
    # Beside acetaminophen's coding, an RxNorm code the packaged data does not hold, sent with no display: it may be
    # an opioid product newer than the data, so the codes are not said to state no opioid.
    terms = load_terminology(GuidelineConfig.from_mapping())
    codings = (Coding(RXNORM, ACETAMINOPHEN_325, "acetaminophen 325 MG Oral Tablet"), Coding(RXNORM, "2670001"))
    recognition = recognise(ResolvedMedication(concept=Concept(codings, "oxyCODONE 5 MG tablet")), terms)
    assert (recognition.kind, recognition.code_says) == ("opioid-by-name", None)
