"""A cut name's note shares its bracket with where the medicine was found because recognition says the name carries
the note, not because the shown text holds the note's words: an order whose own text holds them is named as written."""

from __future__ import annotations

import copy
import pickle

from builders import card, days_ago, med_request, run

from guideline.config import GuidelineConfig
from guideline.fhirdata import Concept
from guideline.recognition import Recognition, recognise
from guideline.recognition.cut_names import NotedName, with_where
from guideline.record import ResolvedMedication
from guideline.terminology import load_terminology

OXYCODONE = "1049621"  # oxycodone hydrochloride 5 MG Oral Tablet
CUT = "BUTALBITAL/ACETAMINOPHEN/CAFFEINE/C"


def active(text: str, id: str = "cur") -> dict[str, object]:
    order = med_request("0", id=id, authored=days_ago(5))
    order["medicationCodeableConcept"] = {"text": text}
    return order


def signed_beside(text: str) -> str:
    evaluation = run("order-sign", drafts=[med_request(OXYCODONE, draft=True, id="ox1")], resources=[active(text)])
    unidentified = card(evaluation, "unidentified-medication")
    assert unidentified is not None
    return unidentified.detail


def test_an_orders_own_text_that_reads_like_the_note_is_named_as_written() -> None:
    """Before: the words "(the name looks cut" in a free-text order were taken for PainPlan's note, and the order's
    own bracket was rewritten as "ZX-9 (current order cur; the name looks cut off in the import)"."""
    text = "ZX-9 (the name looks cut off in the import)"
    detail = signed_beside(text)
    assert f"- {text} (current order cur)" in detail


def test_a_cut_name_still_shares_one_bracket() -> None:
    detail = signed_beside(CUT)
    assert f"- {CUT} (current order cur; the name looks cut and may include codeine)" in detail


def test_recognition_names_a_cut_name_with_its_note_apart() -> None:
    terms = load_terminology(GuidelineConfig.from_mapping())
    recognition = recognise(ResolvedMedication(concept=Concept(text=CUT)), terms)
    assert recognition.display == f"{CUT} (the name looks cut and may include codeine)"  # shown alone, as before
    display = recognition.shown
    assert isinstance(display, NotedName)
    assert (display.name, display.note) == (CUT, recognition.cut_note)
    assert with_where(display, "fill f1") == f"{CUT} (fill f1; the name looks cut and may include codeine)"
    # a copy (the population review's workers, a memo) keeps the parts
    for kept in (pickle.loads(pickle.dumps(display)), copy.deepcopy(display), pickle.loads(pickle.dumps(recognition))):
        kept_shown = kept.shown if isinstance(kept, Recognition) else kept
        assert with_where(kept_shown, "fill f1") == with_where(display, "fill f1")


def test_the_note_is_a_typed_field_no_string_operation_loses() -> None:
    """The shown text is a plain `str`: trimmed or sliced it is text as any other, and the note's parts are read
    from recognition's typed fields, not from the text (a `str` subclass lost them on `.strip()`)."""
    terms = load_terminology(GuidelineConfig.from_mapping())
    recognition = recognise(ResolvedMedication(concept=Concept(text=f"  {CUT}  ")), terms)
    assert type(recognition.display) is str
    assert with_where(recognition.display.strip(), "fill f1") == f"{recognition.display.strip()} (fill f1)"
    assert with_where(recognition.shown, "fill f1") == f"{CUT} (fill f1; the name looks cut and may include codeine)"
    assert str(recognition.shown) == recognition.display
