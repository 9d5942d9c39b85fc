"""Issue 9's clinical corrections, one test per example: STU3 category, de-duplication by content, MOUD is not
pain exposure, unprescribed fentanyl or heroin as a naloxone risk factor, and card wording."""

from __future__ import annotations

import pytest
from builders import card, days_ago, dispense, med_request, observation, run

from guideline.record import build_record

OXYCODONE = "1049621"  # oxycodone hydrochloride 5 MG Oral Tablet
LORAZEPAM = "197901"  # lorazepam 1 MG Oral Tablet
ALPRAZOLAM = "308048"
ZOLPIDEM = "854873"  # zolpidem tartrate 10 MG Oral Tablet: a sedative, not a benzodiazepine
NALOXONE_SPRAY = "1725059"
SUBOXONE_FILM = "1010604"  # buprenorphine 8 MG / naloxone 2 MG Sublingual Film: treatment for OUD
BUTRANS = "1432969"  # 168 HR buprenorphine 0.015 MG/HR Transdermal System: a pain patch
METHADONE_CONCENTRATE = "991147"  # methadone 10 MG/ML oral concentrate: opioid treatment programs only
FENTANYL_SCREEN = "59673-4"  # fentaNYL [Presence] in Urine by Screen method
HEROIN_SCREEN = "10975-1"  # a heroin (6-MAM) urine drug screening test
STU3_CATEGORY = "http://hl7.org/fhir/medication-request-category"


def high_dose_draft(id: str = "ox1") -> dict:
    """2 tablets of 5 mg every 4 hours: 90 MME/day, a naloxone risk factor on its own."""
    return med_request(OXYCODONE, draft=True, id=id, dose=2, period=4)


def low_dose_draft() -> dict:
    """1 tablet of 5 mg every 6 hours for 5 days: 30 MME/day, no risk factor by dose."""
    return med_request(OXYCODONE, draft=True, id="ox1", dose=1, period=6, supply_days=5)


# -- STU3 category ---------------------------------------------------------------------------------------------


def test_an_order_with_the_stu3_outpatient_category_is_checked_like_r4() -> None:
    draft = high_dose_draft()
    draft["category"] = [{"coding": [{"system": STU3_CATEGORY, "code": "outpatient"}]}]
    assert card(run("order-sign", drafts=[draft]), "high-mme") is not None
    draft["category"] = [{"coding": [{"system": STU3_CATEGORY, "code": "community"}]}]
    assert card(run("order-sign", drafts=[draft]), "high-mme") is not None


EPIC_CATEGORY = "urn:oid:1.2.840.114350.1.13.0.1.7.10.798268.30"


@pytest.mark.parametrize(
    "category",
    [
        {"coding": [{"system": STU3_CATEGORY, "code": "Outpatient"}]},  # the code in capitals
        {"text": "Outpatient"},  # text only
        {
            "coding": [
                {"system": "urn:oid:1.2.840.114350.1.13.0.1.7.10.798268.30", "code": "2", "display": "Outpatient"}
            ]
        },
    ],
)
def test_an_outpatient_category_as_sites_write_it_is_ambulatory(category: dict) -> None:
    # Each was read as a non-ambulatory category: the order was left out of every check.
    draft = high_dose_draft()
    draft["category"] = [category]
    assert card(run("order-sign", drafts=[draft]), "high-mme") is not None


@pytest.mark.parametrize(
    "category",
    [{"text": "Inpatient"}, {"coding": [{"system": "urn:oid:1.2.840.114350.x", "code": "1", "display": "Inpatient"}]}],
)
def test_an_inpatient_category_as_sites_write_it_is_still_skipped(category: dict) -> None:
    draft = high_dose_draft()
    draft["category"] = [category]
    assert run("order-sign", drafts=[draft]).cards == ()


def test_an_inpatient_order_is_still_skipped_in_either_code_system() -> None:
    draft = high_dose_draft()
    draft["category"] = [{"coding": [{"system": STU3_CATEGORY, "code": "inpatient"}]}]
    assert run("order-sign", drafts=[draft]).cards == ()


