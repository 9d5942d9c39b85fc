"""`pdmp-review` (guideline 10.9): any new opioid order without a PDMP review documented in the last 90 days."""

from __future__ import annotations

from datetime import timedelta

import pytest
from builders import (
    NOW,
    SNOMED,
    assert_person_centred,
    card,
    days_ago,
    encounter,
    med_request,
    observation,
    procedure,
    run,
)
from fhir.resources.R4B.procedure import Procedure

from guideline.cards import SUMMARY_LIMIT, Snooze
from guideline.checks import CHECKS, pdmp_review

CHECK = pdmp_review.CHECK_ID
OXYCODONE = "1049621"  # oxycodone hydrochloride 5 MG Oral Tablet
BUP_NALOXONE = "1010604"  # buprenorphine 8 MG / naloxone 2 MG Sublingual Film
LORAZEPAM = "104719"  # lorazepam 1 MG Oral Tablet [Ativan]
REVIEW_PROCEDURE = "461621000124108"  # Review of prescription drug monitoring program record (procedure)
REVIEW_FINDING = "461651000124104"  # Review of prescription drug monitoring program record done (situation)


@pytest.fixture(autouse=True)
def registered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(CHECKS, CHECK, pdmp_review)


def oxy(**kwargs: object) -> dict:
    return med_request(OXYCODONE, draft=True, id="ox1", supply_days=3, **kwargs)  # type: ignore[arg-type]


def sign(*drafts: dict, resources: list[dict] | None = None, config: dict | None = None, snoozes=()):
    evaluation = run("order-sign", drafts=list(drafts), resources=resources or [], config=config, snoozes=snoozes)
    return card(evaluation, CHECK)


def test_short_acute_order_without_any_review_is_a_warning() -> None:
    """Reference differs: only subacute/chronic orders trigger there; any opioid order does here."""
    result = sign(oxy())
    assert result is not None and result.indicator == "warning"
    assert result.summary == "No PDMP review on record; check Connecticut CPMRS (PDMP) before prescribing"
    assert "No PDMP review is documented" in result.detail
    assert "oxycodone hydrochloride 5 MG Oral Tablet" in result.detail
    assert "benzodiazepines" in result.detail and "*Based on:" in result.detail
    assert result.suggestions == ()
    pdmp, rec9 = result.links
    assert (pdmp.label, pdmp.url, pdmp.type) == ("Connecticut CPMRS (PDMP)", "https://www.ctpmp.com/", "absolute")
    assert rec9.url.endswith("#Recommendation9")
    assert [r.code for r in result.override_reasons] == [
        "pdmp-reviewed",
        "pdmp-unavailable",
        "excluded-condition",
        "wrong-clinician",
        "snooze-3-months-with-comment",
    ]
    assert_person_centred(result)


def test_review_within_90_days_suppresses_and_the_window_is_closed() -> None:
    assert sign(oxy(), resources=[procedure(SNOMED, REVIEW_PROCEDURE, performed=days_ago(30))]) is None
    assert sign(oxy(), resources=[procedure(SNOMED, REVIEW_PROCEDURE, performed=days_ago(90))]) is None


def test_older_review_is_dated_in_the_card() -> None:
    result = sign(oxy(), resources=[procedure(SNOMED, REVIEW_PROCEDURE, performed=days_ago(91))])
    assert result is not None
    assert "(last: 2026-03-16)" in result.summary and len(result.summary) <= SUMMARY_LIMIT
    assert "The last documented PDMP review was on 2026-03-16" in result.detail
    assert result.facts["last_review"] == "2026-03-16"


def test_review_procedure_must_be_completed() -> None:
    in_progress = procedure(SNOMED, REVIEW_PROCEDURE, performed=days_ago(5), status="in-progress")
    assert sign(oxy(), resources=[in_progress]) is not None


def test_cross_coded_procedure_counts() -> None:
    """Testing note (Rec 9 "out-PDMP-review-90-days"): a Procedure coded with the finding code; no card here."""
    assert sign(oxy(), resources=[procedure(SNOMED, REVIEW_FINDING, performed=days_ago(60))]) is None


