"""The buprenorphine, methadone and naltrexone fills `oud-treatment` does not count as treatment are all named, in
words that agree: a fill still being prepared or waiting to be picked up (status "preparation" or "in-progress")
handed nothing over, and was named nowhere while the card said no pharmacy fill was on record."""

from __future__ import annotations

from typing import Any

from builders import card, days_ago, run
from test_oud_gate import suboxone_fill, undated_sublocade
from test_oud_unknown_status import oud_diagnosis

from guideline.checks.oud_treatment import CHECK_ID as OUD_CHECK
from guideline.plan import build_plan
from guideline.population.standing import uncounted_doses


def prepared_fill(status: str, prepared: str, ident: str = "eMD.bup") -> dict[str, Any]:
    """A Suboxone film fill as Epic's dispense feed sends one not yet picked up (`suboxone_fill`): prepared, no
    hand-over date."""
    fill = suboxone_fill(status, prepared)
    del fill["whenHandedOver"]
    return {**fill, "id": ident, "whenPrepared": f"{prepared}T10:00:00-05:00"}


def test_a_fill_waiting_to_be_picked_up_is_no_treatment_and_is_named_on_every_face() -> None:
    evaluation = run("patient-view", resources=[oud_diagnosis(), prepared_fill("in-progress", days_ago(3))])
    found = card(evaluation, OUD_CHECK)
    assert found is not None  # nothing handed over yet: no treatment
    item = (
        f"buprenorphine-naloxone 8-2 mg SL film (fill eMD.bup), ready for pick-up, not yet handed over, "
        f"prepared {days_ago(3)}"
    )
    assert "**OUD medication on record not yet handed over, not counted as treatment**" in found.detail
    assert item in found.detail
    assert "No buprenorphine, methadone or naltrexone treatment could be counted in the last 90 days" in found.detail
    view = build_plan(evaluation, (), evaluation.facts.config, evaluation.facts.now)
    assert view.named["moud-fills-not-handed-over"] == (item,)
    why = (
        "is a fill of medication for opioid use disorder not yet handed over, so it was not counted as treatment; if "
        "it was picked up, the patient is on treatment"
    )
    assert f"{item}: {why}" in uncounted_doses(evaluation.facts)


def test_a_fill_being_prepared_is_named_as_being_prepared() -> None:
    evaluation = run("patient-view", resources=[oud_diagnosis(), prepared_fill("preparation", days_ago(1))])
    found = card(evaluation, OUD_CHECK)
    assert found is not None
    assert f"(fill eMD.bup), being prepared, not yet handed over, prepared {days_ago(1)}" in found.detail


def test_a_fill_not_handed_over_is_not_named_beside_treatment_or_outside_the_window() -> None:
    handed = {**prepared_fill("completed", days_ago(20), "eMD.done"), "whenHandedOver": f"{days_ago(20)}T12:00:00Z"}
    evaluation = run("patient-view", resources=[oud_diagnosis(), handed, prepared_fill("in-progress", days_ago(2))])
    assert card(evaluation, OUD_CHECK) is None
    view = build_plan(evaluation, (), evaluation.facts.config, evaluation.facts.now)
    assert view.named["moud-fills-not-handed-over"] == ()
    old = run("patient-view", resources=[oud_diagnosis(), prepared_fill("in-progress", days_ago(120))])
    found = card(old, OUD_CHECK)
    assert found is not None and "eMD.bup" not in found.detail


def test_an_oud_fill_of_unknown_status_is_named_over_the_checks_own_window() -> None:
    config = {"checks": {"oud-treatment": {"lookback_days": 180}}}
    fill = {**prepared_fill("unknown", days_ago(120)), "id": "eMD.old"}
    evaluation = run("patient-view", resources=[oud_diagnosis(), fill], config=config)
    found = card(evaluation, OUD_CHECK)
    assert found is not None and "in the last 180 days" in found.detail
    item = f"buprenorphine-naloxone 8-2 mg SL film (fill eMD.old), filled {days_ago(120)}"
    assert item in found.detail  # in the card's 180 days, though past the 90 the data-incomplete card names
    assert item not in evaluation.facts.unknown_status_fills
    assert any(line.startswith(f"{item}: ") for line in uncounted_doses(evaluation.facts))


def test_beside_the_population_finding_a_fill_of_unknown_status_is_said_not_counted_as_treatment() -> None:
    fill = {**prepared_fill("unknown", days_ago(10)), "id": "eMD.unk"}
    evaluation = run("patient-view", resources=[oud_diagnosis(), fill])
    item = f"buprenorphine-naloxone 8-2 mg SL film (fill eMD.unk), filled {days_ago(10)}"
    lines = uncounted_doses(evaluation.facts)
    (line,) = (line for line in lines if line.startswith(f"{item}: "))
    assert "not as treatment for opioid use disorder" in line  # counted in MME, but this finding is about treatment


def test_an_oud_dose_recorded_as_given_with_no_date_is_listed_on_the_oud_card() -> None:
    evaluation = run("patient-view", resources=[oud_diagnosis(), undated_sublocade()])
    found = card(evaluation, OUD_CHECK)
    assert found is not None
    item = "Sublocade 300 mg/1.5 mL injection (administration eMA.sublocade), no date"
    heading = "**OUD medication on record with no date, not counted as treatment** (if it was given in the window"
    assert f"{heading}, the patient is on treatment):\n- {item}" in found.detail
    assert "No buprenorphine, methadone or naltrexone treatment could be counted in the last 90 days" in found.detail
