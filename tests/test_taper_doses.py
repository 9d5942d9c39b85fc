"""The taper in doses: hand-computed schedules in whole tablets, strength switches, and the taper prompts."""

from datetime import date
from decimal import Decimal

from guideline.taper import taper_schedule
from guideline.taper_doses import TAPER_PROMPTS, Regimen, dose_schedule

START = date(2026, 11, 22)
MORPHINE_ER = Regimen(
    "morphine ER 30 mg tablet",
    "Morphine",
    Decimal("30"),
    Decimal("2"),
    Decimal("1"),
    form="extended-release tablet",
    other_strengths_mg=(Decimal("15"), Decimal("30"), Decimal("60")),
)
OXYCODONE = Regimen("oxycodone 5 mg tablet", "Oxycodone", Decimal("5"), Decimal("4"), Decimal("1.5"))


def _tablets(schedule):
    return [tuple((d.strength_mg, d.units_per_day) for d in step.doses) for step in schedule.steps]


def test_walter_ten_percent_a_month_in_tablets() -> None:
    # 60 mg morphine ER (60 MME) + 20 mg oxycodone (30 MME) = 90 MME; 10 % of 90 = 9 MME a month.
    plan = taper_schedule(Decimal("90"), START)
    schedule = dose_schedule(plan, (MORPHINE_ER, OXYCODONE))
    rows = _tablets(schedule)
    # Hand-computed: one 7.5-MME oxycodone tablet off per step while that is nearest the target
    # (81 -> 82.5, 72 -> 75, 63 -> 60), then morphine moves to 15 mg tablets (15 MME each).
    assert rows[0] == ((30, 2), (5, 4))
    assert rows[1] == ((30, 2), (5, 3))  # 82.5 for target 81
    assert rows[2] == ((30, 2), (5, 2))  # 75 for 72
    assert rows[3] == ((30, 2), (5, 0))  # 60 for 63 (67.5 is 4.5 away, 60 is 3)
    assert rows[4] == ((15, 4), (5, 0))  # 60 for 54: 30-mg tablets would leave 30; switched to 15 mg
    assert rows[5] == ((15, 3), (5, 0))  # 45 for 45
    assert rows[6] == ((15, 2), (5, 0))  # 30 for 36 (45 is 9 away, 30 is 6)
    assert rows[7] == ((15, 2), (5, 0))  # 30 for 27
    assert rows[8] == ((15, 1), (5, 0))  # 15 for 18
    assert rows[9] == ((15, 1), (5, 0))  # 15 for 9 (0 is 9 away, 15 is 6)
    assert rows[10] == ((15, 0), (5, 0))  # stop
    totals = [s.total_mme for s in schedule.steps]
    assert totals == sorted(totals, reverse=True)  # never up
    assert schedule.steps[4].strength_change.startswith("use morphine 15 mg extended-release tablets")
    assert schedule.steps[4].start == date(2027, 3, 22)
    assert any(n.startswith("Step 4:") for n in schedule.notes)
    assert schedule.steps[1].doses[1].dose_display == "15 mg/day"
    assert schedule.steps[-1].doses[0].dose_display == "stop"


def test_no_finer_strength_is_said_not_hidden() -> None:
    only_thirty = Regimen("morphine ER 30 mg", "Morphine", Decimal("30"), Decimal("2"), Decimal("1"))
    plan = taper_schedule(Decimal("60"), START, Decimal("10"))
    schedule = dose_schedule(plan, (only_thirty,))
    # 54 and 48 are nearer 60 than 30; at target 42 the nearest is 30 (12 away vs 18), and it never rises.
    assert [s.total_mme for s in schedule.steps[:5]] == [60, 60, 60, 30, 30]
    assert any("a lower strength or another formulation is needed" in n for n in schedule.notes)


def test_pause_holds_the_tablets() -> None:
    plan = taper_schedule(Decimal("30"), START, Decimal("10"), pause_at_percent=Decimal("50"), pause_intervals=2)
    schedule = dose_schedule(plan, (OXYCODONE,))
    fifty = [s for s in schedule.steps if s.target_mme == 15]
    assert len(fifty) == 3 and {s.doses[0].units_per_day for s in fifty} == {2}


def test_prompts_name_behavioural_health_and_oud_screening() -> None:
    text = " ".join(TAPER_PROMPTS)
    for phrase in ("PHQ-9", "opioid use disorder", "naloxone", "Never stop abruptly", "self-harm"):
        assert phrase in text


def test_without_tablets_there_is_no_schedule_and_it_says_so() -> None:
    schedule = dose_schedule(taper_schedule(Decimal("30"), START), ())
    assert schedule.steps == () and "no dose schedule" in schedule.notes[0]


