"""A keratinocyte skin cancer (ICD-10-CM C44: basal cell or squamous cell carcinoma of the skin) is no active cancer at
the point of care (G3): such a cancer is cut out and rarely causes pain that needs long-term opioids, and read as
active cancer it switched every opioid check off, the overdose checks among them. The project's correction of the
CDC cancer set (valueset-corrections.json), for the point of care only: the population review reads the IG's set, as
its spec says, and a billed C44 still leaves a patient out of the measures.

Before, a basal cell carcinoma of the nose on the problem list, or two dermatology claims billing it, silenced the
high-MME, naloxone, PDMP, urine drug test and treatment plan cards of a patient on 120 MME/day."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from builders import PATIENT_ID, condition
from test_cancer_claims import OPIOID_CARDS, order_sign, review_excluded
from test_exclusions import excluded
from test_payer_code_systems import carrier_claim

from guideline import terminology as t
from guideline.config import GuidelineConfig

ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"


def problem(code: str, display: str) -> dict[str, Any]:
    """An active problem-list entry as Epic sends it: ICD-10-CM, dotted, with its display."""
    return condition(ICD10CM, code, display=display)


def dermatology_claim(ident: str, day: str, pid: str = PATIENT_ID) -> dict[str, Any]:
    """A Part B carrier claim for a dermatology office visit (99213) billing basal cell carcinoma of the skin of the
    nose (C44.311), as Blue Button sends it (`sid/icd-10`, no dot)."""
    return carrier_claim(ident, pid, day, "C44311", "99213")


def test_a_basal_cell_carcinoma_on_the_problem_list_leaves_the_high_mme_card(tmp_path: Path) -> None:
    cards = order_sign(tmp_path, problem("C44.91", "Basal cell carcinoma of skin, unspecified"))
    assert cards >= OPIOID_CARDS


def test_two_dermatology_claims_billing_basal_cell_carcinoma_leave_the_cards(tmp_path: Path) -> None:
    claims = (dermatology_claim("bb-bcc-1", "2026-03-10"), dermatology_claim("bb-bcc-2", "2026-06-01"))
    assert order_sign(tmp_path, *claims) >= OPIOID_CARDS


def test_breast_cancer_and_melanoma_still_exclude(tmp_path: Path) -> None:
    breast = problem("C50.911", "Malignant neoplasm of unspecified site of right female breast")
    assert order_sign(tmp_path, breast) == set()
    assert order_sign(tmp_path, problem("C43.9", "Malignant melanoma of skin, unspecified")) == set()


def test_the_population_review_keeps_the_ig_cancer_set() -> None:
    # PQA's measures, by the review's spec, exclude on the IG's cancer value set, which holds C44: unchanged.
    assert review_excluded(dermatology_claim("bb-bcc-1", "2026-03-10", "p-ca")) == "cancer"


def test_only_the_c44_codes_leave_the_point_of_care_set() -> None:
    term = t.load_terminology(GuidelineConfig.from_mapping({}))
    cdc, point_of_care = term.codes(t.MALIGNANT_CANCER), term.codes(t.POINT_OF_CARE_CANCER)
    assert len(cdc) == 1668  # the IG's set, as the population review reads it
    left_out = cdc - point_of_care
    assert len(left_out) == 147 and point_of_care < cdc
    assert all(system == ICD10CM and code.startswith("C44") for system, code in left_out)
    assert {(ICD10CM, "C43.9"), (ICD10CM, "C4A.9"), (ICD10CM, "C46.0")} <= point_of_care


def test_a_site_that_adds_a_skin_cancer_code_back_is_heard() -> None:
    # A site's own setting wins over the packaged correction, at the point of care as in the review.
    bcc = condition(ICD10CM, "C44.91")
    assert not excluded(bcc)
    assert excluded(bcc, config={"exclusions": {"active_cancer": {"add_codes": [f"{ICD10CM}|C44.91"]}}})


def test_a_correction_of_unknown_scope_fails_loudly() -> None:
    data = t._data()
    change = {"reason": "r", "scope": "population", "remove": [[ICD10CM, "C44.91"]]}
    with pytest.raises(t.TerminologyError, match="scope 'population'"):
        t._corrected(data, {"2022/cdc-malignant-cancer-conditions": change})


# -- Written in words alone, with no code: the point of care reads the words as it reads the codes ---------------


@pytest.mark.parametrize(
    ("words", "excludes"),
    [
        ("Squamous cell carcinoma of skin", False),  # C44.92's words
        ("Basal cell carcinoma of skin", False),  # C44.91's words
        ("Squamous cell carcinoma of skin of left cheek", False),
        ("Squamous cell carcinoma of the skin, scalp", False),
        ("Cutaneous squamous cell carcinoma of forearm", False),
        ("Non-melanoma skin cancer", False),
        ("Malignant melanoma of skin", True),  # C43: melanoma still excludes, in words as by code
        ("Metastatic melanoma", True),
        ("Squamous cell carcinoma of lung", True),  # not a skin cancer
        ("Squamous cell carcinoma of head and neck", True),
        ("Merkel cell carcinoma of skin", True),  # C4A: stays in the set
    ],
)
def test_a_skin_cancer_in_words_reads_as_its_code_does_at_the_point_of_care(
    tmp_path: Path, words: str, excludes: bool
) -> None:
    # Before, "Squamous cell carcinoma of skin" written with no code switched every opioid check off at the point of
    # care, while C44.92, its code, no longer did.
    entry = condition(ICD10CM, "0", display=None)
    entry["code"] = {"text": words}
    assert (order_sign(tmp_path, entry) == set()) is excludes


def test_the_review_reads_a_squamous_cell_skin_cancer_in_words_as_before() -> None:
    # The review's words follow its code set, the IG's, which holds C44: unchanged.
    from guideline.fhirdata import Concept
    from guideline.recognition.diagnoses import names_diagnosis

    words = Concept(text="Squamous cell carcinoma of skin")
    assert names_diagnosis(t.MALIGNANT_CANCER, words)
    assert not names_diagnosis(t.POINT_OF_CARE_CANCER, words)


@pytest.mark.parametrize(
    ("words", "excludes"),
    [
        ("Skin cancer", False),  # most are basal or squamous cell carcinomas: C44
        ("Cancer of skin", False),
        ("Cancer of the skin of nose", False),
        ("Malignant neoplasm of skin", False),
        ("Unspecified malignant neoplasm of skin, unspecified", False),  # C44.90's words
        ("Other malignant neoplasm of skin of scalp and neck", False),  # C44.4's words
        ("Skin cancer, left ear ; SKIN CANCER", False),  # the text and a site's own code's display
        ("Skin cancer (melanoma)", True),  # a melanoma named, as by its code C43
        ("Melanoma skin cancer", True),
        ("Metastatic skin cancer", True),  # spread: read as the secondary it names, which excludes
        ("Skin cancer with metastasis to lymph nodes", True),
        ("Secondary malignant neoplasm of skin", True),  # C79.2: another cancer spread to the skin
        ("Kaposi sarcoma of skin", True),  # C46.0
        ("Merkel cell carcinoma of skin", True),  # C4A
        ("Lung cancer ; skin cancer", True),  # another cancer named beside it
    ],
)
def test_a_skin_cancer_named_by_nothing_more_is_no_active_cancer_at_the_point_of_care(
    tmp_path: Path, words: str, excludes: bool
) -> None:
    # Before, "Skin cancer" with no code switched every opioid check off at the point of care, where C44.9x, the
    # codes of an unspecified skin cancer, did not: "Basal cell carcinoma of skin" was already read as no cancer.
    entry = condition(ICD10CM, "0", display=None)
    entry["code"] = {"text": words}
    assert (order_sign(tmp_path, entry) == set()) is excludes


def test_the_review_reads_a_skin_cancer_in_words_as_cancer_as_before() -> None:
    # The review reads the IG's set, C44 included, and its words unchanged.
    from guideline.fhirdata import Concept
    from guideline.recognition.diagnoses import names_diagnosis, unread_diagnosis

    words = Concept(text="Skin cancer")
    assert names_diagnosis(t.MALIGNANT_CANCER, words)
    assert not names_diagnosis(t.POINT_OF_CARE_CANCER, words)
    assert not unread_diagnosis(words)  # read, by the review's words: not named as unread on the plan page
