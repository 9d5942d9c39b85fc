"""Card JSON (standards 1.7, 5 #27–#29; guideline 10.0.2): uuids, topic, suggestions, links, no empty values."""

from __future__ import annotations

import gc
import json
import os
import re
import uuid
import weakref

import pytest
from builders import PATIENT_ID
from cds_support import hook_request, make_app, oxycodone_draft

from cds_hooks.cards import CardOptions, card_json, empty_paths, options_for, prune, topic_code
from guideline.cards import Card, Link, OverrideReason, Suggestion
from guideline.config import GuidelineConfig

CONFIG = GuidelineConfig.from_mapping()
NALOXONE = {
    "resourceType": "MedicationRequest",
    "status": "draft",
    "intent": "proposal",
    "medicationCodeableConcept": {
        "coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "1725059"}]
    },
    "subject": {"reference": "Patient/someone-else"},
    "note": [],
    "dosageInstruction": [{"text": ""}],
}


def sample_card(**changes) -> Card:
    values = {
        "check_id": "naloxone",
        "indicator": "warning",
        "summary": "Offer naloxone: overdose risk is elevated",
        "detail": "**Finding.**",
        "suggestions": (
            Suggestion("Order naloxone", "create", "Order naloxone nasal spray.", True, resource=NALOXONE),
            Suggestion("Remove the new order", "delete", "Remove the draft.", resource_id="MedicationRequest/d1"),
        ),
        "links": (Link("CDC Recommendation 8", "https://www.cdc.gov/x#8"), Link("Relative", "/oops")),
        "override_reasons": (OverrideReason("http://s", "naloxone-declined", "Naloxone offered; patient declined"),),
        "orders": ("MedicationRequest/d1",),
        "view": "risk",
    }
    values.update(changes)
    return Card(**values)


def test_uuids_stay_random_v4_and_distinct_past_one_read_of_randomness():
    from cds_hooks.cards import UUIDS_PER_READ

    options = options_for(CONFIG, "https://cds.example.org/", PATIENT_ID)
    cards = [card_json(sample_card(), options) for _ in range(UUIDS_PER_READ)]  # three uuids a card
    ids = [c["uuid"] for c in cards] + [s["uuid"] for c in cards for s in c["suggestions"]]
    assert len(ids) == 3 * UUIDS_PER_READ and len(set(ids)) == len(ids)
    parsed = [uuid.UUID(i) for i in ids]
    assert all(u.version == 4 and u.variant == uuid.RFC_4122 for u in parsed)
    other_call = options_for(CONFIG, "https://cds.example.org/", PATIENT_ID)
    assert card_json(sample_card(), other_call)["uuid"] not in ids


def test_a_uuid_is_written_as_uuid_writes_the_same_random_bytes_as_version_4():
    """new_uuid sets the version and variant bits and writes the hex itself: the text uuid.UUID gives."""
    samples = [bytes(16), b"\xff" * 16, bytes(range(16)), bytes(range(240, 256)), os.urandom(16)]
    options = options_for(CONFIG, "https://cds.example.org/", PATIENT_ID)
    options.randomness.extend(b"".join(samples))
    assert [options.new_uuid() for _ in samples] == [str(uuid.UUID(bytes=raw, version=4)) for raw in samples]


def test_card_shape_uuids_topic_suggestions_and_links():
    options = options_for(CONFIG, "https://cds.example.org/", PATIENT_ID)
    first, second = card_json(sample_card(), options), card_json(sample_card(), options)
    assert uuid.UUID(first["uuid"]).version == 4 and first["uuid"] != second["uuid"]
    assert first["summary"] and len(first["summary"]) < 140 and isinstance(first["detail"], str)
    assert first["source"]["label"] == CONFIG["source_label"]
    assert first["source"]["topic"] == {
        "system": "http://painplan.example/fhir/CodeSystem/painplan-check",
        "code": "naloxone",
        "display": "Offer naloxone",
    }
    assert first["selectionBehavior"] == "any"
    create, delete = first["suggestions"]
    assert create["isRecommended"] is True and "isRecommended" not in delete
    assert all(len(s["actions"]) == 1 and uuid.UUID(s["uuid"]) for s in first["suggestions"])
    assert create["actions"][0]["resource"]["subject"] == {"reference": f"Patient/{PATIENT_ID}"}
    assert delete["actions"][0] == {
        "type": "delete",
        "description": "Remove the draft.",
        "resourceId": "MedicationRequest/d1",
    }
    assert all(r["display"] for r in first["overrideReasons"])
    labels = [link["label"] for link in first["links"]]
    assert "Relative" not in labels  # relative links are never sent
    smart = next(link for link in first["links"] if link["type"] == "smart")
    assert smart["url"] == "https://cds.example.org/launch"
    assert json.loads(smart["appContext"]) == {"view": "risk", "check": "naloxone", "orders": ["MedicationRequest/d1"]}
    assert all(link["url"].startswith("https://") for link in first["links"])
    assert empty_paths(first) == []