def test_walters_chart_gives_a_schedule_per_drug_from_his_orders() -> None:
    from builders import NOW, run

    from guideline.plan import TaperRequest, build_plan
    from smart_app.demo_data import load_demo_patients

    walter = load_demo_patients(NOW.date())["walter-brooks"]
    evaluation = run("patient-view", resources=walter.resources())
    view = build_plan(evaluation, (), evaluation.facts.config, NOW, TaperRequest())
    doses = view.section("taper").content.doses
    assert len(doses.regimens) == 2 and doses.not_scheduled == ()
    first, second = doses.schedule.steps[0], doses.schedule.steps[1]
    assert first.total_mme == 90
    assert {(d.strength_mg, d.units_per_day) for d in first.doses} == {(30, 2), (5, 4)}
    assert second.total_mme == Decimal("82.5")
    assert second.start == date(2026, 7, 15)
    # The drug table also lists a 5 mg ER morphine tablet, but 12 a day is no way to take 60 mg: 15 mg it is.
    morphine = next(d for d in doses.schedule.steps[4].doses if d.ingredient == "Morphine")
    assert (morphine.strength_mg, morphine.units_per_day) == (15, 4)


def test_the_finer_strength_that_comes_closest_to_the_pace_is_chosen() -> None:
    # 60 mg as 2 × 30; 10 % steps of 6 MME, half a step is 3. Step 1 (target 54): 30-mg units stay at 60.
    # 20 mg (3 a day) still stays at 60 (6 away); 10 mg (6 a day) reaches 50 (4 away): closer, chosen.
    # 5 mg would need 12 a day: never offered.
    morphine = Regimen(
        "morphine",
        "Morphine",
        Decimal("30"),
        Decimal("2"),
        Decimal("1"),
        other_strengths_mg=(Decimal("5"), Decimal("10"), Decimal("20")),
    )
    schedule = dose_schedule(taper_schedule(Decimal("60"), START, Decimal("10")), (morphine,))
    step = schedule.steps[1]
    assert step.strength_change.startswith("use morphine 10 mg tablets instead of 30 mg (6 a day")
    assert (step.doses[0].strength_mg, step.doses[0].units_per_day, step.total_mme) == (10, 5, 50)
    # Then 48 -> 50 (2 away) and 42 -> 40: one 10-mg tablet at a time.
    assert [s.total_mme for s in schedule.steps[2:5]] == [50, 40, 40]


def test_an_order_for_thousands_of_tablets_a_day_is_named_not_scheduled() -> None:
    # Found by fuzzing the plan page: an order "2 tablets every 1e-12 hours" reached the schedule as trillions of
    # tablets a day, and taking one off at a time kept the page computing without end. Such a frequency is now no
    # frequency (the order's MME is unknown and named), and a dose beyond 100 units a day is never scheduled.
    import copy

    from builders import NOW, run
    from cds_support import oxycodone_draft

    from guideline.plan import TaperRequest, build_plan

    absurd = copy.deepcopy(oxycodone_draft())
    absurd.update(id="a-odd", status="active", authoredOn="2026-06-10")
    absurd["dosageInstruction"][0]["doseAndRate"][0]["doseQuantity"]["value"] = 5_000_000
    evaluation = run("patient-view", resources=[absurd])
    taper = build_plan(evaluation, (), evaluation.facts.config, NOW, TaperRequest()).section("taper")
    assert taper.error is None and taper.content.doses.regimens == ()
    assert "check the order's dose" in taper.content.doses.not_scheduled[0]
    absurd["dosageInstruction"][0]["doseAndRate"][0]["doseQuantity"]["value"] = 2
    absurd["dosageInstruction"][0]["timing"]["repeat"]["period"] = 1e-12
    [row] = run("patient-view", resources=[absurd]).facts.mme.orders
    assert (row.state, row.reason) == ("unknown", "implausible-frequency") and "every 15 minutes" in row.reason_text


def test_a_target_no_strength_makes_is_named_as_the_schedule_shows_it() -> None:
    # Oxycodone 10 mg once a day (15 MME), 5 % a month: step 1's target is 14.25 MME/day, shown as 14.3 (half up,
    # as every MME is read). The note rounded it half to even: "cannot make 14.2 MME/day" beside a 14.3 target.
    once_a_day = Regimen("oxycodone 10 mg tablet", "Oxycodone", Decimal("10"), Decimal("1"), Decimal("1.5"))
    schedule = dose_schedule(taper_schedule(Decimal("15"), START, Decimal("5")), (once_a_day,))
    step = schedule.steps[1]
    assert (step.target_mme, step.target_display) == (Decimal("14.25"), "14.3")
    assert any(n.startswith("Step 1: the available strengths cannot make 14.3 MME/day") for n in schedule.notes)
