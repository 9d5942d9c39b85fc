"""Card JSON built without empty members, and suggested resources validated once per shape (standards 1.7)."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest
from builders import PATIENT_ID
from fhir.resources.R4B import get_fhir_model_class

from cds_hooks import cards
from cds_hooks.cards import CardOptions, card_json, empty_paths, options_for, prune, safe_markdown
from cds_hooks.ehr_release import R4
from guideline.cards import Card, Link, OverrideReason, Suggestion
from guideline.config import GuidelineConfig

CONFIG = GuidelineConfig.from_mapping()
NOW = "2026-06-15T12:00:00-04:00"


def naloxone(**changes) -> dict:
    resource = {
        "resourceType": "MedicationRequest",
        "status": "draft",
        "intent": "proposal",
        "medicationCodeableConcept": {
            "coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "1725059"}],
            "text": "naloxone 4 mg/0.1 mL nasal spray",
        },
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
        "encounter": {"reference": "Encounter/e1"},
        "requester": {"reference": "Practitioner/p1"},
        "authoredOn": NOW,
    }
    resource.update(changes)
    return resource


def card_with(resource: dict, **changes) -> Card:
    values = {
        "check_id": "naloxone",
        "indicator": "warning",
        "summary": "Offer naloxone",
        "detail": "**Finding.**",
        "suggestions": (
            Suggestion("Order naloxone", "create", "Order naloxone nasal spray.", True, resource=resource),
        ),
    }
    values.update(changes)
    return Card(**values)


@pytest.fixture(autouse=True)
def fresh_caches():
    cards._validation.cache_clear()
    cards._shape.cache_clear()
    cards._slot_value_valid.cache_clear()
    yield


def full_r4b_verdict(resource: dict) -> bool:
    """What validating the whole (pruned) resource says, the rule the cached path must agree with."""
    plain = prune(resource)
    try:
        get_fhir_model_class(plain["resourceType"]).model_validate(plain)
    except Exception:  # noqa: BLE001 - any validation failure
        return False
    return True


def test_empty_members_are_never_built():
    config = GuidelineConfig.from_mapping({"source_url": "not a url", "source_label": ""})
    card = Card(
        check_id="naloxone",
        indicator="info",
        summary="Offer naloxone",
        detail="",
        suggestions=(
            Suggestion("", "create", "", resource=naloxone(note=[], dosageInstruction=[{"text": ""}])),
            Suggestion("Remove", "delete", "", resource_id="MedicationRequest/d1"),
        ),
        links=(Link("", "https://www.cdc.gov/x"), Link("Relative", "/oops")),
        override_reasons=(OverrideReason("", "declined", "Declined"), OverrideReason("s", "c", "")),
    )
    result = card_json(card, CardOptions(config, "https://cds.test/launch", send_app_context=False))
    assert empty_paths(result) == []
    assert "detail" not in result and result["source"] == {
        "topic": {
            "system": "http://painplan.example/fhir/CodeSystem/painplan-check",
            "code": "naloxone",
            "display": "Offer naloxone",
        }
    }
    create, delete = result["suggestions"]
    assert "label" not in create and create["actions"][0]["type"] == "create"
    assert (
        "note" not in create["actions"][0]["resource"] and "dosageInstruction" not in create["actions"][0]["resource"]
    )
    assert delete["actions"] == [{"type": "delete", "resourceId": "MedicationRequest/d1"}]
    assert result["overrideReasons"] == [{"code": "declined", "display": "Declined"}]
    assert result["links"] == [
        {"url": "https://www.cdc.gov/x", "type": "absolute"},
        {"label": "Open PainPlan", "url": "https://cds.test/launch", "type": "smart"},
    ]


def test_false_and_zero_are_kept_while_empties_go():
    resource = naloxone(dosageInstruction=[{"asNeededBoolean": False, "sequence": 0, "text": ""}])
    action = card_json(card_with(resource), options_for(CONFIG, "https://cds.test", PATIENT_ID))["suggestions"][0]
    assert action["actions"][0]["resource"]["dosageInstruction"] == [{"asNeededBoolean": False, "sequence": 0}]
    assert resource["dosageInstruction"][0]["text"] == ""  # the check's own object is left as it was


def test_one_validation_per_shape_whatever_the_patient_visit_user_and_clock():
    sent = []
    for n in range(20):
        resource = naloxone(
            encounter={"reference": f"Encounter/visit-{n}"},
            requester={"reference": f"Practitioner/doc-{n}"},
            authoredOn=f"2026-06-{n + 1:02d}T08:{n:02d}:00+00:00",
        )
        options = options_for(CONFIG, "https://cds.test", f"patient-{n}-" + "x" * 80)
        sent.append(card_json(card_with(resource), options)["suggestions"][0]["actions"][0]["resource"])
    assert cards._validation.cache_info().misses == 1  # the placeholder shape, validated once
    assert sent[7]["subject"] == {"reference": "Patient/patient-7-" + "x" * 80}
    assert sent[7]["authoredOn"] == "2026-06-08T08:07:00+00:00"


@pytest.mark.parametrize(
    "changes",
    [
        {"authoredOn": "2026-06-15T12:00:00"},  # a time without a zone
        {"authoredOn": "2026-13-01"},
        {"authoredOn": "2026-06-15"},
        {"authoredOn": "2026-06-15T12:00:00.123456+00:00"},
        {"authoredOn": "yesterday"},
        {"requester": {"reference": " "}},
        {"requester": {"reference": "Practitioner/" + "a" * 600}},  # too long for the cache: checked each time
        {"requester": {"reference": "Practitioner/\x00" + "a" * 600}},
        {"requester": {"reference": "Practitioner/\x00"}},
        {"requester": {"reference": "Practitioner/a b"}},
        {"requester": {"reference": ""}},
        {"requester": {"reference": "Practitioner/1", "display": ""}},
        {"requester": "Practitioner/1"},
        {"encounter": {"reference": 5}},
        {"performedDateTime": NOW},  # not an element of MedicationRequest
        {"occurrenceDateTime": NOW},
        {"subject": {"reference": "Group/g1"}},
        # A reference's text is checked against Reference.reference's R4B type alone: whitespace R4B refuses, and
        # text it takes, must give the whole resource's verdict.
        {"subject": {"reference": "\u00a0"}},
        {"encounter": {"reference": "\x0b\x0c"}},
        {"subject": {"reference": "Patient/é-\t1"}},
        {"requester": {"reference": "#contained"}},
    ],
)
def test_the_cached_verdict_is_the_full_r4b_verdict(changes):
    resource = naloxone(**changes)
    # Run twice: the first call may take the full path, the second must agree from the caches.
    for _ in range(2):
        action, _ = cards._action(
            card_with(resource).suggestions[0], CardOptions(CONFIG, "https://x/launch"), "naloxone"
        )
        assert (action is not None) is full_r4b_verdict(resource), changes


def checked_resource(resource: Mapping[str, Any], check_id: str) -> Mapping[str, Any] | None:
    """The resource as `_action` sends it in R4 (without empty values), or None when validation refuses it."""
    cleaned, verdict = cards._checked(resource, check_id, R4)
    return cleaned if verdict.error is None else None


@pytest.mark.parametrize("resource_type", ["ServiceRequest", "Procedure"])
def test_other_suggested_types_share_the_shape_cache_and_keep_their_own_rules(resource_type):
    base = {"resourceType": resource_type, "status": "draft" if resource_type == "ServiceRequest" else "completed"}
    base["code"] = {"coding": [{"system": "http://loinc.org", "code": "19659-8"}]}
    if resource_type == "ServiceRequest":
        base.update(intent="proposal", authoredOn=NOW, requester={"reference": "Practitioner/p"})
    else:
        base.update(performedDateTime=NOW)
    for patient in ("a", "b", "c"):
        resource = {**base, "subject": {"reference": f"Patient/{patient}"}}
        assert checked_resource(resource, "x") is resource
    assert cards._validation.cache_info().misses == 1
    wrong = {**base, "subject": {"reference": "Patient/a"}, "authoredOn": NOW, "performedDateTime": NOW}
    assert (checked_resource(wrong, "x") is not None) is full_r4b_verdict(wrong)


def task(**changes: Any) -> dict:
    """A site's oud-treatment Task template as the check addresses it: a referral to the opioid treatment program."""
    resource = {
        "resourceType": "Task",
        "status": "requested",
        "intent": "order",
        "code": {"text": "Refer to the opioid treatment program"},
        "encounter": {"reference": "Encounter/e1"},
        "requester": {"reference": "Practitioner/p1"},
        "authoredOn": NOW,
    }
    resource.update(changes)
    return resource


