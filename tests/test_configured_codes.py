"""Codes a site writes in its settings are read as the EHR's codings are: any spelling of a known code system (its
OID, https, another case, a trailing slash) is that system, on either side; a setting that names no code system or
no code stops the program with its key named."""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import responses
from builders import ICD10, SNOMED, card, condition, days_ago, med_request, observation, procedure, run, service_request
from builders import patient as patient_resource
from cds_support import FHIR, hook_request, make_app, oxycodone_draft, topics

from guideline.config import ConfigError, GuidelineConfig
from smart_app.cli import main

OXYCODONE = "1049621"  # oxycodone hydrochloride 5 MG Oral Tablet
SNOMED_OID = "urn:oid:2.16.840.1.113883.6.96"
ICD10_OID = "urn:oid:2.16.840.1.113883.6.90"
EPIC_FLOWSHEET = "urn:oid:1.2.840.114350.1.13.0.1.7.2.707679"  # a site's flowsheet rows
EPIC_PREFERENCE_LIST = "urn:com.epic.cdshooks.action.code.system.preference-list-item"


def signed(*resources: dict[str, Any], config: dict[str, Any], check: str) -> bool:
    """Whether `check` gives a card on signing a 90 MME oxycodone order with these resources on record."""
    draft = med_request(OXYCODONE, draft=True, id="ox1", dose=2, period=4, supply_days=30)
    return card(run("order-sign", drafts=[draft], resources=list(resources), config=config), check) is not None


# -- exclusions.<name>.add_codes / remove_codes ----------------------------------------------------------------

# (exclusion, the code the site adds in its own spelling, the code as the EHR sends it)
ADDED = [
    # D75.89 (other diseases of blood) under the ICD-10-CM OID, as a C-CDA conversion names it
    ("sickle_cell", f"{ICD10_OID}|D75.89", (ICD10, "D75.89")),
    # malignant neoplastic disease (SNOMED CT) under https, with a trailing slash
    ("active_cancer", "https://snomed.info/sct/|363346000", (SNOMED, "363346000")),
    # ALS written in capitals and without its dot, as claims write it
    ("terminal_condition", "HTTP://HL7.ORG/FHIR/SID/ICD-10-CM|G1221", (ICD10, "G12.21")),
]


@pytest.mark.parametrize(("name", "written", "sent"), ADDED, ids=[a[0] for a in ADDED])
def test_an_exclusion_code_added_in_another_spelling_matches_the_ehr_s_code(name, written, sent) -> None:
    config = {"exclusions": {name: {"add_codes": [written]}}}
    assert signed(condition(*sent), config={}, check="high-mme")  # not in the set before the site adds it
    assert not signed(condition(*sent), config=config, check="high-mme")


@pytest.mark.parametrize(("name", "written", "sent"), ADDED, ids=[a[0] for a in ADDED])
def test_an_exclusion_code_added_canonically_matches_the_ehr_s_other_spelling(name, written, sent) -> None:
    system, code = sent
    config = {"exclusions": {name: {"add_codes": [f"{system}|{code}"]}}}
    other = {ICD10: ICD10_OID, SNOMED: SNOMED_OID}[system]
    assert not signed(condition(other, code), config=config, check="high-mme")


@pytest.mark.parametrize(
    ("name", "written", "sent"),
    [
        ("sickle_cell", f"{ICD10_OID}|D571", (ICD10, "D57.1")),  # sickle-cell disease without crisis
        ("active_cancer", "https://hl7.org/fhir/sid/icd-10-cm|C50.011", (ICD10, "C50.011")),  # breast cancer
        ("terminal_condition", f"{SNOMED_OID}|300936002", (SNOMED, "300936002")),  # terminal illness
    ],
    ids=["sickle_cell", "active_cancer", "terminal_condition"],
)
def test_an_exclusion_code_removed_in_another_spelling_is_removed(name, written, sent) -> None:
    assert not signed(condition(*sent), config={}, check="high-mme")  # in the set: the order is excluded
    config = {"exclusions": {name: {"remove_codes": [written]}}}
    assert signed(condition(*sent), config=config, check="high-mme")
    assert signed(condition(ICD10_OID if sent[0] == ICD10 else SNOMED_OID, sent[1]), config=config, check="high-mme")


