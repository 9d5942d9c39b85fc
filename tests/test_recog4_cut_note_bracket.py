"""A cut name's note and where it was found share one bracket: "… (current order cur; the name looks cut and may
include codeine)", never "… (the name looks cut …) (current order cur)"."""

from __future__ import annotations

from builders import card, days_ago, med_request, run

NDC = "http://hl7.org/fhir/sid/ndc"
OXYCODONE = "1049621"  # oxycodone hydrochloride 5 MG Oral Tablet


def active(concept: dict[str, object], id: str = "cur") -> dict[str, object]:
    order = med_request("0", id=id, authored=days_ago(5))
    order["medicationCodeableConcept"] = concept
    return order


# ---- 6. a cut name's note in one bracket ----------------------------------------------------------------------------


def test_a_cut_name_is_named_with_its_note_in_one_bracket() -> None:
    """Before: "BUTALBITAL/ACETAMINOPHEN/CAFFEINE/C (the name looks cut and may include codeine) (current order
    cur)", two brackets in a row."""
    concept = {"coding": [{"system": NDC, "code": "00591321901", "display": "BUTALBITAL/ACETAMINOPHEN/CAFFEINE/C"}]}
    evaluation = run("order-sign", drafts=[med_request(OXYCODONE, draft=True, id="ox1")], resources=[active(concept)])
    unidentified = card(evaluation, "unidentified-medication")
    assert unidentified is not None
    assert (
        "BUTALBITAL/ACETAMINOPHEN/CAFFEINE/C (current order cur; the name looks cut and may include codeine)"
        in unidentified.detail
    )
    assert ") (" not in unidentified.detail
