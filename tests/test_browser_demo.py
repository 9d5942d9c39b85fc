"""The demo EHR in real headless Chromium: pick a patient, sign, see the card, apply a suggestion, dismiss one,
open the plan. The service reads the demo FHIR facade over HTTP (no prefetch), exactly as in `painplan demo`."""

from __future__ import annotations

import json
from datetime import date

import pytest
from browser_support import browser_page, live_server, save_screenshot
from sqlalchemy import text

from smart_app import create_app

pytestmark = pytest.mark.browser

TODAY = date(2026, 3, 15)


def demo_app(base_url: str, instance):
    return create_app(
        {
            "demo": True,
            "auth": "off",
            "allow_http": True,
            "today": TODAY,
            "public_url": base_url,
            "instance_path": instance,
        }
    )


class _Deferred:
    """A WSGI app chosen after the port is known: public_url (used as fhirServer) must name the live port."""

    def __init__(self) -> None:
        self.app = None

    def __call__(self, environ, start_response):
        return self.app(environ, start_response)


@pytest.fixture
def demo_server(tmp_path):
    deferred = _Deferred()
    with live_server(deferred) as base_url:
        deferred.app = demo_app(base_url, tmp_path)
        yield base_url, deferred.app


def open_patient(page, base_url: str, patient_id: str) -> None:
    page.goto(base_url + "/demo")
    page.wait_for_selector("body[data-ready=true]")
    page.click(f"button[data-patient={patient_id}]")
    page.wait_for_selector("#pv-status[data-state=done]")


def test_sign_see_card_apply_suggestion_and_open_the_plan(demo_server):
    base_url, _ = demo_server
    with browser_page() as page:
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        open_patient(page, base_url, "walter-brooks")
        assert "Walter James Brooks" in page.inner_text("#banner-name")
        assert page.input_value("#drug") == "hydrocodone-apap-10", "the story's order is prefilled"

        page.click("#sign")
        page.wait_for_selector("#sign-status[data-state=done]")
        card = page.locator("#sign-cards .card[data-check=high-mme]")
        assert card.count() == 1
        assert card.get_attribute("data-indicator") == "critical"
        assert "130" in card.locator(".card__summary").inner_text()
        assert card.locator(".card__detail li").count() >= 3, "markdown lists are rendered as lists"
        save_screenshot(page, "demo-order-sign-walter-brooks")

        # The delete suggestion removes the hydrocodone draft from the draft list.
        assert "hydrocodone" in page.inner_text("#drafts")
        card.locator(".suggestion").first.click()
        assert "No draft orders" in page.inner_text("#drafts")

        # The card's SMART link opens the plan view through the demo launch (no authorization server).
        with page.expect_popup() as popup:
            card.locator(".smart-link").first.click()
        plan = popup.value
        plan.wait_for_load_state()
        assert "/plan" in plan.url
        assert "Walter" in plan.content()
        save_screenshot(plan, "demo-plan-walter-brooks")
        assert not errors


def test_override_with_a_reason_is_sent_as_feedback(demo_server):
    base_url, app = demo_server
    with browser_page() as page:
        open_patient(page, base_url, "walter-brooks")
        page.click("#sign")
        page.wait_for_selector("#sign-status[data-state=done]")
        card = page.locator("#sign-cards .card[data-check=high-mme]")
        card.locator(".card__reason").select_option(label="Dose reduction or taper already planned or under way")
        card.locator(".card__comment").fill("Taper starts next week")
        card.locator(".card__override button").click()
        page.wait_for_selector("[data-testid=dismissed]")
        assert "(feedback sent)" in page.inner_text("[data-testid=dismissed]")

    engine = app.extensions["painplan.db"]
    with engine.connect() as connection:
        tables = [row[0] for row in connection.execute(text("SELECT name FROM sqlite_master WHERE type='table'"))]
        stored = {
            table: [dict(row._mapping) for row in connection.execute(text(f'SELECT * FROM "{table}"'))]
            for table in tables
        }
    dumped = json.dumps(stored, default=str)
    assert "taper-in-progress" in dumped, "the override reason reached the feedback store"


