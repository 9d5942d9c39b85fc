"""Urine drug test, PDMP review and score results in the shapes labs and EHRs send them (components, flags, codes)."""

from __future__ import annotations

from builders import LOINC, card, days_ago, med_request, observation, run

from guideline.checks.unexpected_uds_result import unjudged_results

OXYCODONE = "1049621"  # oxycodone hydrochloride 5 MG Oral Tablet
FENTANYL_SCREEN = "59673-4"  # fentaNYL [Presence] in Urine by Screen method
COCAINE_SCREEN = "14314-9"  # Benzoylecgonine [Presence] in Urine by Screen method
POSITIVE_FLAG = {
    "coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation", "code": "POS"}]
}


def low_dose_draft() -> dict:
    return med_request(OXYCODONE, draft=True, id="ox1", dose=1, period=6, supply_days=5)


def sign(*resources: dict):
    return run("order-sign", drafts=[low_dose_draft()], resources=list(resources))


def confirmation_panel(component: dict) -> dict:
    """A lab's drug confirmation panel sent as one result, the substances as components (amounts in ng/mL)."""
    panel = observation("DRUGCONF", system="urn:oid:2.16.840.1.113883.3.1234", when=days_ago(20))
    panel["code"]["text"] = "Drug Confirmation Panel, Urine"
    panel["component"] = [
        {"code": {"coding": [{"system": LOINC, "code": COCAINE_SCREEN}]}, "valueString": "Negative"},
        {"code": {"coding": [{"system": LOINC, "code": FENTANYL_SCREEN}]}, **component},
    ]
    return panel


def test_a_panel_component_flagged_or_above_its_range_is_judged() -> None:
    # R4 gives a component its own interpretation and reference range. A fentanyl amount in a component, flagged
    # "POS" or above its range, was dropped as "a measurement": no card, and nothing said the result went unread.
    amount = {"valueQuantity": {"value": 12, "unit": "ng/mL"}}
    for shape in (
        {**amount, "interpretation": [POSITIVE_FLAG]},
        {**amount, "referenceRange": [{"high": {"value": 1, "unit": "ng/mL"}}]},
        {**amount, "referenceRange": [{"text": "<1 ng/mL"}]},
        {"interpretation": [POSITIVE_FLAG]},  # the flag alone
    ):
        evaluation = sign(confirmation_panel(shape))
        found = card(evaluation, "unexpected-uds-result")
        assert found is not None and "positive for fentanyl" in found.summary, shape
        assert unjudged_results(evaluation.facts) == ()


def test_a_panel_component_that_cannot_be_read_is_named() -> None:
    # An amount with no flag and no range in a component was dropped unseen; it is named like any unread result.
    evaluation = sign(confirmation_panel({"valueQuantity": {"value": 12, "unit": "ng/mL"}}))
    assert card(evaluation, "unexpected-uds-result") is None
    assert len(unjudged_results(evaluation.facts)) == 1


def test_a_negative_component_below_its_range_is_no_finding() -> None:
    component = {"valueQuantity": {"value": 0.2, "unit": "ng/mL"}, "referenceRange": [{"high": {"value": 1}}]}
    evaluation = sign(confirmation_panel(component))
    assert card(evaluation, "unexpected-uds-result") is None
    assert unjudged_results(evaluation.facts) == ()


# -- PDMP review rows ----------------------------------------------------------------------------------------------

PDMP_FINDING = "461651000124104"  # Review of prescription drug monitoring program record done (situation)
SITE_ROW = "urn:oid:1.2.840.114350.1.13.0.1.7.2.707679|30412"  # an Epic flowsheet row "PDMP reviewed?"


def pdmp_card(row: dict, config: dict | None = None):
    evaluation = run("order-sign", drafts=[low_dose_draft()], resources=[row], config=config)
    return card(evaluation, "pdmp-review")


def review_row(**answer: object) -> dict:
    system, code = SITE_ROW.split("|")
    row = observation(code, system=system, when=days_ago(10), category=None)
    row.update(answer)
    return row