EPIC_ORDER_CLASS = {"coding": [{"system": EPIC_CATEGORY, "code": "3", "display": "E-Prescribe"}], "text": "E-Prescribe"}


def test_an_order_whose_only_category_is_unknown_is_checked_as_outpatient_and_named() -> None:
    # Read as "not outpatient", an order whose only category was a site's order class was left out of every check:
    # a 90 MME/day draft got no card at all, and nothing said why.
    draft = high_dose_draft()
    draft["category"] = [EPIC_ORDER_CLASS]
    evaluation = run("order-sign", drafts=[draft])
    assert card(evaluation, "high-mme") is not None
    (named,) = evaluation.facts.unread_category_orders
    assert "oxycodone" in named.lower() and "(draft order ox1)" in named and named.endswith("category E-Prescribe")


@pytest.mark.parametrize(
    "categories",
    [
        [
            {
                "coding": [
                    {"system": "http://terminology.hl7.org/CodeSystem/medicationrequest-category", "code": "inpatient"}
                ]
            },
            EPIC_ORDER_CLASS,
        ],
        [{"coding": [EPIC_ORDER_CLASS["coding"][0], {"system": EPIC_CATEGORY, "code": "1", "display": "Inpatient"}]}],
    ],
)
def test_a_known_inpatient_category_beside_an_unknown_one_still_skips_the_order(categories: list) -> None:
    draft = high_dose_draft()
    draft["category"] = categories
    evaluation = run("order-sign", drafts=[draft])
    assert evaluation.cards == () and evaluation.facts.unread_category_orders == ()


def test_a_site_lists_its_own_categories_as_inpatient_or_outpatient() -> None:
    draft = high_dose_draft()
    draft["category"] = [{"coding": [{"system": EPIC_CATEGORY, "code": "IP"}]}]
    assert run("order-sign", drafts=[draft], config={"inpatient_categories": ["inpatient", "ip"]}).cards == ()
    outpatient = run("order-sign", drafts=[draft], config={"ambulatory_categories": ["outpatient", "IP "]})
    assert card(outpatient, "high-mme") is not None and outpatient.facts.unread_category_orders == ()


def test_a_category_listed_as_both_outpatient_and_inpatient_stops_the_program_naming_both_keys() -> None:
    from guideline.config import ConfigError, GuidelineConfig

    with pytest.raises(ConfigError, match="ambulatory_categories and inpatient_categories both list discharge"):
        GuidelineConfig.from_mapping({"inpatient_categories": ["inpatient", "Discharge"]})


def test_an_everyday_medicine_of_unknown_category_is_not_named() -> None:
    statin = med_request("617310", draft=True, id="st1")
    statin["medicationCodeableConcept"]["coding"][0]["display"] = "atorvastatin 20 MG Oral Tablet"
    statin["category"] = [EPIC_ORDER_CLASS]
    assert run("order-sign", drafts=[statin]).facts.unread_category_orders == ()


def home_medication(rxcui: str, *, reported: bool = True, **kwargs) -> dict:
    """A documented home medication as Oracle Health sends it: status active, intent plan, reported."""
    resource = med_request(rxcui, intent="plan", **kwargs)
    if reported:
        resource["reportedBoolean"] = True
    return resource


def test_a_documented_home_benzodiazepine_meets_a_new_opioid() -> None:
    # Oracle Health sends a home medication documented from the history (here lorazepam an outside psychiatrist
    # prescribes) with intent plan. Read as a plan nobody acted on, it was left out: no opioid + benzodiazepine card.
    evaluation = run("order-sign", drafts=[low_dose_draft()], resources=[home_medication(LORAZEPAM, period=8)])
    both = card(evaluation, "opioid-benzodiazepine")
    assert both is not None and both.facts["sedatives"] == ["lorazepam 1 MG Oral Tablet"]
    assert "lorazepam 1 MG Oral Tablet (reported as taken, noted " in both.detail