@pytest.mark.parametrize("code", [REVIEW_FINDING, REVIEW_PROCEDURE])
def test_review_observation_counts_with_either_code(code: str) -> None:
    finding = observation(code, system=SNOMED, when=days_ago(10), category=None)
    assert sign(oxy(), resources=[finding]) is None


def test_preliminary_observation_does_not_count() -> None:
    finding = observation(REVIEW_FINDING, system=SNOMED, when=days_ago(10), status="preliminary")
    assert sign(oxy(), resources=[finding]) is not None


def reviewed_snooze(reason: str = "pdmp-reviewed", patient_id: str = "p1", set_days_ago: int = 20) -> Snooze:
    """An override recorded earlier; already expired, so only the check itself can treat it as a review."""
    return Snooze(
        check_id=CHECK,
        patient_id=patient_id,
        until=NOW - timedelta(days=1),
        indicator="warning",
        reason=reason,
        set_at=NOW - timedelta(days=set_days_ago),
    )


def test_pdmp_reviewed_override_counts_as_a_review() -> None:
    evaluation = run("order-sign", drafts=[oxy()], snoozes=[reviewed_snooze()])
    assert card(evaluation, CHECK) is None and evaluation.snoozed == ()


@pytest.mark.parametrize(
    "snooze",
    [
        reviewed_snooze(reason="pdmp-unavailable"),
        reviewed_snooze(patient_id="someone-else"),
        reviewed_snooze(set_days_ago=120),
    ],
    ids=["other-reason", "other-patient", "too-old"],
)
def test_other_overrides_are_not_reviews(snooze: Snooze) -> None:
    assert sign(oxy(), snoozes=[snooze]) is not None


def test_buprenorphine_treatment_also_triggers() -> None:
    """MOUD orders are not exempt from the PDMP review (10.0.6)."""
    result = sign(med_request(BUP_NALOXONE, draft=True, id="bup1", supply_days=7))
    assert result is not None and result.orders == ("bup1",)


def test_benzodiazepine_drafts_trigger_only_when_configured() -> None:
    lorazepam = med_request(LORAZEPAM, draft=True, id="lz1", supply_days=10)
    assert sign(lorazepam) is None
    result = sign(lorazepam, config={"checks": {CHECK: {"include_benzodiazepines": True}}})
    assert result is not None and "lorazepam" in result.detail and result.orders == ("lz1",)


def test_non_opioid_order_does_not_fire() -> None:
    assert sign(med_request("197806", draft=True)) is None  # ibuprofen 600 MG Oral Tablet


def test_site_pdmp_links_and_smart_app() -> None:
    config = {
        "pdmp": {"label": "State PMP", "url": "https://pmp.example.org/", "smart_url": "https://pmp.example.org/launch"}
    }
    result = sign(oxy(), config=config)
    assert result is not None
    assert "check State PMP before prescribing" in result.summary
    absolute, smart, _ = result.links
    assert (absolute.label, absolute.url) == ("State PMP", "https://pmp.example.org/")
    assert (smart.type, smart.url) == ("smart", "https://pmp.example.org/launch")


def test_documentation_suggestion_creates_a_valid_procedure() -> None:
    result = sign(oxy(), config={"checks": {CHECK: {"suggest_documentation": True}}})
    assert result is not None
    (suggestion,) = result.suggestions
    assert suggestion.label == "Document PDMP review" and suggestion.action == "create"
    resource = dict(suggestion.resource or {})
    assert resource["status"] == "completed"
    assert resource["code"]["coding"][0]["code"] == REVIEW_PROCEDURE
    assert resource["subject"] == {"reference": "Patient/p1"}
    assert resource["performedDateTime"].startswith("2026-06-15T12:00")
    Procedure.model_validate(resource)


def test_lookback_is_configurable() -> None:
    resources = [procedure(SNOMED, REVIEW_PROCEDURE, performed=days_ago(45))]
    result = sign(oxy(), resources=resources, config={"checks": {CHECK: {"lookback_days": 30}}})
    assert result is not None and "last 30 days" in result.summary


def test_hospice_discharge_excludes_unless_the_site_turns_exclusions_off() -> None:
    hospice = encounter(start=days_ago(40), discharge=(SNOMED, "385763009"))
    assert sign(oxy(), resources=[hospice]) is None
    config = {"checks": {CHECK: {"apply_general_exclusions": False}}}
    assert sign(oxy(), resources=[hospice], config=config) is not None


