"""The site's write_back setting decides whether the page writes, whatever scopes the EHR grants."""

from __future__ import annotations

import html
from collections.abc import Iterator

import pytest
import responses
from launch_support import PUBLIC_URL
from test_write_back import PEG, WRITE_SCOPE


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def test_with_write_back_turned_off_no_form_is_offered_even_when_the_ehr_grants_writes(tmp_path, rsps) -> None:
    """Epic grants the scopes an app is registered for, whatever it asked: the site's setting must still decide."""
    from launch_support import ISS, FakeEhr, make_app, query
    from write_support import ChartServer

    from smart_app.write import csrf

    ehr = FakeEhr(rsps, grant_scope=WRITE_SCOPE)
    chart = ChartServer(rsps, ehr, "walter-brooks")
    client = make_app(tmp_path, [ehr.client_entry()], today="2026-06-15", write_back=False).test_client()
    started = client.get("/launch", query_string={"iss": ISS, "launch": "l1"}, base_url=PUBLIC_URL)
    assert "patient/Goal.cu" not in query(started.headers["Location"])["scope"].split()
    finished = client.get(
        "/launch/callback", query_string=ehr.authorize(started.headers["Location"]), base_url=PUBLIC_URL
    )
    handle = query(finished.headers["Location"])["s"]
    page = html.unescape(client.get(f"/plan?s={handle}", base_url=PUBLIC_URL).get_data(as_text=True))
    area = page.split('id="write"')[1].split("</section>")[0]
    assert "<form" not in area and "Saving to the chart is turned off in PainPlan's settings" in area
    token = csrf.new_token(client.application.secret_key, handle)
    answer = client.post(f"/plan/write/peg?s={handle}", data={**PEG, "csrf_token": token}, base_url=PUBLIC_URL)
    assert answer.status_code == 403 and chart.received == []
    assert "Not saved: the PEG score — saving to the chart is turned off in PainPlan's settings." in html.unescape(
        answer.get_data(as_text=True)
    )
