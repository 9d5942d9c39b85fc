"""No text an EHR sends stalls a reading: each pattern rewritten to run in linear time reads real entries as before,
and the adversarial texts of bench/text_worst_case.py (one long word, long runs) still get the right reading.
Timing itself is measured in bench/text_worst_case.py, never here."""

from __future__ import annotations

from typing import Any

import pytest
from builders import SNOMED, condition, med_request, run

from guideline.fhirdata import Concept
from guideline.recognition.diagnoses import RULES, names_diagnosis
from guideline.set_names import MALIGNANT_CANCER, POINT_OF_CARE_CANCER

OXYCODONE = "1049621"
LONG = 20_000

# -- Cancer names (recognition.diagnoses): `\w*carcinoma\b` retried the whole word from each of its letters ----------


@pytest.mark.parametrize(
    ("words", "named"),
    [
        ("Pancreatic adenocarcinoma", "adenocarcinoma"),
        ("Hepatocellular carcinoma", "carcinoma"),
        ("Carcinoma of colon", "Carcinoma"),
        ("Cholangiocarcinoma", "Cholangiocarcinoma"),
        ("adeno-carcinoma of lung", "carcinoma"),
        ("Osteosarcoma of femur", "Osteosarcoma"),
        ("Leiomyosarcoma", "Leiomyosarcoma"),
        ("Non-Hodgkin lymphoma", "lymphoma"),
        ("Diffuse large B-cell lymphoma", "lymphoma"),
        ("Glioblastoma multiforme", "Glioblastoma"),
        ("Neuroblastoma", "Neuroblastoma"),
        ("Metastatic pancreatic adenocarcinoma", "Metastatic"),
        ("Lung cancer", "cancer"),
        ("Carcinomatosis", None),  # no word rule names it: left unread and named, as before
        ("Carcinoid tumor", None),
        ("Low back pain", None),
    ],
)
def test_cancer_names_read_real_entries_as_before(words: str, named: str | None) -> None:
    found = RULES[MALIGNANT_CANCER].names.search(words)
    assert (found.group() if found else None) == named


@pytest.mark.parametrize(
    ("words", "active"),
    [
        ("a" * LONG, False),
        ("1" * LONG, False),
        ("carcinom" * (LONG // 8), False),
        ("a" * LONG + "carcinoma", True),
        ("Metastatic lung cancer " + "a" * LONG, True),
        ("Lung cancer " * (LONG // 12), True),
        ("History of lung cancer " + "a" * LONG, False),
        ("Skin cancer " + "a" * LONG, False),  # a keratinocyte skin cancer alone: not a point-of-care cancer
    ],
)
def test_a_long_entry_is_read_by_its_words_as_a_short_one(words: str, active: bool) -> None:
    assert names_diagnosis(POINT_OF_CARE_CANCER, Concept((), words)) is active


def text_only(words: str) -> dict[str, Any]:
    """A problem-list entry written as text, with no coding."""
    resource = condition(SNOMED, "0")
    resource["code"] = {"text": words}
    return resource


@pytest.mark.parametrize(
    ("words", "exclusion"),
    [
        ("a" * LONG, []),
        ("Metastatic lung cancer " + "a" * LONG, ["active_cancer"]),
    ],
)
def test_a_long_problem_list_entry_excludes_as_its_words_say(words: str, exclusion: list[str]) -> None:
    draft = med_request(OXYCODONE, draft=True, id="ox1", dose=2, period=4)
    facts = run("order-sign", drafts=[draft], resources=[text_only(words)]).facts
    assert [f.name for f in facts.exclusions] == exclusion