def test_a_local_problem_list_system_is_matched_as_written() -> None:
    local = "https://ehr.example.org/fhir/CodeSystem/problems"
    config = {"exclusions": {"sickle_cell": {"add_codes": [f" {local}|SCD-9 "]}}}
    assert not signed(condition(local, "SCD-9"), config=config, check="high-mme")
    assert signed(condition(local, "SCD-8"), config=config, check="high-mme")


# -- pdmp.review_codes -----------------------------------------------------------------------------------------

SITE_REVIEW = "1000001000124100"  # the site's own PDMP review code in SNOMED CT (not in PainPlan's set)


def test_a_pdmp_review_code_written_under_the_snomed_oid_matches_the_ehr_s_snomed_code() -> None:
    config = {"pdmp": {"review_codes": [f"{SNOMED_OID}|{SITE_REVIEW}"]}}
    review = procedure(SNOMED, SITE_REVIEW, performed=days_ago(10))
    assert signed(review, config={}, check="pdmp-review")
    assert not signed(review, config=config, check="pdmp-review")


def test_a_pdmp_review_code_written_canonically_matches_the_ehr_s_oid() -> None:
    config = {"pdmp": {"review_codes": [f"{SNOMED}|{SITE_REVIEW}"]}}
    row = observation(SITE_REVIEW, system=SNOMED_OID, when=days_ago(10), value_string="Yes", category="survey")
    assert not signed(row, config=config, check="pdmp-review")


def test_a_flowsheet_oid_written_without_its_urn_prefix_is_searched_and_matched_as_a_urn() -> None:
    from cds_hooks.services import templates
    from smart_app.plan_view import plan_queries

    config = {"pdmp": {"review_codes": ["1.2.840.114350.1.13.0.1.7.2.707679|30412"]}}
    row = observation("30412", system=EPIC_FLOWSHEET, when=days_ago(10), value_string="Yes", category="survey")
    assert not signed(row, config=config, check="pdmp-review")
    settings = GuidelineConfig.from_mapping(config)
    assert templates("order-sign", settings)["pdmpObs"].split("&")[1].endswith(f",{EPIC_FLOWSHEET}|30412")
    assert f",{EPIC_FLOWSHEET}|30412," in plan_queries("p1", date(2026, 6, 15), settings)["coded_scores"]


def test_the_searches_ask_with_the_site_s_spelling() -> None:
    # The EHR finds what it stores: the spelling the site wrote is the one its server knows. An extra token in
    # another spelling could at best find nothing more, and at worst make the server refuse the whole search.
    from cds_hooks.services import templates
    from smart_app.plan_view import plan_queries

    written = f"{SNOMED_OID}|{SITE_REVIEW}"
    settings = GuidelineConfig.from_mapping({"pdmp": {"review_codes": [written]}})
    pdmp_obs = templates("order-sign", settings)["pdmpObs"]
    assert pdmp_obs.split("&")[1].endswith(f"461621000124108,{written}")
    assert f"{SNOMED}|{SITE_REVIEW}" not in pdmp_obs
    assert f",{written}," in plan_queries("p1", date(2026, 6, 15), settings)["coded_scores"]


