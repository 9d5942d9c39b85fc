"""The plan page in real headless Chromium: what a clinician sees, the JS enhancements, print media, narrow frames."""

from __future__ import annotations

from typing import Any

import pytest
import responses
from browser_support import browser_page, live_server, save_screenshot
from test_plan import rich_patient
from test_plan_view import FakeFhir, _app

pytestmark = pytest.mark.browser


def test_clinician_sees_the_plan_and_can_use_it(tmp_path: Any) -> None:
    app = _app(tmp_path)
    with (
        responses.RequestsMock(assert_all_requests_are_fired=False) as rsps,
        live_server(app) as base_url,
        browser_page() as page,
    ):
        rsps.add_passthru(base_url)
        FakeFhir(rsps, rich_patient())
        from playwright.sync_api import expect

        page.goto(base_url + "/_ehr_opens_plan")
        assert page.url.startswith(base_url + "/plan?s=")
        assert page.locator("#total-mme").inner_text() == "60.0 MME/day"
        assert page.locator(".patient-name").inner_text() == "Alex Rivera"
        pdmp = page.locator('[data-task="pdmp"]')
        assert "Overdue" in pdmp.inner_text() and "Next due: 2026-06-05" in pdmp.inner_text()
        assert "Benzodiazepine" in page.locator("#risks").inner_text()
        assert page.locator("#mme-chart").is_visible()
        save_screenshot(page, "plan-desktop")

        # The OUD checklist scores itself as boxes are ticked (tolerance does not count under supervision).
        for key in ("craving", "cut-down", "time-spent", "tolerance"):
            page.check(f"#oud-{key}")
        assert page.locator("#oud-score").inner_text() == "3 of 11 criteria: mild opioid use disorder criteria met"
        page.check("#oud-role-failure")
        assert "moderate" in page.locator("#oud-score").inner_text()

        # The taper schedule recalculates in place when a choice changes.
        page.select_option("#taper-interval", "week")
        expect(page.locator("#taper-summary")).to_contain_text("every week")
        assert "2026-06-22" in page.locator("#taper-table").inner_text()

        page.emulate_media(media="print")
        assert not page.locator("nav.jump").is_visible()
        assert not page.locator(".taper-form").is_visible()
        # The printed summary keeps the steps and the current opioids; charts and the calculator print in full only.
        assert page.locator("#step-assess").is_visible() and page.locator("#total-mme").is_visible()
        assert not page.locator("#mme-chart").is_visible() and not page.locator("#taper-table").is_visible()
        page.evaluate("document.body.className = 'print-full'")  # what "Print full plan" does before printing
        assert page.locator("#mme-chart").is_visible() and page.locator("#taper-table").is_visible()
        printed = save_screenshot(page, "plan-print")
        page.screenshot(path=str(printed.with_name("plan-print-top.png")))
        page.emulate_media(media="screen")


def test_plan_fits_a_narrow_ehr_frame(tmp_path: Any) -> None:
    app = _app(tmp_path)
    with (
        responses.RequestsMock(assert_all_requests_are_fired=False) as rsps,
        live_server(app) as base_url,
        browser_page(viewport=(420, 900)) as page,
    ):
        rsps.add_passthru(base_url)
        FakeFhir(rsps, rich_patient())
        page.goto(base_url + "/_ehr_opens_plan")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 420  # nothing forces sideways scrolling of the whole page
        assert page.locator("#total-mme").is_visible()
        save_screenshot(page, "plan-narrow")
        # The first screen is what a clinician sees in a side panel without scrolling.
        page.screenshot(path=str(save_screenshot(page, "plan-narrow").with_name("plan-narrow-top.png")))