@pytest.mark.parametrize("intent", ["proposal", "plan", "option"])
def test_an_opioid_only_proposed_is_no_opioid_use(intent: str) -> None:
    # A proposal, plan or option nobody acted on is left out of the current orders, but it still counted as opioid
    # use: a patient never given an opioid was "not naive" (no card for a fentanyl patch), and a positive oxycodone
    # test was "explained" by an order nobody signed.
    from test_check_unexpected_uds import OXYCODONE_SCREEN

    patch = med_request("197696", draft=True, id="fp1", unit="{patch}", period=72)
    proposed = med_request(OXYCODONE, intent=intent, authored=days_ago(40), status="active")
    assert card(run("order-sign", drafts=[patch], resources=[proposed]), "er-la-opioid-naive") is not None
    resources = [proposed, uds(OXYCODONE_SCREEN, 10)]
    assert card(run("order-sign", drafts=[low_dose_draft()], resources=resources), "unexpected-uds-result") is not None


def test_naloxone_only_proposed_is_not_on_hand() -> None:
    # A naloxone proposal nobody signed (such as a decision-support suggestion left unsigned) read as naloxone on
    # hand, and a proposed buprenorphine as treatment: neither card was shown.
    proposed_naloxone = med_request(NALOXONE_SPRAY, intent="proposal", authored=days_ago(5), status="active")
    assert card(run("order-sign", drafts=[high_dose_draft()], resources=[proposed_naloxone]), "naloxone") is not None
    taken = {**proposed_naloxone, "intent": "order"}
    assert card(run("order-sign", drafts=[high_dose_draft()], resources=[taken]), "naloxone") is None


def test_the_plan_page_does_not_show_a_proposal_as_naloxone_or_treatment_on_hand() -> None:
    from guideline.plan import build_plan

    proposed = [
        med_request(NALOXONE_SPRAY, intent="proposal", authored=days_ago(5), status="active"),
        med_request(SUBOXONE_FILM, intent="proposal", authored=days_ago(5), status="active"),
    ]
    evaluation = run("patient-view", resources=proposed)
    view = build_plan(evaluation, (), evaluation.facts.config, evaluation.facts.now)
    assert view.by_key["medications"].content.naloxone == ()
    assert view.by_key["oud"].content.treatment == ()
    signed = [{**order, "intent": "order"} for order in proposed]
    evaluation = run("patient-view", resources=signed)
    view = build_plan(evaluation, (), evaluation.facts.config, evaluation.facts.now)
    assert len(view.by_key["medications"].content.naloxone) == 1 and len(view.by_key["oud"].content.treatment) == 1


def test_buprenorphine_only_proposed_is_no_treatment(monkeypatch: pytest.MonkeyPatch) -> None:
    from test_check_oud_treatment import oud

    from guideline.checks import CHECKS, oud_treatment

    monkeypatch.setitem(CHECKS, oud_treatment.CHECK_ID, oud_treatment)
    proposed_moud = med_request(SUBOXONE_FILM, intent="proposal", authored=days_ago(5), status="active")
    found = card(run("patient-view", resources=[oud(), proposed_moud]), oud_treatment.CHECK_ID)
    assert found is not None
    treated = {**proposed_moud, "intent": "order"}
    assert card(run("patient-view", resources=[oud(), treated]), oud_treatment.CHECK_ID) is None


def test_a_plan_nobody_reported_as_taken_is_still_no_current_medication() -> None:
    unreported = home_medication(LORAZEPAM, reported=False, period=8)
    assert card(run("order-sign", drafts=[low_dose_draft()], resources=[unreported]), "opioid-benzodiazepine") is None


def test_a_documented_home_opioid_counts_in_the_total_and_says_it_was_reported() -> None:
    home = home_medication(OXYCODONE, dose=2, period=4)  # 90 MME/day, as the patient reports taking it
    high = card(run("order-sign", drafts=[low_dose_draft()], resources=[home]), "high-mme")
    assert high is not None and "120.0 MME/day" in high.summary
    assert "(reported as taken)" in high.detail and "(new order)" in high.detail