def test_a_pdmp_row_answered_false_or_left_unanswered_is_no_review() -> None:
    # valueBoolean false, STU3's yes/no code system, a dataAbsentReason and "N/A" each read as a review done: the
    # card that should ask for a PDMP check before signing an opioid stayed silent.
    config = {"pdmp": {"review_codes": [SITE_ROW]}}
    absent = {
        "coding": [{"system": "http://terminology.hl7.org/CodeSystem/data-absent-reason", "code": "not-performed"}]
    }
    for answer in (
        {"valueBoolean": False},
        {"valueCodeableConcept": {"coding": [{"system": "http://hl7.org/fhir/v2/0136", "code": "N"}]}},
        {"dataAbsentReason": absent},
        {"valueString": "N/A"},
    ):
        assert pdmp_card(review_row(**answer), config) is not None, answer
    assert pdmp_card(review_row(valueBoolean=True), config) is None
    assert pdmp_card(review_row(valueString="Yes"), config) is None


def test_a_pdmp_finding_with_a_data_absent_reason_is_no_review() -> None:
    from builders import SNOMED

    finding = observation(PDMP_FINDING, system=SNOMED, when=days_ago(10), category=None)
    assert pdmp_card(finding) is None
    finding["dataAbsentReason"] = {"text": "Unable to access PDMP"}
    assert pdmp_card(finding) is not None


# -- urine drug test values as codes, words and flags ------------------------------------------------------------


def cocaine_result(**value: object) -> dict:
    result = observation(COCAINE_SCREEN, when=days_ago(20))
    result.update(value)
    return result


def test_a_drug_test_value_coded_in_loinc_answers_or_a_labs_own_code_is_read() -> None:
    # LOINC's answer codes with no text, or a lab's own code whose name is "Positive", read as no value: an
    # unexpected cocaine gave no card.
    for value in (
        {"coding": [{"system": LOINC, "code": "LA6576-8"}]},  # Positive
        {"coding": [{"system": LOINC, "code": "LA11882-0", "display": "Detected"}]},
        {
            "coding": [
                {"system": "https://fhir.cerner.com/ec2458f2/codeSet/1902", "code": "4711", "display": "POSITIVE"}
            ]
        },
    ):
        evaluation = sign(cocaine_result(valueCodeableConcept=value))
        assert card(evaluation, "unexpected-uds-result") is not None, value
        assert unjudged_results(evaluation.facts) == ()
    negative = sign(cocaine_result(valueCodeableConcept={"coding": [{"system": LOINC, "code": "LA6577-6"}]}))
    assert card(negative, "unexpected-uds-result") is None and unjudged_results(negative.facts) == ()


def test_a_drug_test_flag_in_words_or_without_its_system_is_read() -> None:
    for flag in (
        {"text": "Positive"},
        {"coding": [{"code": "POS"}]},  # the element allows only HL7's flags
        {"coding": [{"system": "urn:oid:1.2.840.114350.1.13.0.1.7.10.798268.500", "code": "1", "display": "Abnormal"}]},
    ):
        evaluation = sign(cocaine_result(interpretation=[flag]))
        assert card(evaluation, "unexpected-uds-result") is not None, flag
    assert card(sign(cocaine_result(interpretation=[{"text": "Normal"}])), "unexpected-uds-result") is None


def test_a_drug_test_answered_true_or_false_is_read() -> None:
    assert card(sign(cocaine_result(valueBoolean=True)), "unexpected-uds-result") is not None
    evaluation = sign(cocaine_result(valueBoolean=False))
    assert card(evaluation, "unexpected-uds-result") is None and unjudged_results(evaluation.facts) == ()


def test_a_drug_test_collected_over_a_period_with_only_its_end_is_judged() -> None:
    result = cocaine_result(valueString="Positive", effectivePeriod={"end": days_ago(20)})
    del result["effectiveDateTime"]
    assert card(sign(result), "unexpected-uds-result") is not None


def test_an_undated_drug_test_or_one_of_unknown_status_is_named_not_dropped() -> None:
    # An undated positive, or a positive whose status is "unknown" or missing, was dropped before any reading:
    # no card and nothing to say a result went unread.
    undated = cocaine_result(valueString="Positive")
    del undated["effectiveDateTime"]
    unknown = cocaine_result(valueString="Positive", status="unknown")
    missing = cocaine_result(valueString="Positive")
    del missing["status"]
    for result, named in (
        (undated, "urine drug test (undated)"),
        (unknown, f"urine drug test ({days_ago(20)}, status unknown)"),
        (missing, f"urine drug test ({days_ago(20)}, status unknown)"),
    ):
        evaluation = sign(result)
        assert card(evaluation, "unexpected-uds-result") is None
        assert unjudged_results(evaluation.facts) == (named,)
    # A result not yet in, cancelled or entered in error is no result to name; nor is one older than 12 months.
    for status in ("registered", "cancelled", "entered-in-error"):
        assert unjudged_results(sign(cocaine_result(valueString="Positive", status=status)).facts) == ()
    old = observation(COCAINE_SCREEN, when=days_ago(400), value_string="Positive", status="unknown")
    assert unjudged_results(sign(old).facts) == ()


