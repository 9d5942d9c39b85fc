"""A specimen validity result that names no specimen and gives a date only (effectiveDateTime "2026-05-02", or a time
of midnight, as several interfaces send a date) is tied to the urine drug tests of its day: it cannot be told apart
from any of them, and a verdict ("dilute") only ever leaves a negative unread. Dropped, a creatinine of 5 mg/dL left
the day's negative read as a real negative, and the unexpected-negative card could accuse the patient."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

import pytest
from builders import TZ, days_ago, patient, run
from cds_support import topics
from test_plan import plan_for
from test_specimen_validity_units import KIND
from test_uds_history_card_words import LABORATORY, _page, _row, _uds_table
from test_uds_specimen_validity import _creatinine, _with_specimen
from test_uds_unreadable_specimen import TEST_DAY, WHY_DILUTE, _long_term_fills, _order_sign, _patient_view, _screen

from guideline.named_gaps import NAMED_GAPS
from guideline.record import Observation, build_record
from guideline.uds import validity_of

DURING_SUPPLY = days_ago(20)  # the oxycodone filled every 30 days was prescribed that day


def _midnight(day: str) -> str:
    """The day's local midnight as an interface that sends a date as a time writes it, with the zone's offset."""
    return datetime.combine(date.fromisoformat(day), time(), TZ).isoformat()


OXYCODONE_SCREEN = "oxyCODONE+oxyMORphone Ur Ql Scn"


def _taken(results: list[dict[str, Any]], when: str) -> list[dict[str, Any]]:
    return [r | {"effectiveDateTime": when} for r in results]


def _epic_screen(day: str) -> list[dict[str, Any]]:
    """Epic Beaker's negative screen, collected at 09:14 that day."""
    return _taken(_screen("NEGATIVE", "NEGATIVE"), f"{day}T09:14:00-05:00")


def _quest_creatinine(value: float, when: str, **kw: Any) -> dict[str, Any]:
    """Quest's urine creatinine (LOINC 2161-8, mg/dL) with no specimen reference, dated `when` as sent."""
    return _creatinine(value, category=LABORATORY, effectiveDateTime=when, **kw)


@pytest.mark.parametrize("when", [DURING_SUPPLY, _midnight(DURING_SUPPLY)])
def test_a_dilute_creatinine_sent_with_a_date_only_leaves_the_prescribed_negative_unaccused(tmp_path, when) -> None:
    """Creatinine 5 mg/dL, its date alone: the oxycodone negative is unreadable, not "negative although prescribed"."""
    screen = _epic_screen(DURING_SUPPLY)
    assert "unexpected-uds-result" in topics(_order_sign(tmp_path, screen))
    answer = _order_sign(tmp_path, [*screen, _quest_creatinine(5, when)])
    assert "unexpected-uds-result" not in topics(answer)


@pytest.mark.parametrize("when", [TEST_DAY, _midnight(TEST_DAY)])
def test_the_plan_page_shows_the_test_unreadable_dilute(tmp_path, when) -> None:
    """The row reads no result and the tile says why: a dilute specimen, a new test due."""
    chart = [patient(), *_long_term_fills(), *_epic_screen(TEST_DAY), _quest_creatinine(5, when)]
    html = _page(tmp_path, chart)
    row = _row(_uds_table(html), OXYCODONE_SCREEN)
    assert "<td>no reading</td>" in row and "<td>negative</td>" not in row
    assert WHY_DILUTE in html
    tile = next(t for t in plan_for(chart[1:]).section("tasks").content if t.key == "uds")
    assert tile.detail.startswith(WHY_DILUTE)


def test_a_screen_sent_with_a_date_only_is_tied_to_its_days_timed_creatinine(tmp_path) -> None:
    """The other way round: the drug results dated by their day alone, the creatinine to the minute."""
    results = [*_taken(_screen("NEGATIVE", "NEGATIVE"), TEST_DAY), _quest_creatinine(5, f"{TEST_DAY}T09:14:00-05:00")]
    found = next(
        c for c in _patient_view(tmp_path, results)["cards"] if c["source"]["topic"]["code"] == "urine-drug-test"
    )
    assert WHY_DILUTE in found["detail"]


def test_a_creatinine_dated_another_day_changes_nothing(tmp_path) -> None:
    results = [*_epic_screen(TEST_DAY), _quest_creatinine(5, days_ago(100))]
    assert "urine-drug-test" not in topics(_patient_view(tmp_path, results))


def test_a_date_only_creatinine_of_another_specimen_changes_nothing(tmp_path) -> None:
    """Both name their specimen, and they differ: the lab says it is another sample."""
    screen = _with_specimen(_epic_screen(TEST_DAY), "Specimen/sp1")
    other = _with_specimen([_quest_creatinine(5, TEST_DAY)], "Specimen/sp2")
    assert "urine-drug-test" not in topics(_patient_view(tmp_path, [*screen, *other]))