def test_a_documented_home_benzodiazepine_explains_a_positive_benzodiazepine_test() -> None:
    from test_check_unexpected_uds import BENZO_SCREEN

    resources = [home_medication(LORAZEPAM, period=8, authored=days_ago(60)), uds(BENZO_SCREEN, 10)]
    assert card(run("order-sign", drafts=[low_dose_draft()], resources=resources), "unexpected-uds-result") is None
    resources[0] = home_medication(LORAZEPAM, reported=False, period=8, authored=days_ago(60))
    assert card(run("order-sign", drafts=[low_dose_draft()], resources=resources), "unexpected-uds-result") is not None


# -- de-duplication --------------------------------------------------------------------------------------------


def test_rec08_on_benzodiazepine_a_prefetch_order_sharing_the_draft_id_but_another_drug_is_kept() -> None:
    lorazepam = med_request(LORAZEPAM, id="ox1", period=8)  # the CDC example reuses the draft's id
    evaluation = run("order-sign", drafts=[high_dose_draft("ox1")], resources=[lorazepam])
    both = card(evaluation, "opioid-benzodiazepine")
    assert both is not None and both.facts["sedatives"] == ["lorazepam 1 MG Oral Tablet"]


def test_rec08_on_naloxone_a_prefetch_naloxone_sharing_the_draft_id_counts_as_naloxone_on_hand() -> None:
    naloxone = med_request(NALOXONE_SPRAY, id="ox1")
    evaluation = run("order-sign", drafts=[high_dose_draft("ox1")], resources=[naloxone])
    assert card(evaluation, "naloxone") is None
    assert card(run("order-sign", drafts=[high_dose_draft("ox1")]), "naloxone") is not None


def test_the_ehr_copy_of_a_draft_is_still_one_order() -> None:
    from zoneinfo import ZoneInfo

    draft = high_dose_draft("ox1")
    copy = dict(draft, status="active")
    bundle = {"resourceType": "Bundle", "entry": [{"resource": draft}]}
    record = build_record([copy], ZoneInfo("America/New_York"), draft_orders=bundle)
    assert [(o.id, o.is_draft) for o in record.orders] == [("ox1", True)]


# -- MOUD is not pain exposure ---------------------------------------------------------------------------------


def months_of(rxcui: str) -> list[dict]:
    """Supply on every day of the last 90 days (three 30-day fills)."""
    return [dispense(rxcui, days_ago(ago), days_supply=30) for ago in (89, 59, 29)]


def test_months_of_buprenorphine_for_oud_then_post_operative_oxycodone_is_not_long_term_pain_therapy() -> None:
    evaluation = run("order-sign", drafts=[low_dose_draft()], resources=months_of(SUBOXONE_FILM))
    assert card(evaluation, "reassessment-due") is None
    assert not evaluation.facts.exposure.ltot
    assert evaluation.facts.exposure.window_days == (0, 0, 0)


def test_oud_only_methadone_is_not_pain_exposure_either() -> None:
    evaluation = run("order-sign", drafts=[low_dose_draft()], resources=months_of(METHADONE_CONCENTRATE))
    assert card(evaluation, "reassessment-due") is None and not evaluation.facts.exposure.ltot


def test_buprenorphine_for_pain_still_counts_as_long_term_opioid_therapy() -> None:
    evaluation = run("order-sign", drafts=[low_dose_draft()], resources=months_of(BUTRANS))
    assert evaluation.facts.exposure.ltot
    assert card(evaluation, "reassessment-due") is not None


def test_buprenorphine_for_oud_still_means_the_patient_is_not_opioid_naive() -> None:
    evaluation = run("order-sign", drafts=[low_dose_draft()], resources=months_of(SUBOXONE_FILM))
    assert not evaluation.facts.exposure.naive  # tolerance is real, whatever the reason for the supply


# -- unprescribed fentanyl or heroin is a naloxone risk factor -------------------------------------------------


def uds(code: str, days: int, value: str = "Positive") -> dict:
    return observation(code, when=days_ago(days), value_string=value)