def test_a_measured_amount_is_read_against_a_cutoff_written_as_such() -> None:
    # Drug testing labs write the reference range as the screening cutoff; read only as "<300 ng/mL", an amount of
    # 450 ng/mL against "Cutoff: 300 ng/mL" was no value, and an unexpected cocaine gave no card.
    for written, amount, fires in (
        ("Cutoff: 300 ng/mL", 450, True),
        ("Cutoff=300 ng/mL", 300, True),  # at the cutoff is detected
        ("Screen cut-off 300 ng/mL", 120, False),
    ):
        result = cocaine_result(valueQuantity={"value": amount, "unit": "ng/mL"}, referenceRange=[{"text": written}])
        evaluation = sign(result)
        assert (card(evaluation, "unexpected-uds-result") is not None) is fires, written
        assert unjudged_results(evaluation.facts) == ()


def test_a_pdmp_finding_dated_only_by_when_it_was_issued_counts() -> None:
    from builders import SNOMED

    finding = observation(PDMP_FINDING, system=SNOMED, when=days_ago(10), category=None)
    del finding["effectiveDateTime"]
    finding["issued"] = f"{days_ago(10)}T14:05:00-04:00"
    assert pdmp_card(finding) is None
    finding["issued"] = f"{days_ago(120)}T14:05:00-04:00"  # issued, but outside the 90 days
    assert pdmp_card(finding) is not None


# -- scores on the plan page ---------------------------------------------------------------------------------------


def test_phq9_and_gad7_totals_sent_as_a_panels_component_are_read() -> None:
    # A questionnaire panel carrying its total as a component (PHQ-9 44249-1 with 44261-6, GAD-7 69737-5 with
    # 70274-6) was no screen: the plan page said "none in 2 years" and asked for a screen done last month.
    from test_plan import plan_for, rich_patient

    phq9 = observation("44249-1", when=days_ago(30), category="survey")
    phq9["component"] = [{"code": {"coding": [{"system": LOINC, "code": "44261-6"}]}, "valueInteger": 15}]
    gad7 = observation("69737-5", when=days_ago(30), category="survey")
    gad7["component"] = [{"code": {"coding": [{"system": LOINC, "code": "70274-6"}]}, "valueString": "11"}]
    steps = plan_for([*rich_patient(), phq9, gad7]).section("steps").content
    assert (steps.screens.latest("PHQ-9 (depression)").score, steps.screens.latest("PHQ-9 (depression)").band) == (
        15,
        "moderately severe",
    )
    assert steps.screens.latest("GAD-7 (anxiety)").score == 11
    assess = next(s for s in steps.steps if s.key == "assess")
    assert not any("PHQ-9 screen" in d or "GAD-7 screen" in d for d in assess.due)


def test_a_peg_panel_with_its_items_as_text_is_read() -> None:
    # Flowsheet rows of a 0-10 list come as text ("6"); the PEG panel's items were read from quantities only, so
    # the PEG was missing (and shown as due) with nothing to say it was there.
    from test_plan import plan_for, rich_patient

    peg = observation("91148-7", when=days_ago(10), category="survey")
    peg["component"] = [
        {"code": {"coding": [{"system": LOINC, "code": code}]}, "valueString": value}
        for code, value in (("75893-8", "6"), ("91145-3", "5"), ("91146-1", "7"))
    ]
    scores = plan_for([*rich_patient(), peg]).section("scores").content
    assert [str(p.value) for p in scores.peg if p.day.isoformat() == days_ago(10)] == ["6.0"]


