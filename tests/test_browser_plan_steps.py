"""The six HUSKY steps in real Chromium on the demo: Walter on opioids, Eleanor in hospice (not applicable, no red
tiles), card Markdown shown as formatted text, and the printed summary of the richest chart within three pages."""

from __future__ import annotations

import re

import pytest
from browser_support import ARTIFACTS, browser_page, save_screenshot
from test_browser_demo import demo_server  # noqa: F401 - the live demo app fixture

pytestmark = pytest.mark.browser

STEP_IDS = ("step-assess", "step-consent", "step-agreement", "step-initiate", "step-reassess", "step-decide")
STATUS_WORDS = ("Up to date", "Due soon", "Due now", "Overdue", "Not applicable", "Could not be checked")


def open_plan(page, base_url: str, patient_id: str, query: str = "") -> None:
    page.goto(f"{base_url}/demo/launch?patient={patient_id}")
    page.wait_for_selector("#step-assess")
    if query:
        page.goto(page.url + "&" + query)
        page.wait_for_selector("#step-assess")


def pdf_pages(pdf: bytes) -> int:
    """Chromium writes one page object per printed page (`/Type /Page`, never `/Pages`)."""
    return len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", pdf))


def test_walter_sees_the_six_steps_with_status_evidence_and_what_is_due(demo_server) -> None:  # noqa: F811
    base_url, _ = demo_server
    with browser_page() as page:
        open_plan(page, base_url, "walter-brooks")
        for anchor in STEP_IDS:
            step = page.locator(f"section#{anchor}")
            assert step.count() == 1 and step.is_visible()
            assert step.locator(".step-status").inner_text() in STATUS_WORDS
            assert step.locator(".step-evidence li").count() >= 1
        assert page.locator("#step-assess").get_attribute("data-status") == "due"
        assert "A PEG score: none in the last 2 years." in page.locator("#step-assess .step-due").inner_text()
        assert "PDMP) review · 2026-03-05" in page.locator("#step-assess .step-evidence").inner_text()
        assert page.locator("#step-consent .step-status").inner_text() == "Due now"
        assert "Offer naloxone as part of the plan." in page.locator("#step-decide .step-due").inner_text()
        assert page.locator("#step-reassess .step-status").inner_text() == "Up to date"
        # Each step has its place for the forms that complete it, and keeps its detail sections.
        assert page.locator("#step-assess .step-actions").count() == 1
        assert page.locator("#step-assess #medications #total-mme").is_visible()
        assert (
            page.locator("#step-decide #taper").count() == 1 and page.locator("#step-initiate #nonopioid").count() == 1
        )
        strip = page.locator("#steps .step-strip li")
        assert strip.count() == 6 and "Due now" in strip.nth(0).inner_text()

        # Card details are formatted text: no Markdown markers on screen.
        page.locator("#alerts details").first.locator("summary").click()
        detail = page.locator("#alerts .card-detail").first
        assert detail.locator("strong").count() >= 1
        shown = detail.inner_text()
        assert "**" not in shown and "|---" not in shown and "| " not in shown
        save_screenshot(page, "plan-steps-walter")


def test_hospice_patient_sees_why_nothing_applies_and_no_red_tiles(demo_server) -> None:  # noqa: F811
    base_url, _ = demo_server
    reason = "Not applicable: receiving hospice or palliative care — the guideline's checks do not apply."
    with browser_page() as page:
        open_plan(page, base_url, "eleanor-fitzgerald")
        assert page.locator("#not-applicable").inner_text() == reason
        for anchor in STEP_IDS:
            step = page.locator(f"section#{anchor}")
            assert step.get_attribute("data-status") == "not-applicable"
            assert step.locator(".step-status").inner_text() == "Not applicable"
            assert step.locator(".not-applicable").inner_text() == reason
            assert step.locator(".step-due").count() == 0
        assert page.locator(".task.state-never, .task.state-overdue").count() == 0
        assert "None on record" not in page.locator("main").inner_text()
        assert page.locator("#medications .flag").count() == 0  # her dose is shown, without the guideline's red flag
        save_screenshot(page, "plan-steps-hospice")


def test_printed_summary_fits_three_pages_and_the_full_plan_is_on_request(demo_server) -> None:  # noqa: F811
    base_url, _ = demo_server
    ARTIFACTS.mkdir(exist_ok=True)
    with browser_page() as page:
        open_plan(page, base_url, "gloria-simmons")
        summary = page.pdf(format="Letter", print_background=True)
        (ARTIFACTS / "plan-summary-gloria.pdf").write_bytes(summary)
        assert 1 <= pdf_pages(summary) <= 3
        link = page.locator("a[data-print=full]")
        assert link.is_visible() and "print=full" in link.get_attribute("href")
        open_plan(page, base_url, "gloria-simmons", "print=full")
        assert page.locator("body.print-full").count() == 1
        full = page.pdf(format="Letter", print_background=True)
        (ARTIFACTS / "plan-full-gloria.pdf").write_bytes(full)
        assert pdf_pages(full) > pdf_pages(summary)
        page.emulate_media(media="print")
        assert page.locator("#mme-chart").is_visible()  # the full plan prints the charts the summary leaves out
        assert not page.locator(".step-actions").first.is_visible()
        page.emulate_media(media="screen")