def test_unprescribed_fentanyl_in_a_urine_test_within_12_months_calls_for_naloxone() -> None:
    found = card(run("order-sign", drafts=[low_dose_draft()], resources=[uds(FENTANYL_SCREEN, 60)]), "naloxone")
    assert found is not None and found.facts["risk_factors"] == ["R6"]
    assert "fentanyl" in found.summary and "not prescribed" in found.detail


def test_heroin_in_a_urine_test_within_12_months_calls_for_naloxone() -> None:
    found = card(run("order-sign", drafts=[low_dose_draft()], resources=[uds(HEROIN_SCREEN, 200)]), "naloxone")
    assert found is not None and found.facts["risk_factors"] == ["R6"]


def test_an_old_or_negative_fentanyl_result_is_no_risk_factor() -> None:
    assert card(run("order-sign", drafts=[low_dose_draft()]), "naloxone") is None
    old = [uds(FENTANYL_SCREEN, 400)]
    assert card(run("order-sign", drafts=[low_dose_draft()], resources=old), "naloxone") is None
    negative = [uds(FENTANYL_SCREEN, 30, "Negative")]
    assert card(run("order-sign", drafts=[low_dose_draft()], resources=negative), "naloxone") is None


# -- naloxone never offered to a patient who has it ------------------------------------------------------------


def test_a_naloxone_fill_being_handed_over_counts_as_having_naloxone() -> None:
    fill = dispense(NALOXONE_SPRAY, days_ago(3), status="in-progress")
    evaluation = run("order-sign", drafts=[high_dose_draft()], resources=[fill])
    assert card(evaluation, "naloxone") is None
    high = card(evaluation, "high-mme")
    assert high is not None and "offers it in its own card" not in high.detail
    assert "naloxone on record" in high.detail


def test_no_card_asks_to_offer_naloxone_when_an_active_order_exists() -> None:
    resources = [med_request(NALOXONE_SPRAY, id="nal1"), med_request(LORAZEPAM, id="lz1", period=8)]
    evaluation = run("order-sign", drafts=[high_dose_draft()], resources=resources)
    assert card(evaluation, "naloxone") is None
    for found in evaluation.cards:
        assert "offer naloxone" not in (found.summary + found.detail).lower(), found.check_id


# -- a sedative that is not a benzodiazepine is not called one -------------------------------------------------


def readable_text(found) -> str:
    """The summary and the detail without its closing "based on" line (which names the classes searched)."""
    return found.summary + "\n" + "\n\n".join(found.detail.split("\n\n")[:-1])


def test_a_z_drug_is_never_called_a_benzodiazepine() -> None:
    evaluation = run("order-sign", drafts=[high_dose_draft()], resources=[med_request(ZOLPIDEM, id="z1")])
    found = card(evaluation, "opioid-benzodiazepine")
    assert found is not None and "benzodiazepine" not in readable_text(found).lower()
    assert "sedating medicine" in found.summary


def test_a_benzodiazepine_with_a_z_drug_names_both_classes() -> None:
    resources = [med_request(ALPRAZOLAM, id="a1"), med_request(ZOLPIDEM, id="z1")]
    found = card(run("order-sign", drafts=[high_dose_draft()], resources=resources), "opioid-benzodiazepine")
    assert found is not None and found.summary.startswith("Opioid with benzodiazepine and sedative: ")


# -- summaries say what to do ----------------------------------------------------------------------------------


def test_high_dose_and_urine_test_summaries_say_what_to_do() -> None:
    from guideline.cards import SUMMARY_LIMIT

    critical = card(run("order-sign", drafts=[high_dose_draft()]), "high-mme")
    warning = card(
        run("order-sign", drafts=[med_request(OXYCODONE, draft=True, id="ox1", dose=2, period=6)]), "high-mme"
    )
    no_test = card(
        run("order-sign", drafts=[med_request(OXYCODONE, draft=True, id="ox1", supply_days=30)]), "urine-drug-test"
    )
    unexpected = card(
        run("order-sign", drafts=[low_dose_draft()], resources=[uds(FENTANYL_SCREEN, 20)]), "unexpected-uds-result"
    )
    assert critical is not None and critical.summary.endswith("reconsider the dose")
    assert warning is not None and warning.summary.endswith("use the lowest effective dose")
    assert no_test is not None and no_test.summary.startswith("Order a urine drug test")
    assert unexpected is not None and unexpected.summary.startswith("Discuss unexpected urine drug test result")
    assert all(len(c.summary) <= SUMMARY_LIMIT for c in (critical, warning, no_test, unexpected))


