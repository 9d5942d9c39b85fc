"""Real Chromium: a clinician opens Walter's plan from an EHR that grants write scopes, records a PEG score and a
function goal, decides to taper with a dose-by-dose schedule, prints the Spanish handout, and sees it all on reload."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import pytest
import responses
from browser_support import browser_page, live_server, save_screenshot
from fhir.resources.R4B import get_fhir_model_class
from flask import redirect, request
from launch_support import ISS, FakeEhr, ec_client_key, make_app
from write_support import ChartServer

from launch.scopes import write_scopes

pytestmark = pytest.mark.browser


def test_walter_plan_written_back_and_read_back(tmp_path: Any) -> None:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        grant = "launch openid fhirUser online_access patient/*.rs " + " ".join(write_scopes(True))
        ehr = FakeEhr(rsps, client_key=ec_client_key(), grant_scope=grant, patient_names={})
        chart = ChartServer(rsps, ehr, "walter-brooks")
        app = make_app(tmp_path, [ehr.client_entry()], allow_http=True, today="2026-06-15")

        @app.get("/_fake_ehr/authorize")
        def _authorize() -> Any:  # the EHR's login page: approve and go back to the app
            return redirect("/launch/callback?" + urlencode(ehr.authorize(request.url)))

        with live_server(app) as base_url, browser_page(viewport=(1280, 900)) as page:
            rsps.add_passthru(base_url)
            ehr.authorize_url = f"{base_url}/_fake_ehr/authorize"
            page.goto(f"{base_url}/launch?" + urlencode({"iss": ISS, "launch": "l1"}))
            assert "/plan?s=" in page.url
            assert "Walter" in page.locator(".patient-name").inner_text()

            # Each form sits in its HUSKY step.
            assert page.locator("#step-assess #write-peg").count() == 1
            assert page.locator("#step-initiate #write-goal").count() == 1
            assert page.locator("#step-decide #write-decision").count() == 1
            assert page.locator("#step-consent #write-consent").count() == 1

            # Assess: a PEG score.
            page.fill("#peg-pain", "6")
            page.fill("#peg-enjoyment", "7")
            page.fill("#peg-activity", "5")
            page.click("#write-peg button[type=submit]")
            assert "Saved the PEG score as Observation/" in page.locator("#write-peg-result").inner_text()

            # Initiate: a function goal.
            page.select_option("#goal-kind", "function")
            page.fill("#goal-description", "Walk to the mailbox and back every day")
            page.fill("#goal-measure", "Daily walk without stopping")
            page.fill("#goal-due", "2026-09-15")
            page.click("#write-goal button[type=submit]")
            assert "Saved the goal as Goal/" in page.locator("#write-goal-result").inner_text()

            # The taper in doses: 90 MME (morphine ER 30 mg × 2, oxycodone 5 mg × 4), first step 82.5.
            table = page.locator("#taper-dose-table")
            assert "2 × 30 mg tablets (60 mg/day)" in table.locator('tr[data-step="0"]').inner_text()
            assert "3 × 5 mg tablets (15 mg/day)" in table.locator('tr[data-step="1"]').inner_text()
            assert "82.5" in table.locator('tr[data-step="1"]').inner_text()
            save_screenshot(page, "write-back-taper")

            # Decide: taper, with the follow-up, naloxone and the schedule as plan steps.
            page.check("#decision-taper")
            page.fill("#decision-reasons", "Risks now outweigh benefits at 90 MME/day; agreed with Walter.")
            page.fill("#decision-follow-up", "2026-07-13")
            page.check("#decision-naloxone")
            page.check("#decision-include-taper")
            page.click("#write-decision button[type=submit]")
            assert "Saved the decision and plan as CarePlan/" in page.locator("#write-decision-result").inner_text()

            # The Spanish handout with the schedule.
            page.click("#schedule-handout-es")
            assert page.locator("h1").inner_text() == "Su plan de tratamiento para el dolor"
            schedule = page.locator("#handout-schedule").inner_text()
            assert "Su plan para bajar la dosis" in schedule and "tabletas al día" in schedule
            assert "llame al 911" in page.locator("#handout-call").inner_text().lower()
            assert "1-877-552-8247" in page.locator("#handout-call").inner_text()  # the configured CT line
            assert "Acceso a tratamiento de salud mental" in page.locator("#handout-call").inner_text()
            # The follow-up the decision just scheduled, in words.
            assert "Su próxima cita: lunes 13 de julio de 2026." in page.locator("#handout-next-visit").inner_text()
            save_screenshot(page, "handout-es")
            page.go_back()

            # Reload: everything written comes back from the EHR.
            page.reload()
            on_record = page.locator("#write-on-record").inner_text()
            assert "Function goal: Walk to the mailbox and back every day" in on_record
            assert "Pain treatment plan: taper" in on_record
            assert "Latest PEG: 6" in page.locator("#scores").inner_text()
            # The steps read the same records: the goal in Initiate, the decision and its plan in Decide.
            assert "Walk to the mailbox and back every day" in page.locator("#step-initiate").inner_text()
            decide = page.locator("#step-decide").inner_text()
            assert "Decision: Taper" in decide and "Taper step 1" in decide

        kinds = [body["resourceType"] for _, _, body in chart.received]
        assert kinds == ["Observation", "Goal", "CarePlan"]
        for _, _, body in chart.received:
            get_fhir_model_class(body["resourceType"]).model_validate(body)  # every write is valid R4
        plan = chart.written("CarePlan")[0]
        steps = [a for a in plan["activity"] if a["detail"]["code"]["text"].startswith("Taper step")]
        assert len(steps) == 10 and steps[0]["detail"]["scheduledPeriod"]["start"] == "2026-07-15"
        assert any(a["detail"]["code"]["text"] == "Naloxone rescue kit" for a in plan["activity"])
        assert ehr.cross_patient_reads == []