def test_changing_one_cards_source_changes_no_other_card():
    # A caller that adds to one card's source (a site's proxy tagging its cards, a test helper) changed the source of
    # every later card of the check: they all shared one object.
    options = options_for(CONFIG, "https://cds.example.org/", PATIENT_ID)
    first = card_json(sample_card(), options)
    first["source"]["label"] = "Relabelled"
    first["source"]["topic"]["code"] = "changed"
    second = card_json(sample_card(), options)
    assert second["source"]["label"] == CONFIG["source_label"]
    assert second["source"]["topic"]["code"] == "naloxone"


def test_each_configuration_keeps_its_own_card_source():
    # Sources are made once per configuration: a configuration made after another is gone never gets its source.
    for label in ("Site A", "Site B", "Site A"):
        config = GuidelineConfig.from_mapping({"source_label": label})
        card = card_json(sample_card(), options_for(config, "https://cds.example.org/", PATIENT_ID))
        assert card["source"]["label"] == label


def test_a_configuration_no_longer_used_is_freed_with_its_card_sources():
    # Settings read again make a new configuration; the card sources made for the old one must not keep it alive.
    config = GuidelineConfig.from_mapping({"source_label": "Read before the settings changed"})
    card_json(sample_card(), options_for(config, "https://cds.example.org/", PATIENT_ID))
    gone = weakref.ref(config)
    del config
    gc.collect()
    assert gone() is None


def test_app_context_can_be_switched_off_and_launch_url_configured():
    config = GuidelineConfig.from_mapping(
        {"smart_app": {"launch_url": "https://plan.example.org/smart/launch", "send_app_context": False}}
    )
    card = card_json(sample_card(), options_for(config, "https://cds.example.org", PATIENT_ID))
    smart = next(link for link in card["links"] if link["type"] == "smart")
    assert smart == {"label": "Open PainPlan", "url": "https://plan.example.org/smart/launch", "type": "smart"}


def test_alnum_topic_codes_for_epic():
    config = GuidelineConfig.from_mapping({"topic_code_style": "alnum"})
    assert topic_code("opioid-benzodiazepine", config) == "opioidbenzodiazepine"
    card = card_json(sample_card(), options_for(config, "https://x.test", PATIENT_ID))
    assert re.fullmatch(r"[A-Za-z0-9]{1,100}", card["source"]["topic"]["code"])


def test_invalid_suggested_resource_is_dropped_never_sent():
    broken = dict(NALOXONE, authoredOn="yesterday")
    card = card_json(
        sample_card(suggestions=(Suggestion("Order", "create", "Order it.", resource=broken),)),
        options_for(CONFIG, "https://x.test", PATIENT_ID),
    )
    assert "suggestions" not in card and "selectionBehavior" not in card
    # Never silent: the clinician looking for the button is told it is missing and what to do instead.
    assert card["detail"].endswith(
        '"Order" is not offered as a suggestion: PainPlan could not write it as a FHIR R4 resource the EHR can '
        "apply (an internal fault, logged as suggestion-dropped). Do it in the EHR directly."
    )


def test_card_without_suggestions_has_no_selection_behavior_and_no_empty_lists():
    card = card_json(
        sample_card(suggestions=(), override_reasons=(), links=()), CardOptions(CONFIG, "https://x.test/launch")
    )
    assert "suggestions" not in card and "selectionBehavior" not in card and "overrideReasons" not in card
    assert [link["type"] for link in card["links"]] == ["smart"]
    assert empty_paths(card) == []


def test_prune_removes_every_kind_of_empty_value_at_any_depth():
    messy = {
        "a": None,
        "b": "",
        "c": [],
        "d": {},
        "e": [{"f": None}, {}, "", 0, False],
        "g": {"h": {"i": []}},
        "j": "x",
    }
    assert prune(messy) == {"e": [0, False], "j": "x"}
    assert empty_paths({"cards": [{"x": []}]}) == ["$.cards[0].x"]


@pytest.mark.parametrize("service", ["order-sign", "order-select"])
def test_every_card_from_the_service_is_clean(tmp_path, service):
    app = make_app(tmp_path)
    body = hook_request(service, drafts=[oxycodone_draft(dose=3)], prefetch={})
    response = app.test_client().post(f"/cds-services/{service}", json=body)
    cards = response.json["cards"]
    assert cards and empty_paths(response.json) == []
    for card in cards:
        assert card["indicator"] in ("info", "warning", "critical") and len(card["summary"]) < 140
        assert "appContext" not in json.dumps([link for link in card.get("links", []) if link["type"] != "smart"])
        assert all(isinstance(link.get("appContext", ""), str) for link in card.get("links", []))
        for suggestion in card.get("suggestions", []):
            assert card["selectionBehavior"] == "any" and suggestion["label"]
            for action in suggestion["actions"]:
                assert action["type"] in ("create", "update", "delete") and action["description"]
                if action["type"] == "delete":
                    assert re.fullmatch(r"[A-Za-z]+/.+", action["resourceId"])


