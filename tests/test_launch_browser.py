"""Real Chromium: two EHR launches in cross-site iframes of one EHR page, each showing only its own patient."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import pytest
import responses
from browser_support import browser_page, live_server
from flask import redirect, request
from launch_support import ISS, FakeEhr, ec_client_key, make_app, query

PATIENTS = {"launch-A": ("pat-A", "Alice Anders"), "launch-B": ("pat-B", "Bruno Brandt")}


@pytest.mark.browser
def test_two_framed_launches_in_one_browser_stay_separate(tmp_path):
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        ehr = FakeEhr(rsps, client_key=ec_client_key(), patient_names={p: n for p, n in PATIENTS.values()})
        ehr.serve_fhir()
        # The EHR page is served as http://localhost:<port> and frames http://127.0.0.1:<port>: another site.
        app = make_app(
            tmp_path, [ehr.client_entry()], frame_ancestors=("'self'", "http://localhost:*"), allow_http=True
        )

        @app.get("/_ehr_page")
        def _ehr_page() -> str:
            base = "http://127.0.0.1:" + str(app.config["LIVE_PORT"])
            frames = "".join(
                f'<iframe id="{launch}" style="width:45%;height:800px" '
                f'src="{base}/launch?{urlencode({"iss": ISS, "launch": launch})}"></iframe>'
                for launch in PATIENTS
            )
            return f"<!doctype html><title>EHR</title>{frames}"

        @app.get("/_fake_ehr/authorize")
        def _authorize() -> Any:
            # Stands in for the EHR's login page (on the EHR's own site): approve, go to the redirect URI.
            params = query(request.url)
            # Two frames authorize at once on a threaded server: bind each grant to its own launch's patient.
            answer = ehr.authorize(request.url, patient=PATIENTS[params["launch"]][0])
            base = "http://127.0.0.1:" + str(app.config["LIVE_PORT"])
            return redirect(f"{base}/launch/callback?{urlencode(answer)}")

        with live_server(app) as base_url, browser_page(viewport=(1600, 900)) as page:
            app.config["LIVE_PORT"] = base_url.rsplit(":", 1)[1]
            ehr_origin = base_url.replace("127.0.0.1", "localhost")
            ehr.authorize_url = f"{ehr_origin}/_fake_ehr/authorize"
            page.goto(f"{ehr_origin}/_ehr_page")
            for _ in range(150):  # the frames are cross-origin to the EHR page: poll their URLs from outside
                if len([frame for frame in page.frames if "/plan?" in frame.url]) == 2:
                    break
                page.wait_for_timeout(100)
            for frame in page.frames:
                frame.wait_for_load_state()
            frames = {frame.url: frame for frame in page.frames if "/plan?" in frame.url}
            assert len(frames) == 2, [frame.url for frame in page.frames]
            texts = sorted(frame.content() for frame in frames.values())
            launch_cookies = [c for c in page.context.cookies() if c["name"].startswith("pp_launch_")]
        assert ehr.cross_patient_reads == []
        assert len(ehr.token_requests) == 2
        patients_read = {query(url).get("patient") for url in ehr.fhir_reads} - {None}
        assert patients_read == {"pat-A", "pat-B"}
        alice = [text for text in texts if "Alice" in text]
        bruno = [text for text in texts if "Bruno" in text]
        assert len(alice) == 1 and len(bruno) == 1 and alice != bruno
        assert len(launch_cookies) == 2
        for cookie in launch_cookies:
            assert cookie["httpOnly"] and cookie["secure"] and cookie["sameSite"] == "None"
            assert cookie["value"] not in ehr.access_tokens
        for text in texts:
            for token in ehr.access_tokens:
                assert token not in text