@pytest.mark.parametrize("release", ["R4", "STU3"])
def test_a_task_is_validated_once_whatever_the_patient_named_in_its_for(release):
    """A Task names its patient in `for`, a per-call value like a subject: before, each new patient's Task was a new
    shape, validated whole (the dearest step of a card) on every call."""
    sent = []
    for patient in ("p-a", "p-b", "p-c"):
        options = options_for(CONFIG, "https://cds.test", patient, release=release)
        result = card_json(card_with(task(), check_id="oud-treatment"), options)
        sent.append(result["suggestions"][0]["actions"][0]["resource"])
    assert cards._validation.cache_info().misses == 1
    assert [r["for"] for r in sent] == [{"reference": f"Patient/{p}"} for p in ("p-a", "p-b", "p-c")]


@pytest.mark.parametrize(
    "patient", [{"reference": " "}, {"reference": "Patient/a b"}, {"reference": ""}, "Patient/1", {"reference": 5}]
)
def test_the_cached_verdict_on_a_tasks_for_is_the_full_r4b_verdict(patient):
    resource = task(**{"for": patient})
    for _ in range(2):
        action, _ = cards._action(
            card_with(resource).suggestions[0], CardOptions(CONFIG, "https://x/launch"), "oud-treatment"
        )
        assert (action is not None) is full_r4b_verdict(resource), patient