def test_a_date_only_creatinine_naming_its_specimen_is_tied_to_an_unreferenced_screen(tmp_path) -> None:
    """The screen names no specimen, so the reference cannot tell them apart, nor can the minute: the day ties."""
    creatinine = _with_specimen([_quest_creatinine(5, TEST_DAY)], "Specimen/sp1")
    found = _patient_view(tmp_path, [*_epic_screen(TEST_DAY), *creatinine])
    assert any(WHY_DILUTE in c["detail"] for c in found["cards"])


def test_a_date_only_creatinine_not_judged_is_named_beside_its_days_negative() -> None:
    """A creatinine with no unit, dated by its day: named as not judged, as one sent to the minute is."""
    unread = _quest_creatinine(15, TEST_DAY) | {"valueQuantity": {"value": 15}}
    facts = run("patient-view", resources=[*_long_term_fills(), *_epic_screen(TEST_DAY), unread]).facts
    items = next(g for g in NAMED_GAPS if g.key == KIND).items(facts)
    assert items == (
        f"Creatinine [Mass/volume] in Urine 15, sent with no unit (specimen of the urine drug test of {TEST_DAY})",
    )


def _observations(resources: list[dict[str, Any]]) -> tuple[Observation, ...]:
    return build_record([patient(), *resources], TZ).observations


def test_a_date_only_creatinine_is_read_of_every_specimen_of_its_day() -> None:
    """Two specimens that day (09:14 and 15:30, each named): a date alone cannot tell which it is of, so both
    specimens' negatives go unread rather than one read on a specimen that may be dilute."""
    morning = _with_specimen(_epic_screen(TEST_DAY), "Specimen/sp1")
    later = [r | {"id": f"{r['id']}.pm"} for r in _taken(_screen("NEGATIVE", "NEGATIVE"), f"{TEST_DAY}T15:30:00-05:00")]
    afternoon = _with_specimen(later, "Specimen/sp2")
    observations = _observations([*morning, *afternoon, _quest_creatinine(5, TEST_DAY)])
    verdicts = validity_of(observations).verdicts
    drug = [o for o in observations if o.code and o.code.display() != "Creatinine [Mass/volume] in Urine"]
    assert len(drug) == 4
    assert all(verdicts.of(o) == ("dilute",) for o in drug)


# -- found unfit at another minute of the day: not tied, named -------------------------------------------------

ELSEWHERE = (
    "Creatinine [Mass/volume] in Urine 12 mg/dL read dilute, perhaps of another sample: taken at 14:02, not at the "
    "time of the drug test's specimen"
)


def test_a_dilute_creatinine_taken_at_another_minute_is_named_beside_the_days_unexpected_negative(tmp_path) -> None:
    """Collected at 14:02, the screen at 09:14: perhaps another sample, so the negative is still read, but the card
    says a dilute specimen can read negative, where it called the negative unexpected with nothing said."""
    later = _quest_creatinine(12, f"{DURING_SUPPLY}T14:02:00-04:00", flag="L")
    answer = _order_sign(tmp_path, [*_taken(_screen("NEGATIVE", "NEGATIVE"), f"{DURING_SUPPLY}T09:14:00-04:00"), later])
    found = next(c for c in answer["cards"] if c["source"]["topic"]["code"] == "unexpected-uds-result")
    assert (
        f"a dilute specimen can read negative, and this one's validity could not be judged: {ELSEWHERE}\n"
        in (found["detail"])
    )


def test_a_dilute_creatinine_taken_at_another_minute_is_named_on_the_plan_page() -> None:
    later = _quest_creatinine(12, f"{TEST_DAY}T14:02:00-05:00", flag="L")
    plan = plan_for([patient(), *_long_term_fills(), *_epic_screen(TEST_DAY), later])
    assert plan.named[KIND] == (f"{ELSEWHERE} (specimen of the urine drug test of {TEST_DAY})",)
    tile = next(t for t in plan.section("tasks").content if t.key == "uds")
    assert "could not be read" not in tile.detail  # not tied: the negative is still the year's test


def test_a_normal_creatinine_taken_at_another_minute_is_not_named() -> None:
    later = _quest_creatinine(85, f"{TEST_DAY}T14:02:00-05:00")
    plan = plan_for([patient(), *_long_term_fills(), *_epic_screen(TEST_DAY), later])
    assert plan.named[KIND] == ()


def test_a_dilute_creatinine_of_another_named_specimen_is_not_named() -> None:
    """The lab names both specimens, and they differ: another sample for certain, nothing to name."""
    screen = _with_specimen(_epic_screen(TEST_DAY), "Specimen/sp1")
    other = _with_specimen([_quest_creatinine(12, f"{TEST_DAY}T14:02:00-05:00", flag="L")], "Specimen/sp2")
    plan = plan_for([patient(), *_long_term_fills(), *screen, *other])
    assert plan.named[KIND] == ()
