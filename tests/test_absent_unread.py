"""A card never says "none found" of data PainPlan could not read: each card stating an absence names what could not
be read (never silent), its summary says the records were incomplete, and its facts carry the unread kinds."""

from __future__ import annotations

import json
import re
from urllib.parse import urlsplit

import responses
from builders import med_request
from cds_support import FHIR, bundle, full_prefetch, hook_request, make_app

MORPHINE_ER_15 = "891881"  # morphine sulfate 15 MG Extended Release Oral Tablet
MARK = "(records incomplete)"


def morphine_er_draft() -> dict:
    """Morphine ER 15 mg, 1 tablet twice a day, 60 tablets for 30 days: subacute/chronic, ER/LA."""
    return med_request(MORPHINE_ER_15, draft=True, id="draft-morphine", dose=1, period=12, supply_days=30, quantity=60)


def refusing_fhir(status: int = 401, refused: tuple[str, ...] | None = None) -> None:
    """A FHIR server answering `status` to every search of the types `refused` (every type when None), and an empty
    Bundle to the rest."""

    def answer(request):
        kind = urlsplit(request.url).path[len("/fhir/") :].split("/")[0]
        if refused is None or kind in refused:
            outcome = {"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "login"}]}
            return status, {}, json.dumps(outcome)
        return 200, {}, json.dumps(bundle())

    responses.add_callback(responses.GET, re.compile(FHIR + "/.*"), callback=answer)


def cards_by_topic(response) -> dict[str, dict]:
    assert response.status_code == 200, response.json
    return {card["source"]["topic"]["code"]: card for card in response.json["cards"]}


ABSENCE_CARDS = ("er-la-opioid-naive", "urine-drug-test", "pdmp-review", "treatment-plan")


@responses.activate
def test_every_card_stating_an_absence_names_the_data_a_401_server_kept_back(tmp_path):
    refusing_fhir(401)
    body = hook_request(drafts=[morphine_er_draft()], prefetch={}, fhir=True)
    cards = cards_by_topic(make_app(tmp_path).test_client().post("/cds-services/order-sign", json=body))

    assert set(ABSENCE_CARDS) <= set(cards), sorted(cards)
    for topic in ABSENCE_CARDS:
        card = cards[topic]
        assert "**Could not check:**" in card["detail"], topic
        assert "HTTP 401" in card["detail"], topic
        assert card["summary"].endswith(MARK) and len(card["summary"]) <= 140, card["summary"]
    naive = cards["er-la-opioid-naive"]["detail"]
    assert "pharmacy fills" in naive and "medication orders" in naive
    assert "opioid use in the past 90 days may be missing" in naive
    assert "was found in what could be read" in naive
    assert "PDMP reviews" in cards["pdmp-review"]["detail"].split("**Could not check:**")[1]
    assert "lab results" in cards["urine-drug-test"]["detail"].split("**Could not check:**")[1]
    assert "care plans" in cards["treatment-plan"]["detail"].split("**Could not check:**")[1]
    # The info card still names the searches; the red card no longer reads as all clear about them.
    assert "data-incomplete" in cards


@responses.activate
def test_only_the_pdmp_card_caveats_when_only_the_pdmp_search_failed(tmp_path):
    refusing_fhir(500, refused=("Observation",))
    prefetch = full_prefetch("order-sign")
    for key in ("pdmpObs",):
        prefetch.pop(key)
    body = hook_request(drafts=[morphine_er_draft()], prefetch=prefetch, fhir=True)
    cards = cards_by_topic(make_app(tmp_path).test_client().post("/cds-services/order-sign", json=body))

    assert "**Could not check:**" in cards["pdmp-review"]["detail"]
    assert cards["pdmp-review"]["summary"].endswith(MARK)
    for topic in ("urine-drug-test", "er-la-opioid-naive", "treatment-plan"):
        assert "Could not check" not in cards[topic]["detail"], topic
        assert MARK not in cards[topic]["summary"], topic


def test_no_caveat_when_every_search_was_read(tmp_path):
    body = hook_request(drafts=[morphine_er_draft()])
    cards = cards_by_topic(make_app(tmp_path).test_client().post("/cds-services/order-sign", json=body))

    assert set(ABSENCE_CARDS) <= set(cards)
    for card in cards.values():
        assert "Could not check" not in card["detail"] and MARK not in card["summary"]
        assert "\n\n\n" not in card["detail"], card["source"]["topic"]["code"]  # no empty paragraph where none was


def test_a_chart_that_could_not_be_gathered_leaves_every_kind_unread(tmp_path, monkeypatch):
    from cds_support import raising

    from cds_hooks import service

    monkeypatch.setattr(service, "gather", raising(RuntimeError("boom")))
    body = hook_request(drafts=[morphine_er_draft()])
    cards = cards_by_topic(make_app(tmp_path).test_client().post("/cds-services/order-sign", json=body))

    naive = cards["er-la-opioid-naive"]
    assert "**Could not check:** pharmacy fills, current medication orders, past medication orders" in naive["detail"]
    assert "could not be gathered because of an internal error" in naive["detail"]
    assert "payer claims" not in naive["detail"]  # searched only where a site turns them on (unread_data.CHART_KINDS)
    assert naive["summary"].endswith(MARK)


def test_every_prefetch_key_but_the_patient_names_a_kind_of_data():
    """A prefetch key added without a kind would fail without a word: its search failing would leave the cards saying
    "none found" of its data. The patient's demographics back no statement of absence."""
    from cds_hooks.service import KEY_KINDS
    from cds_hooks.services import PREFETCH, PREFETCH_LABELS, SECOND_SEARCHES, TURNED_ON

    keys = [p.key for p in PREFETCH] + [k.key for _, k in TURNED_ON] + [s.key for s in SECOND_SEARCHES]
    assert sorted(k for k in keys if k not in KEY_KINDS) == ["patient"]
    assert set(KEY_KINDS) <= set(keys)
    assert len(set(PREFETCH_LABELS.values())) == len(PREFETCH_LABELS)  # the card names each gap by its label