def test_patient_view_cards_and_a_narrow_frame(demo_server):
    base_url, _ = demo_server
    with browser_page(viewport=(380, 800)) as page:
        open_patient(page, base_url, "robert-chen")
        assert page.locator("#pv-cards .card").count() == 0
        assert "0 cards" in page.inner_text("#pv-status")
        page.click("#sign")
        page.wait_for_selector("#sign-status[data-state=done]")
        assert page.locator("#sign-cards .card").count() == 0, "the well-managed patient raises nothing"
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 380, "nothing overflows a narrow EHR side panel"
        save_screenshot(page, "demo-narrow-robert-chen")


def test_typed_rxnorm_code_is_sent_and_converted(demo_server):
    base_url, _ = demo_server
    with browser_page() as page:
        open_patient(page, base_url, "priya-natarajan")
        page.click("#clear")
        page.select_option("#drug", "custom")
        page.fill("#custom-code", "245134")
        page.fill("#custom-name", "fentanyl 25 mcg/hour patch")
        page.select_option("#sig", "q72h")
        page.fill("#days", "30")
        page.click("#order-form button[type=submit]")
        assert "fentanyl 25 mcg/hour patch" in page.inner_text("#drafts")
        assert "#10" in page.inner_text("#drafts"), "ten 72-hour patches cover 30 days"
        page.click("#sign")
        page.wait_for_selector("#sign-status[data-state=done]")
        # Fentanyl 25 mcg/h is 60 MME/day under the CDC 2022 factors: a warning, not critical.
        card = page.locator("#sign-cards .card[data-check=high-mme]")
        assert card.get_attribute("data-indicator") == "warning"
        assert "60" in card.locator(".card__summary").inner_text()


CANNED_CARD = {
    "uuid": "3f1c2a9e-0000-4000-8000-000000000001",
    "summary": "Offer naloxone",
    "indicator": "warning",
    "detail": "Risk factors:\n\n- **sleep apnea**\n- <b>not html</b>",
    "source": {"label": "PainPlan", "topic": {"code": "naloxone", "system": "http://painplan.example/fhir"}},
    "selectionBehavior": "any",
    "suggestions": [
        {
            "uuid": "3f1c2a9e-0000-4000-8000-000000000002",
            "label": "Prescribe naloxone 4 mg nasal spray",
            "isRecommended": True,
            "actions": [
                {
                    "type": "create",
                    "description": "Add a naloxone order",
                    "resource": {
                        "resourceType": "MedicationRequest",
                        "status": "draft",
                        "intent": "proposal",
                        "medicationCodeableConcept": {"text": "naloxone 4 mg/0.1 mL nasal spray"},
                    },
                }
            ],
        }
    ],
    "links": [{"label": "CDC Recommendation 8", "url": "https://www.cdc.gov/", "type": "absolute"}],
}


def test_create_suggestion_adds_a_draft_and_reports_acceptance(demo_server):
    """The simulator against the CDS Hooks card contract itself, with a canned response."""
    base_url, _ = demo_server
    feedback: list[dict] = []
    with browser_page() as page:
        page.route(
            "**/cds-services/order-sign",
            lambda route: route.fulfill(
                status=200, content_type="application/json", body=json.dumps({"cards": [CANNED_CARD]})
            ),
        )
        page.route(
            "**/cds-services/order-sign/feedback",
            lambda route: (feedback.append(json.loads(route.request.post_data)), route.fulfill(status=200, body="{}")),
        )
        open_patient(page, base_url, "harold-jensen")
        page.click("#sign")
        page.wait_for_selector("#sign-status[data-state=done]")
        card = page.locator("#sign-cards .card[data-check=naloxone]")
        assert card.locator(".card__detail strong").inner_text() == "sleep apnea"
        assert card.locator(".card__detail b").count() == 0, "raw HTML in detail is shown as text"
        assert card.locator("a[href='https://www.cdc.gov/']").get_attribute("target") == "_blank"
        card.locator(".suggestion").click()
        drafts = page.inner_text("#drafts")
        assert "naloxone 4 mg/0.1 mL nasal spray" in drafts and "tramadol" in drafts
        page.wait_for_timeout(200)
    assert feedback and feedback[0]["feedback"][0]["outcome"] == "accepted"
    assert feedback[0]["feedback"][0]["acceptedSuggestions"] == [{"id": "3f1c2a9e-0000-4000-8000-000000000002"}]