def test_disabled_check_is_silent() -> None:
    assert sign(oxy(), config={"checks": {CHECK: {"enabled": False}}}) is None


EPIC_FLOWSHEET = "urn:oid:1.2.840.114350.1.13.0.1.7.2.707679"  # a site's flowsheet rows
SITE_ROW = {"pdmp": {"review_codes": [f"{EPIC_FLOWSHEET}|30412"]}}


def flowsheet_row(value: str, code: str = "30412") -> dict:
    return observation(code, system=EPIC_FLOWSHEET, when=days_ago(10), value_string=value, category="survey")


def test_a_review_charted_in_a_site_flowsheet_row_counts_once_the_row_is_configured() -> None:
    # Sites chart the PDMP review in a flowsheet row of their own; the card fired after every such review.
    assert sign(oxy(), resources=[flowsheet_row("Yes")]) is not None
    assert sign(oxy(), resources=[flowsheet_row("Yes")], config=SITE_ROW) is None
    assert sign(oxy(), resources=[flowsheet_row("Yes", code="30413")], config=SITE_ROW) is not None


@pytest.mark.parametrize("answer", ["No", "N", "Not reviewed", "Not done", "Unable to access PDMP", "false"])
def test_a_review_row_answered_no_is_no_review(answer: str) -> None:
    result = sign(oxy(), resources=[flowsheet_row(answer)], config=SITE_ROW)
    assert result is not None and "No PDMP review is documented" in result.detail


def test_a_review_finding_coded_no_is_no_review() -> None:
    finding = observation(REVIEW_FINDING, system=SNOMED, when=days_ago(10), value_code=(SNOMED, "373067005"))
    assert sign(oxy(), resources=[finding]) is not None
    finding = observation(REVIEW_FINDING, system=SNOMED, when=days_ago(10), value_code=(SNOMED, "373066001"))
    assert sign(oxy(), resources=[finding]) is None  # Yes


@pytest.mark.parametrize("bad", [["30412"], f"{EPIC_FLOWSHEET}|30412", [f"{EPIC_FLOWSHEET}|"], [7]])
def test_a_malformed_review_code_stops_the_program_naming_the_key(bad: object) -> None:
    from guideline.config import ConfigError, GuidelineConfig
    from guideline.terminology import load_terminology

    with pytest.raises(ConfigError, match="pdmp.review_codes"):
        load_terminology(GuidelineConfig.from_mapping({"pdmp": {"review_codes": bad}}))


@pytest.mark.parametrize("flag", ["notDone", "notPerformed"])  # STU3, DSTU2
def test_a_review_procedure_marked_not_done_in_stu3_or_dstu2_is_no_review(flag: str) -> None:
    review = procedure(SNOMED, REVIEW_PROCEDURE, performed=days_ago(10))
    assert sign(oxy(), resources=[review]) is None
    review[flag] = True
    assert sign(oxy(), resources=[review]) is not None


# -- the plan's PDMP tile reads the card's window --------------------------------------------------------------


@pytest.mark.parametrize(
    ("lookback", "reviewed_ago", "card_fires"),
    [
        (30, 45, True),  # the tile read 90 days: "up to date" beside a card asking for a review
        (180, 120, False),  # the tile read 90 days: "overdue" beside a quiet card
        (90, 90, False),
        (90, 91, True),
    ],
)
def test_the_plan_tile_is_overdue_exactly_when_the_card_fires(
    lookback: int, reviewed_ago: int, card_fires: bool
) -> None:
    from guideline.plan import build_plan

    config = {"checks": {CHECK: {"lookback_days": lookback}}}
    reviewed = procedure(SNOMED, REVIEW_PROCEDURE, performed=days_ago(reviewed_ago))
    evaluation = run("order-sign", drafts=[oxy()], resources=[reviewed], config=config)
    assert (card(evaluation, CHECK) is not None) is card_fires
    tiles = build_plan(evaluation, (), evaluation.facts.config, NOW).section("tasks").content
    tile = next(t for t in tiles if t.key == "pdmp")
    assert (tile.state == "overdue") is card_fires
    assert tile.next_due == NOW.date() - timedelta(days=reviewed_ago - lookback)
    assert f"at least every {lookback} days" in tile.detail