def test_a_smart_link_to_another_app_keeps_its_own_url_and_no_app_context():
    card = Card(
        check_id="pdmp-review",
        indicator="warning",
        summary="No PDMP review on record in the last 90 days",
        detail="Check the PDMP.",
        links=(
            Link("Open the PDMP app", "https://pdmp.example.org/smart/launch", "smart"),
            Link("PainPlan", type="smart"),
        ),
    )
    links = card_json(card, options_for(CONFIG, "https://cds.example.org", PATIENT_ID))["links"]
    assert links[0] == {"label": "Open the PDMP app", "url": "https://pdmp.example.org/smart/launch", "type": "smart"}
    assert links[1]["url"] == "https://cds.example.org/launch"
    assert json.loads(links[1]["appContext"])["check"] == "pdmp-review"


def test_raw_html_and_script_links_from_ehr_text_never_reach_card_markdown(tmp_path):
    # Found live: a medication's display text is quoted into card details, and GFM renders raw HTML and links.
    app = make_app(tmp_path)
    draft = oxycodone_draft()
    hostile = "Oxy <img src=x onerror=alert(1)> [see](javascript:alert(1)) [more]( JavaScript:x) <script>x</script>"
    draft["medicationCodeableConcept"]["text"] = hostile
    draft["medicationCodeableConcept"]["coding"][0]["display"] = hostile
    cards = app.test_client().post("/cds-services/order-sign", json=hook_request(drafts=[draft])).json["cards"]
    details = [card["detail"] for card in cards if "Oxy" in card.get("detail", "")]
    assert details, "the probe text should be quoted somewhere"
    for detail in details:
        assert not re.search(r"<\s*[A-Za-z/!?]", detail)
        assert not re.search(r"\]\(\s*(javascript|vbscript|data):", detail, re.IGNORECASE)
    plain = next(card for card in cards if card["source"]["topic"]["code"] == "high-mme")["detail"]
    assert "Total" in plain and "90" in plain  # our own markdown is untouched


def test_markdown_sanitiser_keeps_comparisons_and_safe_links():
    from cds_hooks.cards import safe_markdown

    text = "Dose < 50 MME and 3<4; see [CDC](https://www.cdc.gov/x) and <https://example.org>."
    assert safe_markdown(text) == text.replace("<https", "&lt;https")
    assert safe_markdown("\\<img src=x>") == "\\&lt;img src=x>"  # a quoted backslash cannot re-arm the tag
    assert safe_markdown("[a](javascript:alert(1))") == "[a](#blocked:alert(1))"
    assert safe_markdown("[r]: data:text/html;base64,xx") == "[r]: #blocked:text/html;base64,xx"
    assert safe_markdown("[a](java&#115;cript&colon;x)") == "[a](java&amp;#115;cript&amp;colon;x)"


def test_app_context_carries_the_drafts_exactly_as_json_encoding_them_would():
    """The drafts' JSON is made once per call and spliced in: byte-for-byte what encoding the whole context gives."""
    from guideline.plan import compact_drafts

    draft = {
        "resourceType": "MedicationRequest",
        "id": "d1",
        "status": "draft",
        "intent": "order",
        "medicationCodeableConcept": {"text": "Oxycodone 5 mg – tablet ✓", "coding": [{"code": "1049621"}]},
        "dosageInstruction": [{"text": 'take "1" \\ PRN', "doseAndRate": [{"doseQuantity": {"value": 0.5e-7}}]}],
        "dispenseRequest": {"quantity": {"value": 1e16}, "numberOfRepeatsAllowed": -0.0, "z": float("nan")},
        "note": [{"text": "not carried"}],
    }
    bundle = {"resourceType": "Bundle", "entry": [{"resource": draft}, {"resource": {**draft, "id": "d2"}}]}
    options = options_for(CONFIG, "https://cds.example.org/", PATIENT_ID, bundle)
    for check, orders in (("naloxone", ("d1",)), ("high-mme", ("d1",)), ("high-mme", ("d2", "d1")), ("x", ("d9",))):
        card = card_json(sample_card(check_id=check, orders=orders), options)
        [smart] = [link for link in card["links"] if link["type"] == "smart"]
        context = {"view": "risk", "check": check, "orders": list(orders)}
        drafts = compact_drafts(bundle, orders)
        if drafts:
            context["drafts"] = drafts
        assert smart["appContext"] == json.dumps(context, separators=(",", ":"))
    assert len(options.drafts_json) == 3  # made once per set of named orders
