"""The urine drug test tile and step 1 ask for a test only from the patient the `urine-drug-test` card asks it for."""

from __future__ import annotations

from builders import days_ago, med_request, observation, patient
from test_plan import OXYCODONE_5, plan_for
from test_plan_steps import by_key


def _uds_and_step(resources):
    plan = plan_for(resources)
    tile = next(t for t in plan.section("tasks").content if t.key == "uds")
    assess = by_key(plan.section("steps").content)["assess"]
    topics = [c.check_id for c in plan.section("alerts").content.cards]
    return tile, assess, topics


def test_a_five_day_acute_prescription_asks_for_no_urine_drug_test() -> None:
    """Rec 10 is for subacute and chronic pain, and the card asks for a test only from a patient starting or on
    longer-term opioids: for a 5-day course after surgery the tile said "Due now" and step 1 "Urine drug test by
    <today>" beside a quiet card."""
    acute = med_request(
        OXYCODONE_5, id="post-op", status="active", authored=days_ago(2), dose=1, period=6, supply_days=5
    )
    tile, assess, topics = _uds_and_step([patient(), acute])
    assert "urine-drug-test" not in topics
    assert tile.state == "not-applicable" and tile.next_due is None
    assert not [d for d in assess.due if d.startswith("Urine drug test")]
    assert "PDMP/CPMRS review by " + days_ago(0) + "." in assess.due  # the PDMP is checked before any opioid


def test_an_old_test_is_not_overdue_for_an_acute_prescription_but_is_for_longer_term_therapy() -> None:
    old_test = observation("19295-5", when=days_ago(400), value_string="Negative")  # opiates screen, 13 months ago
    acute = med_request(
        OXYCODONE_5, id="post-op", status="active", authored=days_ago(2), dose=1, period=6, supply_days=5
    )
    tile, _, topics = _uds_and_step([patient(), acute, old_test])
    assert "urine-drug-test" not in topics and tile.state == "not-applicable"
    assert tile.last_done.isoformat() == days_ago(400)  # still shown, with its day

    longer = med_request(
        OXYCODONE_5, id="month", status="active", authored=days_ago(2), dose=1, period=6, supply_days=30
    )
    tile, assess, topics = _uds_and_step([patient(), longer, old_test])
    assert "urine-drug-test" in topics and tile.state == "overdue"
    assert any(d.startswith("Urine drug test by ") for d in assess.due)