@responses.activate
def test_a_review_found_by_the_site_s_search_counts_whatever_spelling_the_ehr_answers_with(tmp_path) -> None:
    # The hook reads pdmpObs itself (no prefetch sent): the search carries the site's OID spelling, the EHR answers
    # with the review under SNOMED CT's FHIR name, and the review counts.
    written = f"{SNOMED_OID}|{SITE_REVIEW}"
    review = observation(SITE_REVIEW, system=SNOMED, when=days_ago(10), value_string="Yes", category="survey")
    found = {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": review}]}
    empty = {"resourceType": "Bundle", "type": "searchset", "entry": []}
    responses.get(f"{FHIR}/Patient/p1", json=patient_resource())
    responses.get(re.compile(re.escape(FHIR) + r"/Observation\?.*" + SITE_REVIEW), json=found)
    responses.get(re.compile(re.escape(FHIR) + r"/\w+\?.*"), json=empty)
    app = make_app(tmp_path, guideline={"pdmp": {"review_codes": [written]}})
    body = hook_request(drafts=[oxycodone_draft()], prefetch={}, fhir=True)
    answer = app.test_client().post("/cds-services/order-sign", json=body)
    assert answer.status_code == 200
    asked = [parse_qs(urlsplit(c.request.url).query).get("code", [""])[0] for c in responses.calls]
    assert any(written in codes.split(",") for codes in asked)
    assert "pdmp-review" not in topics(answer.json)
    unconfigured = make_app(tmp_path / "plain").test_client().post("/cds-services/order-sign", json=body)
    assert "pdmp-review" in topics(unconfigured.json)


# -- suggestions.uds_code --------------------------------------------------------------------------------------

SITE_PANEL = "1000002000124106"  # the site's urine drug screen orderable, coded in SNOMED CT


def chronic_order() -> dict[str, Any]:
    return med_request(OXYCODONE, draft=True, id="ox1", dose=1, period=6, supply_days=90)


def uds_card(*resources: dict[str, Any], config: dict[str, Any]) -> Any:
    return card(
        run("order-sign", drafts=[chronic_order()], resources=list(resources), config=config), "urine-drug-test"
    )


def test_a_uds_orderable_written_under_an_alias_is_recognised_as_pending_and_sent_as_written() -> None:
    site = {"system": "https://snomed.info/sct", "code": SITE_PANEL, "display": "Pain management drug screen"}
    config = {"suggestions": {"uds_code": site}}
    found = uds_card(config=config)
    assert found is not None and found.suggestions[0].resource["code"]["coding"] == [site]
    pending = service_request(SNOMED, SITE_PANEL, authored=days_ago(3))
    assert uds_card(pending, config={}) is not None  # no drug test by PainPlan's own codes
    assert uds_card(pending, config=config) is None


def test_a_uds_orderable_written_canonically_is_recognised_under_the_ehr_s_oid() -> None:
    config = {"suggestions": {"uds_code": {"system": SNOMED, "code": SITE_PANEL}}}
    assert uds_card(service_request(SNOMED_OID, SITE_PANEL, authored=days_ago(3)), config=config) is None


def test_an_ehr_s_own_orderable_system_is_kept_and_matched_as_written() -> None:
    site = {"system": EPIC_PREFERENCE_LIST, "code": "UDS123"}
    config = {"suggestions": {"uds_code": site}}
    assert uds_card(service_request(EPIC_PREFERENCE_LIST, "UDS123", authored=days_ago(3)), config=config) is None


def test_a_naloxone_orderable_under_a_bare_oid_is_sent_as_a_urn() -> None:
    config = {"suggestions": {"naloxone_medication": {"system": "2.16.840.1.113883.6.88", "code": "1725059"}}}
    evaluation = run(
        "order-sign", drafts=[med_request(OXYCODONE, draft=True, id="ox1", dose=2, period=4)], config=config
    )
    found = card(evaluation, "naloxone")
    assert found is not None
    coding = found.suggestions[0].resource["medicationCodeableConcept"]["coding"]
    assert coding == [{"system": "urn:oid:2.16.840.1.113883.6.88", "code": "1725059"}]


# -- bad values stop the program with the key named ------------------------------------------------------------

LIST_KEYS = [
    ("pdmp.review_codes", lambda v: {"pdmp": {"review_codes": v}}),
    ("exclusions.sickle_cell.add_codes", lambda v: {"exclusions": {"sickle_cell": {"add_codes": v}}}),
    ("exclusions.sickle_cell.remove_codes", lambda v: {"exclusions": {"sickle_cell": {"remove_codes": v}}}),
    ("exclusions.active_cancer.add_codes", lambda v: {"exclusions": {"active_cancer": {"add_codes": v}}}),
    ("exclusions.active_cancer.remove_codes", lambda v: {"exclusions": {"active_cancer": {"remove_codes": v}}}),
    ("exclusions.terminal_condition.add_codes", lambda v: {"exclusions": {"terminal_condition": {"add_codes": v}}}),
    (
        "exclusions.terminal_condition.remove_codes",
        lambda v: {"exclusions": {"terminal_condition": {"remove_codes": v}}},
    ),
]
BAD_ENTRIES = [
    ("snomed|363346000", "is not a URI"),  # a bare name is no code system URI
    ("SNOMED CT|363346000", "is not a URI"),
    ("http://|363346000", "is not a URI"),
    ("urn:oid:snomed|363346000", "is not a URI"),
    ("urn:oid:2.16.840.1.113883.6.96 |363346000", None),  # trailing space only: accepted
    ("http://snomed.info/sct|", "no code"),
    ("http://snomed.info/sct|   ", "no code"),
    ("363346000", 'is not a "system|code" string'),
]


@pytest.mark.parametrize(("key", "shape"), LIST_KEYS, ids=[k for k, _ in LIST_KEYS])
@pytest.mark.parametrize(("entry", "said"), BAD_ENTRIES, ids=[e for e, _ in BAD_ENTRIES])
def test_a_configured_code_with_no_system_uri_or_no_code_fails_at_load(key, shape, entry, said) -> None:
    if said is None:
        GuidelineConfig.from_mapping(shape([entry]))
        return
    with pytest.raises(ConfigError, match=re.escape(key) + ".*" + re.escape(said)):
        GuidelineConfig.from_mapping(shape([entry]))


@pytest.mark.parametrize("key", ["uds_code", "naloxone_medication"])
@pytest.mark.parametrize(
    ("coding", "said"),
    [
        ({"system": "SNOMED", "code": "310627008"}, "system: 'SNOMED' is not a URI"),
        ({"system": "www.snomed.org", "code": "310627008"}, "system: 'www.snomed.org' is not a URI"),
        ({"system": "http://snomed.info/sct", "code": "   "}, "code must not be empty"),
        ({"system": "http://snomed.info/sct", "code": 310627008}, "code must be text"),
    ],
)
def test_a_suggested_orderable_with_no_system_uri_or_no_code_fails_at_load(key, coding, said) -> None:
    with pytest.raises(ConfigError, match=re.escape(f"suggestions.{key}.{said}")):
        GuidelineConfig.from_mapping({"suggestions": {key: coding}})


@pytest.mark.parametrize(
    ("toml", "named"),
    [
        ('[guideline.pdmp]\nreview_codes = ["snomed|1000001000124100"]\n', "pdmp.review_codes"),
        ('[guideline.exclusions.active_cancer]\nadd_codes = ["http://snomed.info/sct|"]\n', "add_codes"),
        ('[guideline.suggestions.uds_code]\nsystem = "SNOMED"\ncode = "310627008"\n', "suggestions.uds_code"),
    ],
)
def test_painplan_check_stops_with_the_key_named_and_no_traceback(toml, named, capsys, tmp_path) -> None:
    config = tmp_path / "site.toml"
    config.write_text(toml)
    request = tmp_path / "request.json"
    request.write_text(json.dumps(hook_request(drafts=[oxycodone_draft()])))
    assert main(["check", "--config", str(config), str(request), "--today", "2026-06-15"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("painplan check: ") and named in lines[0], err


def test_a_level_one_code_under_a_hcpcs_system_is_read_as_cpt_as_the_ehr_s_is() -> None:
    # Blue Button bills CPT codes under its HCPCS system; a claim's 99213 is read as CPT, so the setting's is too.
    blue_button = "https://bluebutton.cms.gov/resources/codesystem/hcpcs"
    config = GuidelineConfig.from_mapping({"pdmp": {"review_codes": [f"{blue_button}|99213", f"{blue_button}|G0481"]}})
    read = config.site_codes.listed("pdmp.review_codes")
    assert [c.key for c in read] == [
        ("http://www.ama-assn.org/go/cpt", "99213"),
        ("http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets", "G0481"),
    ]
    assert [c.token for c in read] == [f"{blue_button}|99213", f"{blue_button}|G0481"]


@pytest.mark.parametrize(
    ("override", "named"),
    [
        ({"cns": {"extra_codes": ["gabapentin"]}}, "cns.extra_codes: 'gabapentin' is not an RxNorm code"),
        ({"naloxone": {"extra_rescue_codes": [""]}}, "naloxone.extra_rescue_codes: '' is not an RxNorm code"),
        ({"oud": {"extra_moud_codes": [True]}}, "oud.extra_moud_codes: True is not an RxNorm code"),
    ],
)
def test_an_rxnorm_code_list_with_something_else_fails_at_load(override, named) -> None:
    # Refused only when the value sets loaded, these stopped `serve` but let `painplan check` answer with every
    # check failed inside, exit status 0.
    with pytest.raises(ConfigError, match=re.escape(named)):
        GuidelineConfig.from_mapping(override)


def test_painplan_check_stops_on_a_bad_rxnorm_code_list(capsys, tmp_path) -> None:
    config = tmp_path / "site.toml"
    config.write_text('[guideline.cns]\nextra_codes = ["gabapentin"]\n')
    request = tmp_path / "request.json"
    request.write_text(json.dumps(hook_request(drafts=[oxycodone_draft()])))
    assert main(["check", "--config", str(config), str(request), "--today", "2026-06-15"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.strip() == (
        "painplan check: cns.extra_codes: 'gabapentin' is not an RxNorm code (digits only)"
    )
