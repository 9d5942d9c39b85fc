"""Every page a clinician or analyst opens passes axe-core's WCAG 2.1 A and AA rules in real Chromium: the demo with its
cards, the plan page of several patients, the printable handout, the population dashboard and a letter, and the
launch's error page. EHR users include people on screen readers, keyboard only and high zoom, and health systems
ask for WCAG 2.1 AA before they install an app; a regression here fails the suite, naming the rule and the element."""

from __future__ import annotations

from typing import Any

import pytest
from browser_support import browser_page, live_server
from test_browser_demo import demo_server, open_patient  # noqa: F401 - demo_server is a fixture used by name
from test_population_dashboard import root  # noqa: F401 - a fixture used by name

from smart_app import create_app

pytestmark = pytest.mark.browser

WCAG_21_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}


def violations(page: Any) -> list[str]:
    """axe-core's WCAG 2.1 A/AA violations on the page as it stands, one line per rule with its first elements."""
    from axe_playwright_python.sync_playwright import Axe

    found = Axe().run(page, options=WCAG_21_AA).response["violations"]
    return [
        f"{rule['id']} ({rule['impact']}): {rule['help']} at {[node['target'] for node in rule['nodes'][:3]]}"
        for rule in found
    ]


def test_the_axe_check_finds_a_violation_when_there_is_one(demo_server) -> None:  # noqa: F811
    """The check itself can fail: an unlabelled field and an image with no text are reported."""
    base_url, _ = demo_server
    with browser_page() as page:
        page.goto(base_url + "/demo")
        page.evaluate("document.body.insertAdjacentHTML('beforeend', '<input type=text id=unlabelled><img src=x.png>')")
        found = " ".join(violations(page))
        assert "label" in found and "image-alt" in found


def test_the_demo_and_its_cards(demo_server) -> None:  # noqa: F811
    base_url, _ = demo_server
    with browser_page() as page:
        page.goto(base_url + "/demo")
        page.wait_for_selector("body[data-ready=true]")
        assert violations(page) == []
        open_patient(page, base_url, "walter-brooks")
        page.click("#sign")
        page.wait_for_selector("#sign-status[data-state=done]")
        assert page.locator("#sign-cards .card").count() >= 1
        assert violations(page) == []


@pytest.mark.parametrize("patient", ["walter-brooks", "marcus-webb", "linda-morales"])
def test_the_plan_page_and_the_handout(demo_server, patient: str) -> None:  # noqa: F811
    base_url, _ = demo_server
    with browser_page() as page:
        open_patient(page, base_url, patient)
        with page.expect_popup() as popup:
            page.click("text=Open PainPlan")
        plan = popup.value
        plan.wait_for_load_state("networkidle")
        assert "/plan" in plan.url
        assert violations(plan) == []
        handout = plan.locator("a[href*='/plan/handout']").first.get_attribute("href")
        assert handout
        plan.goto(base_url + handout)
        plan.wait_for_load_state()
        assert violations(plan) == []


def test_the_population_dashboard_and_a_letter(tmp_path, root) -> None:  # noqa: F811
    app = create_app(
        {"instance_path": str(tmp_path / "instance"), "auth": "off", "population_root": str(root), "demo": True}
    )
    with live_server(app) as base_url, browser_page() as page:
        page.goto(base_url + "/population/")
        assert violations(page) == []
        page.click("#letters a >> text=Dr. Ana Alvarez")  # letters are listed by whom they are addressed to
        page.wait_for_load_state()
        assert violations(page) == []


def test_the_launch_error_page(tmp_path) -> None:
    app = create_app({"instance_path": str(tmp_path / "instance"), "auth": "off"})
    with live_server(app) as base_url, browser_page() as page:
        response = page.goto(base_url + "/launch?iss=not-a-url&launch=abc")
        assert response is not None and response.status >= 400
        assert violations(page) == []