def test_a_urine_drug_panels_items_named_only_by_their_substance_are_judged() -> None:
    # Epic sends a lab's panel with its own component codes, named by substance alone ("FENTANYL"): the panel says
    # urine drug test, its items did not, so an unexpected fentanyl in it gave no card and nothing named it.
    epic = "urn:oid:1.2.840.114350.1.13.0.1.7.2.768282"
    panel = observation("1234", system=epic, when=days_ago(20))
    panel["code"] = {"coding": [{"system": epic, "code": "1234", "display": "DRUG SCREEN, URINE"}]}
    panel["component"] = [
        {"code": {"coding": [{"system": epic, "code": "55", "display": "FENTANYL"}]}, "valueString": "POSITIVE"},
        {"code": {"coding": [{"system": epic, "code": "57", "display": "OXYCODONE"}]}, "valueString": "NEGATIVE"},
        {
            "code": {"coding": [{"system": epic, "code": "56", "display": "CREATININE"}]},
            "valueQuantity": {"value": 120},
        },
    ]
    evaluation = sign(panel)
    found = card(evaluation, "unexpected-uds-result")
    assert found is not None and "positive for fentanyl" in found.summary
    assert unjudged_results(evaluation.facts) == ()
    assert sorted(r.name for r in evaluation.facts.uds_results) == ["DRUG SCREEN, URINE", "FENTANYL", "OXYCODONE"]
    # Outside a urine drug test panel, a result named "Fentanyl" may be a blood level: it is not read as one.
    alone = observation("55", system=epic, when=days_ago(20), value_string="POSITIVE")
    alone["code"]["coding"][0]["display"] = "FENTANYL"
    assert sign(alone).facts.uds_results == ()


def test_a_pdmp_row_answered_with_the_review_date_is_dated_by_it() -> None:
    # A site's row "PDMP last reviewed" answers with a date; read by when it was charted (today), a review five
    # months old counted as today's and the card stayed silent.
    config = {"pdmp": {"review_codes": [SITE_ROW]}}
    assert pdmp_card(review_row(valueDateTime=days_ago(150)), config) is not None
    assert pdmp_card(review_row(valueDateTime=days_ago(30)), config) is None


def test_an_amount_written_as_text_beyond_the_labs_limit_is_read() -> None:
    # A quantitative result sent as text ("<50 ng/mL", ">1000 ng/mL") read as no value, where the same amount with
    # its comparator is read; an unexpected cocaine above the limit gave no card.
    positive = sign(cocaine_result(valueString=">1000 ng/mL"))
    assert card(positive, "unexpected-uds-result") is not None
    negative = sign(cocaine_result(valueString="<50 ng/mL"))
    assert card(negative, "unexpected-uds-result") is None and unjudged_results(negative.facts) == ()


def test_a_drug_test_the_lab_did_not_perform_is_no_test_done() -> None:
    # Quest reports a sample it could not test with status final and "TNP" (test not performed) or "QNS" (quantity
    # not sufficient): read as a result of no value, it was the year's test done, so a patient starting long-term
    # opioids whose only sample was never tested got no "Order a urine drug test" card.
    chronic = med_request(OXYCODONE, draft=True, id="ox1", supply_days=30)
    for written in ("TNP", "Test not performed", "QNS - quantity not sufficient", "Specimen rejected"):
        result = observation(COCAINE_SCREEN, when=days_ago(40), value_string=written)
        evaluation = run("order-sign", drafts=[chronic], resources=[result])
        assert card(evaluation, "urine-drug-test") is not None, written
        assert unjudged_results(evaluation.facts) == ()
    tested = observation(COCAINE_SCREEN, when=days_ago(40), value_string="Not detected")
    assert card(run("order-sign", drafts=[chronic], resources=[tested]), "urine-drug-test") is None


def test_scores_coded_from_an_answer_list_are_read_by_their_number() -> None:
    # LOINC's 0-10 answer list codes each number (LA6113-0 is "2"): a pain score or PEG item sent so was no score,
    # and the PEG was missing from the page.
    from test_plan import plan_for, rich_patient

    def answer(code: str, number: str) -> dict:
        return {"coding": [{"system": LOINC, "code": code, "display": number}]}

    pain = observation("72514-3", when=days_ago(12), category="survey")
    pain["valueCodeableConcept"] = answer("LA10138-8", "6")
    peg = observation("91148-7", when=days_ago(12), category="survey")
    peg["component"] = [
        {"code": {"coding": [{"system": LOINC, "code": code}]}, "valueCodeableConcept": answer(la, value)}
        for code, la, value in (
            ("75893-8", "LA10138-8", "6"),
            ("91145-3", "LA10137-0", "5"),
            ("91146-1", "LA10139-6", "7"),
        )
    ]
    scores = plan_for([*rich_patient(), pain, peg]).section("scores").content
    assert [str(p.value) for p in scores.pain if p.day.isoformat() == days_ago(12)] == ["6"]
    assert [str(p.value) for p in scores.peg if p.day.isoformat() == days_ago(12)] == ["6.0"]