def _unread_reviews(evaluation) -> tuple[str, ...]:
    """What the data-incomplete card and the plan page name as reviews not counted (none before they were named)."""
    from guideline.named_gaps import NAMED_GAPS

    kinds = [kind for kind in NAMED_GAPS if kind.key == "unread-reviews"]
    return kinds[0].items(evaluation.facts) if kinds else ()


def test_a_review_row_whose_date_cannot_be_read_is_named_not_dropped() -> None:
    # A flowsheet row "PDMP reviewed" charted on a day that does not exist: not counted (no day to place it on),
    # so the card fires; before, nothing said a review was on record at all.
    row = {**observation(REVIEW_FINDING, system=SNOMED, when="2026-02-30"), "id": "obs-pdmp-feb30"}
    evaluation = run("order-sign", drafts=[oxy()], resources=[row])
    assert card(evaluation, CHECK) is not None
    assert _unread_reviews(evaluation) == ("PDMP review (observation obs-pdmp-feb30), no date",)


def test_a_review_row_whose_status_is_not_text_is_named_not_dropped() -> None:
    row = {**observation(REVIEW_FINDING, system=SNOMED, when=days_ago(10)), "id": "obs-pdmp-list"}
    row["status"] = ["final"]
    evaluation = run("order-sign", drafts=[oxy()], resources=[row])
    assert card(evaluation, CHECK) is not None
    assert _unread_reviews(evaluation) == ("PDMP review (observation obs-pdmp-list), status unknown",)


def test_a_review_of_unknown_status_is_not_named_beside_a_review_counted_in_the_window() -> None:
    # It could change nothing: the counted review already keeps the card quiet and the tile up to date.
    row = {**observation(REVIEW_FINDING, system=SNOMED, when=days_ago(10)), "status": "unknown"}
    counted = procedure(SNOMED, REVIEW_PROCEDURE, performed=days_ago(30))
    evaluation = run("order-sign", drafts=[oxy()], resources=[row, counted])
    assert card(evaluation, CHECK) is None
    assert _unread_reviews(evaluation) == ()
    # An unread review older than the window could not count either.
    old = {**observation(REVIEW_FINDING, system=SNOMED, when=days_ago(120)), "status": "unknown"}
    assert _unread_reviews(run("order-sign", drafts=[oxy()], resources=[old])) == ()


def test_an_unread_review_is_named_on_the_card_only_where_a_review_check_runs() -> None:
    """On patient-view with no current opioid neither review check runs: the page names the row, the card does not
    (naming it on every visit would be noise; nothing it could change is on the card)."""
    from guideline.named_gaps import NAMED_GAPS

    row = {**observation(REVIEW_FINDING, system=SNOMED, when="2026-02-30"), "id": "obs-pdmp-feb30"}
    kind = next(kind for kind in NAMED_GAPS if kind.key == "unread-reviews")
    quiet = run("patient-view", resources=[row])
    assert kind.items(quiet.facts) and kind.card_named(quiet.facts) == ()
    ordering = run("order-sign", drafts=[oxy()], resources=[row])
    assert kind.card_named(ordering.facts) == ("PDMP review (observation obs-pdmp-feb30), no date",)


def test_an_unread_review_is_named_on_the_card_when_a_benzodiazepine_order_asks_for_a_review() -> None:
    """With include_benzodiazepines a lorazepam order alone asks for a PDMP review: an unreadable review row on record
    is named on that card too (it was named only where an opioid was being ordered)."""
    from guideline.named_gaps import NAMED_GAPS

    row = {**observation(REVIEW_FINDING, system=SNOMED, when="2026-02-30"), "id": "obs-pdmp-feb30"}
    lorazepam = med_request(LORAZEPAM, draft=True, id="lz1", supply_days=10)
    config = {"checks": {CHECK: {"include_benzodiazepines": True}}}
    evaluation = run("order-sign", drafts=[lorazepam], resources=[row], config=config)
    assert card(evaluation, CHECK) is not None
    kind = next(kind for kind in NAMED_GAPS if kind.key == "unread-reviews")
    assert kind.card_named(evaluation.facts) == ("PDMP review (observation obs-pdmp-feb30), no date",)
