"""The card → page "what-if": the orders a card's SMART link names are highlighted, or said to be drafts only."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from types import MappingProxyType
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import responses
from launch_support import PUBLIC_URL, make_app
from test_plan import plan_for, rich_patient
from test_plan_view import FHIR, TOKEN, FakeFhir

from guideline.plan import named_orders, order_focus


def test_named_orders_reads_only_string_ids_and_cuts_references_to_their_id() -> None:
    context = MappingProxyType({"view": "mme", "orders": ["oxy-now", "MedicationRequest/draft-1", 7, "", "oxy-now"]})
    assert named_orders(context) == ("oxy-now", "draft-1")
    assert named_orders({"orders": "oxy-now"}) == ()
    assert named_orders({"view": "plan"}) == ()
    assert named_orders(None) == ()
    assert named_orders({"orders": ["x" * 300, *(f"o{i}" for i in range(30))]}) == tuple(f"o{i}" for i in range(19))


def test_an_order_in_the_record_is_found_and_a_draft_only_order_is_missing() -> None:
    medications = plan_for(rich_patient()).section("medications").content
    focus = order_focus(medications, ("oxy-now", "draft-9"))
    assert focus.found == frozenset({"oxy-now"})
    assert focus.missing == ("draft-9",)
    assert not order_focus(medications, ())
    # A historic, completed order is not a current opioid row, so it is not highlighted either.
    assert order_focus(medications, ("oxy-old-0",)).missing == ("oxy-old-0",)


def test_a_failed_medications_section_reports_every_named_order_as_missing() -> None:
    focus = order_focus(None, ("oxy-now",))
    assert focus.found == frozenset() and focus.missing == ("oxy-now",)


@pytest.fixture
def fhir() -> Iterator[FakeFhir]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield FakeFhir(rsps, rich_patient())


def _open_from_card(tmp_path: Any, app_context: dict[str, Any]) -> str:
    from launch.session import begin_trusted_launch

    app = make_app(tmp_path, [], today=date(2026, 6, 15))

    @app.get("/_card_link")
    def _card_link() -> Any:
        return begin_trusted_launch(iss=FHIR, patient_id="p1", access_token=TOKEN, app_context=app_context)

    client = app.test_client()
    launched = client.get("/_card_link", base_url=PUBLIC_URL)
    handle = parse_qs(urlsplit(launched.headers["Location"]).query)["s"][0]
    response = client.get("/plan", query_string={"s": handle}, base_url=PUBLIC_URL)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_page_opened_from_a_card_highlights_its_order_and_names_the_draft(tmp_path: Any, fhir: FakeFhir) -> None:
    html = _open_from_card(tmp_path, {"check": "high-mme", "orders": ["oxy-now", "draft-77"]})
    assert html.count('class="mme-ok named-order"') == 1
    assert "in the alert</span>" in html
    assert 'id="named-missing"' in html and "not in the EHR record yet" in html and "draft-77" in html
    assert 'id="medications" class="section focused"' in html  # no view named: the orders choose the section


def test_page_without_named_orders_highlights_nothing(tmp_path: Any, fhir: FakeFhir) -> None:
    html = _open_from_card(tmp_path, {"view": "uds", "check": "urine-drug-test"})
    assert "named-order" not in html and "named-missing" not in html
    assert 'id="uds" class="section focused"' in html


def test_a_sedative_order_the_card_names_is_in_the_record_not_a_draft() -> None:
    # The opioid + benzodiazepine card's link names the benzodiazepine order too. The page said of the patient's
    # active alprazolam "not in the EHR record yet (a draft being signed …)" (demo: Denise, Gloria's zolpidem).
    medications = plan_for(rich_patient()).section("medications").content
    focus = order_focus(medications, ("oxy-now", "loraz", "draft-9"))
    assert focus.found == frozenset({"oxy-now", "loraz"})
    assert focus.missing == ("draft-9",)