def test_a_panel_heading_whose_members_carry_the_results_is_not_named_unread() -> None:
    # A panel sent as a heading (no value) with its results as members (R4 hasMember, STU3/DSTU2 related
    # has-member) was named "not read" on the data-incomplete card though every member was read: noise that
    # teaches clinicians to pass over the card.
    member = observation("59673-4", when=days_ago(20), value_string="Negative")  # fentanyl, urine
    member["id"] = "fent-1"
    for link in (
        {"hasMember": [{"reference": "Observation/fent-1"}]},
        {"related": [{"type": "has-member", "target": {"reference": "Observation/fent-1"}}]},
    ):
        heading = observation("67822-7", when=days_ago(20))  # fentaNYL and Norfentanyl panel - Urine
        heading.update(link)
        assert unjudged_results(sign(heading, member).facts) == (), link
    alone = observation("67822-7", when=days_ago(20))  # no members: a result with no value, named as before
    assert len(unjudged_results(sign(alone).facts)) == 1


def test_a_phq9_or_gad7_total_beyond_its_scale_is_named_not_shown_as_severe() -> None:
    # A PHQ-9 of 40 (its scale ends at 27) showed as "severe; follow up": a number the screen cannot give, read as
    # a finding. It is named as not read, and the screen counts as not on record.
    from test_plan import plan_for, rich_patient

    resources = [
        *rich_patient(),
        observation("44261-6", when=days_ago(30), value_quantity=40, category="survey"),
        observation("70274-6", when=days_ago(30), value_quantity=12, category="survey"),
    ]
    steps = plan_for(resources).section("steps").content
    assert steps.screens.latest("PHQ-9 (depression)") is None
    assert steps.screens.latest("GAD-7 (anxiety)").score == 12
    assess = next(s for s in steps.steps if s.key == "assess")
    details = [(e.label, e.detail) for e in assess.evidence]
    assert ("PHQ-9 (depression)", f"not read, beyond its scale: 40 on {days_ago(30)} (the scale ends at 27)") in details
    assert "A PHQ-9 screen: none in the last 2 years." in assess.due


def test_a_pain_score_coded_as_a_word_is_named_not_dropped() -> None:
    # A pain score answered "Moderate" (a coded word, no number) was left out of the trend with nothing to say so.
    from test_plan import plan_for, rich_patient

    pain = observation("72514-3", when=days_ago(12), category="survey")
    pain["valueCodeableConcept"] = {
        "coding": [{"system": "http://snomed.info/sct", "code": "6736007", "display": "Moderate"}]
    }
    scores = plan_for([*rich_patient(), pain]).section("scores").content
    assert f"pain intensity on {days_ago(12)}: 'Moderate'" in scores.unread


def test_a_result_read_beside_a_note_that_part_was_not_performed_is_still_a_test() -> None:
    # "Negative; quantity not sufficient for confirmation": the screen was done and read, only the confirmation was not.
    chronic = med_request(OXYCODONE, draft=True, id="ox1", supply_days=30)
    result = observation(
        COCAINE_SCREEN, when=days_ago(40), value_string="Negative; quantity not sufficient for confirmation"
    )
    evaluation = run("order-sign", drafts=[chronic], resources=[result])
    assert card(evaluation, "urine-drug-test") is None
    assert [r.value for r in evaluation.facts.uds_results] == ["negative"]


def test_a_pain_score_coded_as_reported_pain_severity_is_read_and_asked_for() -> None:
    # Many EHRs file the 0-10 pain score under LOINC 38208-5 (pain severity, reported), often as a vital sign: read
    # by 72514-3 alone, and asked for by it alone, the page showed no pain score for a patient scored every visit.
    from datetime import date

    from test_plan import plan_for, rich_patient

    from smart_app.plan_view import plan_queries

    pain = observation("38208-5", when=days_ago(12), value_quantity=7, category="vital-signs")
    scores = plan_for([*rich_patient(), pain]).section("scores").content
    assert [str(p.value) for p in scores.pain if p.day.isoformat() == days_ago(12)] == ["7"]
    assert "http://loinc.org|38208-5" in plan_queries("p1", date(2026, 6, 15))["coded_scores"]