def test_a_resource_holding_read_only_mappings_is_sent_as_plain_json():
    resource = naloxone(medicationCodeableConcept=MappingProxyType({"text": "naloxone 4 mg nasal spray"}))
    result = card_json(card_with(resource), options_for(CONFIG, "https://cds.test", PATIENT_ID))
    sent = result["suggestions"][0]["actions"][0]["resource"]
    assert json.loads(json.dumps(sent))["medicationCodeableConcept"] == {"text": "naloxone 4 mg nasal spray"}


def test_debug_logging_checks_the_built_card_and_prunes_what_slipped_through(monkeypatch, caplog):
    monkeypatch.setattr(cards, "_source", lambda check_id, config: {"label": "", "topic": {"code": check_id}})
    card = card_with(naloxone())
    options = options_for(CONFIG, "https://cds.test", PATIENT_ID)
    assert card_json(card, options)["source"]["label"] == ""  # no check without debug logging: the fast path
    caplog.set_level(logging.DEBUG, logger="cds_hooks.cards")
    checked = card_json(card, options)
    assert checked["source"] == {"topic": {"code": "naloxone"}} and empty_paths(checked) == []
    assert "card-empty-members" in caplog.text and "$.source.label" in caplog.text


def test_markdown_scan_shortcuts_change_nothing():
    plain = "**Total: 60.0 MME/day.**\n\n- oxycodone 5 MG: 1 tablet every 6 h\n\n*Based on: orders.*"
    assert safe_markdown(plain) is plain  # nothing to defuse: the text itself, not a copy
    # re.IGNORECASE also reads the long s and the dotted and dotless i as s and i.
    assert safe_markdown("[a](javaſcript:x)") == "[a](#blocked:x)"
    assert safe_markdown("[a](vbscrİpt:x)") == "[a](#blocked:x)"
    assert safe_markdown("[a](FİLE:x) and [b](DATA:y)") == "[a](#blocked:x) and [b](#blocked:y)"
    assert safe_markdown("see data: 3 values") == "see data: 3 values"
    assert safe_markdown("20 mg × 1.5 — [a](JavaScript:x)") == "20 mg × 1.5 — [a](#blocked:x)"  # other non-ASCII


def test_reference_definitions_are_defused_line_by_line_in_linear_time():
    assert safe_markdown("intro\n\n   [x]: javascript:alert(1)") == "intro\n\n   [x]: #blocked:alert(1)"
    assert safe_markdown("[a](\n  javascript:x)") == "[a](\n  #blocked:x)"
    # 200,000 blank lines before a scheme: the definition pattern spanned line ends and retried the rest from every
    # line (quadratic: minutes at this size, 1.6 s at 20,000); run apart with a generous limit so a hang fails only
    # this test.
    code = "from cds_hooks.cards import safe_markdown; safe_markdown('\\n' * 200000 + 'javascript: [x]: data:y')"
    subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).resolve().parent.parent, check=True, timeout=30)
