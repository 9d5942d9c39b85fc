"""A PEG panel one of whose three items cannot be read is named as not shown, never dropped unseen."""

from __future__ import annotations

from typing import Any

from builders import LOINC, days_ago, observation
from cds_support import plan_page
from test_plan import plan_for, rich_patient


def _peg_panel(when: str, **items: Any) -> dict[str, Any]:
    """A PEG panel (91148-7) as Epic files the questionnaire: its three items as components, no value of its own."""
    panel = observation("91148-7", when=when, category="survey")
    codes = {"pain": "75893-8", "enjoyment": "91145-3", "activity": "91146-1"}
    panel["component"] = [
        {"code": {"coding": [{"system": LOINC, "code": codes[name]}]}, **value} for name, value in items.items()
    ]
    return panel


def test_a_peg_whose_item_says_see_note_is_named_not_dropped() -> None:
    """The PEG of five days ago had "see note" for enjoyment of life: the page showed an older PEG as the latest and
    said nothing of the newer one (a panel has no value of its own to name)."""
    newer = _peg_panel(
        days_ago(5),
        pain={"valueQuantity": {"value": 6}},
        enjoyment={"valueString": "see note"},
        activity={"valueQuantity": {"value": 6}},
    )
    two_items = _peg_panel(days_ago(9), pain={"valueInteger": 5}, activity={"valueInteger": 4})
    scores = plan_for([*rich_patient(), newer, two_items]).section("scores").content
    assert f"PEG on {days_ago(5)}: enjoyment of life 'see note'" in scores.unread
    assert f"PEG on {days_ago(9)}: enjoyment of life not sent" in scores.unread
    assert days_ago(5) not in [p.day.isoformat() for p in scores.peg]


def test_the_page_names_it_under_the_scores(tmp_path) -> None:
    item_above_scale = _peg_panel(
        days_ago(3),
        pain={"valueQuantity": {"value": 14}},
        enjoyment={"valueQuantity": {"value": 5}},
        activity={"valueQuantity": {"value": 5}},
    )
    html = plan_page(tmp_path, item_above_scale)
    assert "Not shown, because no 0–10 score could be read from them:" in html
    assert f"PEG on {days_ago(3)}: average pain 14" in html
