"""The "OUD without treatment" card names every buprenorphine, methadone or naltrexone record `oud-treatment` could
not count that the population review names beside its finding, by one shared list of kinds: an undated fill, an
undated billed dose and an order of unknown status were named beside the population finding but not on the card,
which said "no order, pharmacy fill or draft" beside a fill it did not count. A fill still being prepared that is
undated or dated ahead was named nowhere."""

from __future__ import annotations

from typing import Any

from builders import days_ago, med_request, run
from test_oud_fills import prepared_fill
from test_oud_gate import SUBOXONE_FILM, naltrexone_injection, suboxone_fill, undated_sublocade
from test_oud_unknown_status import otp_bundle, oud_diagnosis

from guideline.checks.oud_treatment import CHECK_ID as OUD_CHECK
from guideline.named_gaps import NAMED_GAPS
from guideline.plan import build_plan
from guideline.population.standing import uncounted_doses

NO_DATE = "**OUD medication on record with no date, not counted as treatment**"


def undated_suboxone_fill() -> dict[str, Any]:
    """A Suboxone fill as an outside pharmacy's feed sends one with neither whenHandedOver nor whenPrepared."""
    fill = {**suboxone_fill("completed", days_ago(5)), "id": "eMD.nodate"}
    del fill["whenHandedOver"]
    return fill


def undated_otp_bundle() -> dict[str, Any]:
    """An opioid treatment program's weekly methadone bundle (G2067), done, its interface sending no date."""
    bundle = {**otp_bundle("completed"), "id": "eG2067.nodate"}
    for key in ("performedDateTime", "performedPeriod"):
        bundle.pop(key, None)
    return bundle


def unknown_status_order() -> dict[str, Any]:
    """A Suboxone order sent with status "unknown" (an interface that lost the order's state)."""
    return med_request(
        SUBOXONE_FILM, id="eMR.bup", status="unknown", authored=days_ago(20), display="buprenorphine-naloxone"
    )


def _card_detail(*resources: dict[str, Any]) -> tuple[str, Any]:
    evaluation = run("patient-view", resources=[oud_diagnosis(), *resources])
    found = next(c for c in evaluation.cards if c.check_id == OUD_CHECK)
    return found.detail, evaluation


def test_an_undated_oud_fill_is_listed_on_the_card_and_the_card_does_not_deny_it() -> None:
    detail, evaluation = _card_detail(undated_suboxone_fill())
    item = "buprenorphine-naloxone 8-2 mg SL film (fill eMD.nodate)"
    assert f"{NO_DATE} (if it was given in the window, the patient is on treatment):\n- {item}" in detail
    assert "no order, pharmacy fill or draft" not in detail
    assert "no order, pharmacy fill handed over or draft" not in detail  # it may have been handed over
    assert any(line.startswith(f"{item}: ") for line in uncounted_doses(evaluation.facts))


def test_an_undated_billed_dose_is_listed_on_the_card() -> None:
    detail, _ = _card_detail(undated_otp_bundle())
    assert NO_DATE in detail
    assert "(procedure eG2067.nodate), no date" in detail


def test_an_oud_order_of_unknown_status_is_listed_on_the_card() -> None:
    detail, _ = _card_detail(unknown_status_order())
    assert "**OUD medication on record of unknown status, not counted as treatment**" in detail
    assert "(order eMR.bup)" in detail
    assert "no order, pharmacy fill or draft" not in detail


def test_the_card_lists_every_record_the_population_review_names() -> None:
    resources = (
        undated_suboxone_fill(),
        undated_otp_bundle(),
        unknown_status_order(),
        undated_sublocade(),
        naltrexone_injection("unknown", days_ago(10), "eJ2315.unk"),
        naltrexone_injection("completed", days_ago(-10), "eJ2315.ahead"),
        {**prepared_fill("unknown", days_ago(4)), "id": "eMD.unk"},
        {**suboxone_fill("completed", days_ago(-3)), "id": "eMD.ahead"},
        prepared_fill("in-progress", days_ago(2), "eMD.wait"),
    )
    detail, evaluation = _card_detail(*resources)
    lines = uncounted_doses(evaluation.facts)
    assert len(lines) == len(resources)
    for line in lines:
        item = line.split(": ", 1)[0]
        assert f"- {item}" in detail


def test_beside_treatment_an_undated_dose_given_is_not_named_as_the_other_doses_are_not() -> None:
    handed = suboxone_fill("completed", days_ago(20))
    evaluation = run("patient-view", resources=[oud_diagnosis(), handed, undated_sublocade()])
    assert not any(c.check_id == OUD_CHECK for c in evaluation.cards)  # treatment counted
    view = build_plan(evaluation, (), evaluation.facts.config, evaluation.facts.now)
    assert view.named["uncounted-administrations"] == ()


def test_beside_the_population_finding_every_kind_says_why_in_the_registrys_words() -> None:
    fill = {**prepared_fill("unknown", days_ago(10)), "id": "eMD.unk"}
    evaluation = run("patient-view", resources=[oud_diagnosis(), fill])
    (kind,) = (k for k in NAMED_GAPS if k.key == "unknown-status-fills")
    assert kind.card is not None
    item = f"buprenorphine-naloxone 8-2 mg SL film (fill eMD.unk), filled {days_ago(10)}"
    assert uncounted_doses(evaluation.facts) == (f"{item}: {kind.card.why}",)
    assert "not as treatment for opioid use disorder" in kind.card.why  # true beside "OUD without treatment" too


def test_a_fill_being_prepared_with_no_date_is_named_where_the_other_fill_states_are() -> None:
    fill = {k: v for k, v in prepared_fill("preparation", days_ago(1), "eMD.prep").items() if k != "whenPrepared"}
    detail, evaluation = _card_detail(fill)
    item = "buprenorphine-naloxone 8-2 mg SL film (fill eMD.prep), being prepared, not yet handed over, no date"
    assert f"- {item}" in detail
    view = build_plan(evaluation, (), evaluation.facts.config, evaluation.facts.now)
    assert view.named["moud-fills-not-handed-over"] == (item,)
    assert any(line.startswith(f"{item}: ") for line in uncounted_doses(evaluation.facts))


def test_a_fill_being_prepared_dated_after_today_is_named_where_the_other_fill_states_are() -> None:
    ahead = days_ago(-4)
    detail, evaluation = _card_detail(prepared_fill("preparation", ahead, "eMD.prep"))
    item = (
        "buprenorphine-naloxone 8-2 mg SL film (fill eMD.prep), being prepared, not yet handed over, "
        f"dated {ahead}, after today"
    )
    assert f"- {item}" in detail
    view = build_plan(evaluation, (), evaluation.facts.config, evaluation.facts.now)
    assert view.named["moud-fills-not-handed-over"] == (item,)
