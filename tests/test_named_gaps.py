"""Every kind of uncounted item in the registry is named on each face it declares (card, plan page, note), and on no
other: one chart holding items of every kind goes through the hook service and the plan page's server-side build
(selections that name no draft, an order-select call of their own)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from builders import TODAY, days_ago, med_request, run
from cds_support import bundle, full_prefetch, hook_request, make_app
from markupsafe import escape  # what the page template escapes with (an apostrophe is &#39;)
from named_gaps_support import LORAZEPAM, OXYCODONE, every_gap_drafts, every_gap_resources, every_gap_selections
from werkzeug.datastructures import MultiDict

from guideline.config import GuidelineConfig
from guideline.history import history_start
from guideline.named_gaps import CARD_ORDER, IN_NOTE, NAMED_GAPS, NOTE_ORDER, ON_CARD, ON_PAGE, NamedGap, worded
from guideline.plan import PlanView, build_plan
from smart_app.plan_view import PageInput, assemble, render_page

# The prefetch key each resource type of the chart travels in (an administration is read from any key).
PREFETCH_KEYS = {
    "MedicationRequest": "medsActive",
    "MedicationDispense": "dispenses",
    "Observation": "udsLabs",
    "Procedure": "procedures",
    "MedicationAdministration": "procedures",
    "Condition": "conditions",
    "DiagnosticReport": "labReports",
    "Patient": "patient",  # the one resource of its key, not a Bundle
}
SELECTIONS = "unmatched-selections"  # the kind only an order-select call has
LISTED = 10  # the card names this many items of a kind, then counts the rest
# The kinds as the faces show them on the default settings (a window of days in their text filled in).
SHOWN = worded(NAMED_GAPS, GuidelineConfig.from_mapping({}))


def _items(count: int) -> dict[str, tuple[str, ...]]:
    facts = run(
        "order-sign", drafts=every_gap_drafts(count), resources=every_gap_resources(count), checks_patient=True
    ).facts
    found = {kind.key: kind.items(facts) for kind in NAMED_GAPS}
    # Selections that name no draft are an order-select kind: its own call, as the card's is below.
    selecting = run("order-select", drafts=every_gap_drafts(count), selections=every_gap_selections(count)).facts
    found[SELECTIONS] = next(kind for kind in NAMED_GAPS if kind.key == SELECTIONS).items(selecting)
    return found


def _card_items(hook: str, count: int) -> dict[str, tuple[str, ...]]:
    """What the data-incomplete card of `hook` names of each kind (patient-view has no drafts); on order-sign with
    what the order-select call of `_card_detail` names of selections that name no draft."""
    drafts = every_gap_drafts(count) if hook != "patient-view" else []
    facts = run(hook, drafts=drafts, resources=every_gap_resources(count), checks_patient=True).facts
    named = {kind.key: kind.card_named(facts) for kind in NAMED_GAPS}
    if hook == "order-sign":
        selecting = run("order-select", drafts=every_gap_drafts(count), selections=every_gap_selections(count)).facts
        named[SELECTIONS] = next(kind for kind in NAMED_GAPS if kind.key == SELECTIONS).card_named(selecting)
    return named


def _card_detail(tmp_path: Path, count: int, hook: str = "order-sign") -> str:
    by_key: dict[str, list[dict[str, Any]]] = {}
    for resource in every_gap_resources(count):
        by_key.setdefault(PREFETCH_KEYS[resource["resourceType"]], []).append(resource)
    prefetch = full_prefetch(
        hook, **{key: found[0] if key == "patient" else bundle(*found) for key, found in by_key.items()}
    )
    drafts = every_gap_drafts(count) if hook != "patient-view" else []
    body = hook_request(hook, drafts=drafts, prefetch=prefetch)
    client = make_app(tmp_path).test_client()
    answers = [client.post(f"/cds-services/{hook}", json=body)]
    if hook == "order-sign":  # selections that name no draft: an order-select call of their own
        selecting = hook_request("order-select", drafts=every_gap_drafts(count))
        selecting["context"]["selections"] = every_gap_selections(count)
        answers.append(client.post("/cds-services/order-select", json=selecting))
    assert all(answer.status_code == 200 for answer in answers)
    return "".join(
        next(c for c in answer.json["cards"] if c["source"]["topic"]["code"] == "data-incomplete")["detail"]
        for answer in answers
    )


def _plan(tmp_path: Path, count: int) -> tuple[PlanView, str]:
    """The plan view and its page's data-completeness panel, built as the page builds them (with the drafts a card's
    link carries), without the network."""
    app = make_app(tmp_path)
    settings = app.config["PAINPLAN"]
    with app.test_request_context("/plan"):
        view = assemble(
            PageInput(tuple(every_gap_resources(count)), (), ()),  # the chart's own Patient among them
            settings.guideline,
            "p1",
            settings.evaluation_now(),
            MultiDict(),
            drafts=every_gap_drafts(count),
        )
        page = render_page(view, MultiDict(), lambda **_: "/plan", handle="H")
    panel = re.search(r'<section id="completeness".*?</section>', page, re.S)
    assert panel, "the page has its data-completeness panel"
    return view, panel.group(0)


@pytest.fixture(scope="module")
def items() -> Mapping[str, tuple[str, ...]]:
    return _items(2)


def test_the_chart_holds_items_of_every_kind(items: Mapping[str, tuple[str, ...]]) -> None:
    # A new kind in the registry needs items in named_gaps_support, or no test below would see it on any face.
    assert {key for key, named in items.items() if len(named) != 2} == set()


@pytest.mark.parametrize(("hook", "count"), [("order-sign", 2), ("patient-view", 1)])
def test_each_kind_is_named_on_the_card_if_and_only_if_it_declares_the_card(
    tmp_path: Path, hook: str, count: int
) -> None:
    # Patient-view with one item of each kind: its current opioids reach the high-dose card, which lists the one whose
    # MME could not be worked out, so the data-incomplete card must not name it again.
    detail = _card_detail(tmp_path, count, hook)
    on_card, items = _card_items(hook, count), _items(count)
    for kind in SHOWN:
        for item in on_card[kind.key]:
            assert kind.card is not None, kind.key
            assert f"- {item}: {kind.card.why}\n" in detail, kind.key
        for item in items[kind.key]:
            if item not in on_card[kind.key]:
                assert f"- {item}: " not in detail, f"{kind.key} is named on the {hook} card though it should not be"


def test_the_kinds_named_on_patient_view_only_are_not_named_on_order_sign() -> None:
    # Order-sign names these on cards of their own (`high-mme`'s unknown-dose card, `unidentified-medication`);
    # tests/test_patient_view_named_gaps.py shows patient-view naming them.
    order_sign = _card_items("order-sign", 1)
    for key in ("unidentified-medications", "unconverted-opioids"):
        assert order_sign[key] == (), key
    assert len(_card_items("patient-view", 1)["unidentified-medications"]) == 1


def test_the_card_counts_what_it_does_not_list_for_each_kind(tmp_path: Path) -> None:
    detail = _card_detail(tmp_path, LISTED + 2)
    # The kinds the order-sign card names whole; the patient-view ones are counted by the same code.
    for kind in (kind for kind in worded(ON_CARD, GuidelineConfig.from_mapping({})) if kind.card_items is None):
        assert kind.card is not None
        assert f"- {kind.card.others}: 2 more\n" in detail, kind.key


def test_each_kind_is_named_on_the_plan_page_if_and_only_if_it_declares_the_page(tmp_path: Path) -> None:
    for count in (1, 2):
        view, panel = _plan(tmp_path / str(count), count)
        for kind in SHOWN:
            named = _items(count)[kind.key]
            if kind.page is not None:
                assert view.named[kind.key] == named
                assert f'<p class="hint">{escape(kind.page.text(count))}</p>' in panel, kind.key
                listed = "".join(f"<li>{escape(item)}</li>" for item in named)
                assert f'<ul id="{kind.key}">{listed}</ul>' in panel, kind.key
            else:
                assert f'id="{kind.key}"' not in panel
                assert not any(escape(item) in panel for item in named), kind.key


def test_each_kind_is_named_in_the_note_if_and_only_if_it_declares_the_note(
    items: Mapping[str, tuple[str, ...]],
) -> None:
    evaluation = run("order-sign", drafts=every_gap_drafts(2), resources=every_gap_resources(2), checks_patient=True)
    note = build_plan(evaluation, (), evaluation.facts.config, evaluation.facts.now).note
    for kind in SHOWN:
        if kind.note is not None:
            assert f"\n{kind.note}: {'; '.join(items[kind.key])}\n" in note + "\n", kind.key
        else:
            assert not any(item in note for item in items[kind.key]), kind.key


def test_each_face_lists_every_kind_it_declares_once() -> None:
    def keys(kinds: tuple[NamedGap, ...]) -> list[str]:
        return [kind.key for kind in kinds]

    assert keys(ON_CARD) == [*CARD_ORDER, *(k.key for k in NAMED_GAPS if k.on_card and k.key not in CARD_ORDER)]
    assert sorted(keys(ON_CARD)) == sorted(k.key for k in NAMED_GAPS if k.on_card)
    assert keys(ON_PAGE) == [k.key for k in NAMED_GAPS if k.on_page]
    assert sorted(keys(IN_NOTE)) == sorted(k.key for k in NAMED_GAPS if k.in_note)
    assert keys(IN_NOTE)[: len(NOTE_ORDER)] == list(NOTE_ORDER)


def test_no_face_shows_a_window_of_days_unfilled() -> None:
    for kind in SHOWN:
        texts = [kind.note or ""]
        if kind.card is not None:
            texts += [kind.card.why, kind.card.others]
        if kind.page is not None:
            texts += [kind.page.text(1), kind.page.text(2)]
        assert not any("{" in text for text in texts), kind.key


# -- an ended order of the last 90 days whose medicine cannot be identified ------------------------------------------


def _ended_unidentified(ident: str, authored_days_ago: int) -> dict[str, Any]:
    """A completed opioid-era order naming its medicine by a contained Medication with no code (as a broken interface
    sends one): nothing tells what it was."""
    order = med_request("0", id=ident, status="completed", authored=days_ago(authored_days_ago), supply_days=30)
    del order["medicationCodeableConcept"]
    order["medicationReference"] = {"reference": "#med-no-code"}
    order["contained"] = [{"resourceType": "Medication", "id": "med-no-code", "status": "active"}]
    return order


def _past(hook: str, drafts: list[dict[str, Any]], resources: list[dict[str, Any]]) -> tuple[tuple, tuple]:
    """(what the plan page names of ended unidentified orders, what the data-incomplete card names of them)."""
    facts = run(hook, drafts=drafts, resources=resources).facts
    kinds = [kind for kind in NAMED_GAPS if kind.key == "unidentified-past-orders"]
    return (kinds[0].items(facts), kinds[0].card_named(facts)) if kinds else ((), ())


def test_an_ended_order_of_the_last_90_days_that_cannot_be_identified_is_named() -> None:
    # It may have been an opioid: the 90 days of opioid history (long-term use, recent start, opioid-naive) could not
    # count it, and the plan page's reassessment tile read a history without it, with nothing named.
    signed = med_request(OXYCODONE, draft=True, id="draft-oxy", supply_days=5)
    page, on_card = _past("order-sign", [signed], [_ended_unidentified("mr-ended", 40)])
    assert page == (
        "medication #med-no-code (its Medication names no medicine: no code, name or ingredient) "
        "(completed order mr-ended)",
    )
    assert on_card == page  # an opioid is being ordered: the checks that read the history judge it


def test_an_ended_unidentified_order_is_left_off_the_card_where_no_check_reads_the_history() -> None:
    benzo = med_request(LORAZEPAM, draft=True, id="draft-benzo", supply_days=5)
    page, on_card = _past("order-sign", [benzo], [_ended_unidentified("mr-ended", 40)])
    assert len(page) == 1 and on_card == ()
    # Older than the 90 days the history reads: it could change nothing, and is not named at all.
    assert _past("order-sign", [benzo], [_ended_unidentified("mr-old", 200)]) == ((), ())


def test_an_ended_unidentified_order_is_named_while_its_supply_reaches_the_history_window() -> None:
    # The same 90 days as the long-term therapy windows (history_start): 30 days' supply written 118 days ago ends
    # on the window's first day (today - 89) and could have counted; written a day earlier, it ended before it.
    benzo = med_request(LORAZEPAM, draft=True, id="draft-benzo", supply_days=5)
    reaching = (TODAY - history_start(TODAY)).days + 29
    assert reaching == 118
    assert len(_past("order-sign", [benzo], [_ended_unidentified("mr-edge", reaching)])[0]) == 1
    assert _past("order-sign", [benzo], [_ended_unidentified("mr-before", reaching + 1)]) == ((), ())