def test_an_otp_methadone_order_is_treatment_not_a_pain_prescription() -> None:
    draft = med_request(METHADONE_CONCENTRATE, draft=True, id="mtd1", dose=8, unit="mL", period=24, supply_days=5)
    evaluation = run("order-sign", drafts=[draft], resources=months_of(METHADONE_CONCENTRATE))
    assert evaluation.facts.pain_triggers("acute-duration") == ()
    assert card(evaluation, "acute-duration") is None and card(evaluation, "reassessment-due") is None


def test_the_plan_page_lists_a_documented_home_medication_as_reported() -> None:
    from guideline.plan.medications import build_medications, mme_now

    evaluation = run("patient-view", resources=[home_medication(LORAZEPAM, period=8)])
    sedatives = build_medications(evaluation.facts, mme_now(evaluation.facts)).sedatives
    assert sedatives == ("lorazepam 1 MG Oral Tablet (active, reported as taken)",)


def test_an_order_not_to_give_a_medicine_or_do_a_test_is_no_order_of_it() -> None:
    # doNotPerform was not read: "do not give lorazepam" made an opioid + benzodiazepine card, and "do not do a
    # urine drug screen" counted as the screen already ordered, so the card asking for one never came.
    from builders import SNOMED, service_request

    do_not_give = {**med_request(LORAZEPAM, period=8), "doNotPerform": True}
    assert card(run("order-sign", drafts=[high_dose_draft()], resources=[do_not_give]), "opioid-benzodiazepine") is None
    given = med_request(LORAZEPAM, period=8)
    assert card(run("order-sign", drafts=[high_dose_draft()], resources=[given]), "opioid-benzodiazepine") is not None
    screen = service_request(SNOMED, "310627008", authored=days_ago(3))  # urine drug screening
    long_term = med_request(OXYCODONE, draft=True, id="ox1", dose=1, period=6, supply_days=30)
    assert card(run("order-sign", drafts=[long_term], resources=[screen]), "urine-drug-test") is None
    not_done = {**screen, "doNotPerform": True}
    assert card(run("order-sign", drafts=[long_term], resources=[not_done]), "urine-drug-test") is not None


@pytest.mark.parametrize(("flag", "fires"), [("A", True), ("H", True), ("POS", True), ("N", False), ("NEG", False)])
def test_a_drug_test_flagged_abnormal_reads_as_detected(flag: str, fires: bool) -> None:
    # Labs flag a detected drug abnormal or high as often as positive: a fentanyl confirmation of 12 ng/mL flagged
    # "A" read as no value, and no card said that fentanyl nobody prescribed was found.
    flagged = observation(FENTANYL_SCREEN, when=days_ago(20), value_quantity=12, interpretation=flag)
    found = card(run("order-sign", drafts=[low_dose_draft()], resources=[flagged]), "unexpected-uds-result")
    assert (found is not None) is fires


def test_a_drug_test_result_that_cannot_be_read_is_named_where_the_check_applies() -> None:
    from guideline.checks.unexpected_uds_result import unjudged_results

    number = observation(FENTANYL_SCREEN, when=days_ago(20), value_quantity=12)  # a number, no flag, no cutoff
    unclear = observation(HEROIN_SCREEN, when=days_ago(30), value_string="Inconclusive")
    panel = {
        **observation(FENTANYL_SCREEN, when=days_ago(25)),
        "component": [  # a panel heading: its components judge
            {"code": {"coding": [{"system": "http://loinc.org", "code": FENTANYL_SCREEN}]}, "valueString": "Negative"}
        ],
    }
    evaluation = run("order-sign", drafts=[low_dose_draft()], resources=[number, unclear, panel])
    named = unjudged_results(evaluation.facts)
    assert (
        len(named) == 2 and named[0].endswith(f"({days_ago(20)[:10]})") and named[1].endswith(f"({days_ago(30)[:10]})")
    )
    # Without an opioid being ordered the check judges nothing, so there is nothing to name.
    assert unjudged_results(run("order-sign", resources=[number]).facts) == ()


