"""The plan page's alert cards say what the page's searches could not read, as the hook's cards do: the same checks,
given the same unread kinds, never state an absence of data nobody read."""

from __future__ import annotations

from datetime import datetime, time

from builders import PATIENT_ID, TODAY, TZ, patient
from test_absent_unread import MARK, morphine_er_draft

from guideline.config import GuidelineConfig
from guideline.plan import QueryStatus
from smart_app.plan_view import QUERY_LABELS, PageInput, assemble

CONFIG = GuidelineConfig.from_mapping()
NOW = datetime.combine(TODAY, time(12))
REFUSED = "the FHIR server answered HTTP 401"


def status(key: str, ok: bool = True, truncated: bool = False) -> QueryStatus:
    """A page search's outcome: read (empty), refused with a 401, or cut off at the page limit."""
    return QueryStatus(key, QUERY_LABELS[key], f"{key}?…", 0, ok, None if ok else REFUSED, truncated)


def alert_cards(statuses: list[QueryStatus]) -> dict:
    """The alerts section's cards of the page opened from an order-sign card carrying the morphine ER draft."""
    page = PageInput((patient(),), (), tuple(statuses))
    view = assemble(page, CONFIG, PATIENT_ID, NOW, {}, drafts=[morphine_er_draft()])
    alerts = next(s for s in view.sections if s.key == "alerts")
    return {card.check_id: card for card in alerts.content.cards}


READ = ("active_orders", "orders", "dispenses", "labs", "coded_scores", "procedures", "service_requests", "care_plans")


def test_the_page_cards_name_the_searches_that_failed():
    failed = {"dispenses", "orders", "coded_scores"}
    cards = alert_cards([status(key, ok=key not in failed) for key in READ])

    naive = cards["er-la-opioid-naive"]
    assert "**Could not check:**" in naive.detail and REFUSED in naive.detail
    assert "pharmacy fills and past medication orders could not be read" in naive.detail
    assert naive.summary.endswith(MARK) and naive.facts["not_read"] == ["fills", "order-history"]
    assert "PDMP reviews could not be read" in cards["pdmp-review"].detail
    # Lab results were read in full: the urine drug test card states its absence plainly.
    assert "Could not check" not in cards["urine-drug-test"].detail
    assert not cards["urine-drug-test"].summary.endswith(MARK)


def test_a_search_cut_off_at_the_page_limit_is_named_as_such():
    cards = alert_cards([status(key, truncated=key == "labs") for key in READ])

    uds = cards["urine-drug-test"]
    assert "lab results could not be read (cut off at the page limit)" in uds.detail
    assert uds.facts["not_read"] == ["lab-results"] and uds.summary.endswith(MARK)
    assert "Could not check" not in cards["er-la-opioid-naive"].detail


def test_the_page_launched_from_the_card_with_a_failing_search_shows_the_caveat_on_its_cards(tmp_path):
    import json
    from urllib.parse import parse_qs, urlsplit

    import responses
    from launch_support import PUBLIC_URL, make_app
    from test_plan_view import FHIR, TOKEN, FakeFhir

    from cds_hooks.cards import card_json, options_for
    from guideline.context import HookContext
    from guideline.engine import evaluate
    from guideline.record import build_record
    from launch.session import begin_trusted_launch

    drafts = {"resourceType": "Bundle", "entry": [{"resource": morphine_er_draft()}]}
    record = build_record([patient()], TZ, draft_orders=drafts)
    naive = next(
        c
        for c in evaluate(record, HookContext("order-sign", PATIENT_ID), CONFIG, NOW).cards
        if c.check_id == "er-la-opioid-naive"
    )
    sent = card_json(naive, options_for(CONFIG, "https://cds.example.org", PATIENT_ID, drafts))
    context = json.loads(next(link for link in sent["links"] if link["type"] == "smart")["appContext"])

    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        fake = FakeFhir(rsps, [patient()])
        fake.fail = {"MedicationDispense"}  # the pharmacy fills search answers HTTP 500
        app = make_app(tmp_path, [], today=TODAY)

        @app.get("/_card_link")
        def _card_link():
            return begin_trusted_launch(iss=FHIR, patient_id=PATIENT_ID, access_token=TOKEN, app_context=context)

        client = app.test_client()
        launched = client.get("/_card_link", base_url=PUBLIC_URL)
        handle = parse_qs(urlsplit(launched.headers["Location"]).query)["s"][0]
        html = client.get("/plan", query_string={"s": handle}, base_url=PUBLIC_URL).get_data(as_text=True)

    assert "records incomplete" in html
    assert "Could not check:</strong> pharmacy fills could not be read" in html
    assert "opioid use in the past 90 days may be missing" in html


def test_every_page_search_holds_a_kind_of_data_or_backs_no_absence():
    """The page's twin of the hooks' guard (test_absent_unread): a search added without a kind would fail without a
    word, its cards saying "none found" of its data. The page and the hooks each hold every kind the checks read."""
    from cds_hooks.service import UNREAD_KINDS
    from guideline.unread_data import KINDS
    from smart_app.plan_view import SEARCH_KINDS, SEARCH_NAMES

    # Demographics, questionnaires, consents and goals back no statement of absence; Medication details and the
    # places of visits are named on their own (unidentified orders, hospice stays), as the hooks name them, and so
    # are the payer claims that count for nothing (claims_left_out, not a search).
    backs_no_absence = {"patient", "surveys", "consents", "goals", "medications", "places", "claims_left_out"}
    assert set(SEARCH_NAMES) - set(SEARCH_KINDS) == backs_no_absence
    assert set(SEARCH_KINDS) <= set(SEARCH_NAMES)
    assert set(SEARCH_KINDS.values()) == set(KINDS) == set(UNREAD_KINDS.values())


def test_each_page_search_stands_for_the_hook_key_the_page_searches_as():
    """The page's kinds come from the hooks' (`KEY_KINDS`) through the prefetch key each search stands for: that key
    is the one the page searches as (test_page_searches_as_hooks), so a search never takes another key's kind."""
    from test_page_searches_as_hooks import PAGE_KEY

    from smart_app.plan_view import HOOK_KEYS

    # The site's own urine drug test search runs as udsLabs; the results of reports are read with labReports.
    beside = {"uds_labs": "udsLabs", "report_results": "labReports"}
    assert {search: key for key, search in PAGE_KEY.items() if search in HOOK_KEYS} | beside == HOOK_KEYS


def test_the_dose_beside_the_order_being_signed_never_says_no_current_opioid_of_fills_not_read():
    """The total read "at least 30.0 MME/day" while the line beside it said "no current opioid now; 30.0 with the
    order being signed": an all clear on pharmacy fills nobody read."""
    statuses = tuple(status(key, ok=key != "dispenses") for key in READ)
    page = PageInput((patient(),), (), statuses)
    view = assemble(page, CONFIG, PATIENT_ID, NOW, {}, drafts=[morphine_er_draft()])
    meds = next(s for s in view.sections if s.key == "medications").content

    assert meds.total == "at least 30.0 MME/day"
    assert meds.comparison == (
        "0 MME/day counted now (some medication records could not be read); at least 30.0 with the order being "
        "signed (morphine sulfate 15 MG Extended Release Oral Tablet)"
    )