@pytest.mark.parametrize(
    ("amount", "reference", "fires"),
    [
        ({"value": 12, "unit": "ng/mL"}, {"high": {"value": 1, "unit": "ng/mL"}}, True),  # above the normal range
        ({"value": 0.5, "unit": "ng/mL"}, {"high": {"value": 1, "unit": "ng/mL"}}, False),
        ({"value": 300, "unit": "ng/mL"}, {"text": "Negative <300 ng/mL"}, True),  # at the cutoff
        ({"value": 1, "unit": "ng/mL", "comparator": "<"}, None, False),  # below what the lab can measure
        ({"value": 1000, "unit": "ng/mL", "comparator": ">"}, None, True),
        ({"value": 12, "unit": "ug/L"}, {"high": {"value": 1, "unit": "ng/mL"}}, None),  # units differ: not read
    ],
)
def test_a_measured_drug_amount_is_read_against_the_labs_range(amount: dict, reference: dict | None, fires) -> None:
    # A fentanyl confirmation sent as an amount with its reference range and no flag read as no value.
    from guideline.checks.unexpected_uds_result import unjudged_results

    result = observation(FENTANYL_SCREEN, when=days_ago(20))
    result["valueQuantity"] = amount
    if reference:
        result["referenceRange"] = [reference]
    evaluation = run("order-sign", drafts=[low_dose_draft()], resources=[result])
    found = card(evaluation, "unexpected-uds-result")
    if fires is None:
        assert found is None and len(unjudged_results(evaluation.facts)) == 1
    else:
        assert (found is not None) is fires and unjudged_results(evaluation.facts) == ()


# -- orders of unknown status ----------------------------------------------------------------------------------


def test_a_recent_order_of_unknown_status_is_named_not_silently_left_out() -> None:
    # An order whose status is "unknown" (or missing) may or may not be taken now: it is not counted, and before,
    # nothing said so; a lorazepam order of unknown status gave no card and no word.
    from guideline.plan import build_plan

    unknown = med_request(LORAZEPAM, id="lz1", authored=days_ago(10), status="unknown", period=8)
    evaluation = run("order-sign", drafts=[low_dose_draft()], resources=[unknown])
    assert evaluation.facts.unknown_status_orders == ("lorazepam 1 MG Oral Tablet (order lz1)",)
    view = build_plan(evaluation, (), evaluation.facts.config, evaluation.facts.now)
    assert view.named["unknown-status"] == ("lorazepam 1 MG Oral Tablet (order lz1)",)
    old = {**unknown, "authoredOn": days_ago(400)}  # long past: no current medicine to miss
    assert run("order-sign", drafts=[low_dose_draft()], resources=[old]).facts.unknown_status_orders == ()
    known = {**unknown, "status": "active"}
    assert run("order-sign", drafts=[low_dose_draft()], resources=[known]).facts.unknown_status_orders == ()


def test_the_plan_page_names_an_order_of_unknown_status(tmp_path) -> None:
    import responses
    from builders import patient
    from test_plan_view import FakeFhir, _app, _open_plan

    unknown = med_request(LORAZEPAM, id="lz1", authored="2026-06-05T09:00:00-04:00", status="unknown", period=8)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        FakeFhir(rsps, [patient(patient_id="p1"), unknown])
        html = _open_plan(_app(tmp_path)).get_data(as_text=True)
    assert 'id="unknown-status"' in html and "lorazepam 1 MG Oral Tablet (order lz1)" in html
