"""The population dashboard: off unless configured, token-protected, shows the runs, deciles and letters."""

from __future__ import annotations

import base64
from datetime import date

import pytest
from browser_support import browser_page, live_server, save_screenshot
from synthetic_export import write_export
from test_population_measures import PERIOD, TODAY, build_export

from guideline.config import GuidelineConfig
from guideline.population import Period
from smart_app import create_app
from smart_app.population.command import review
from smart_app.population.inputs import ndjson_files

TOKEN = "population-token-0123456789"


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    folder = tmp_path_factory.mktemp("runs")
    write_export(folder / "input", build_export())
    files = ndjson_files(folder / "input")
    config = GuidelineConfig.from_mapping()
    review(files, folder / "runs" / "2025q4", Period(date(2025, 10, 1), date(2025, 12, 31)), TODAY, config, workers=1)
    review(files, folder / "runs" / "2026q1", PERIOD, TODAY, config, workers=1)
    return folder / "runs"


def _app(tmp_path, **settings):
    return create_app({"instance_path": str(tmp_path / "instance"), "auth": "off", **settings})


def _basic(secret: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"analyst:{secret}".encode()).decode()}


def test_off_unless_configured(tmp_path):
    assert _app(tmp_path).test_client().get("/population/").status_code == 404


def test_needs_the_token(tmp_path, root):
    without_token = _app(tmp_path, population_root=str(root)).test_client().get("/population/")
    assert without_token.status_code == 403 and b"PAINPLAN_POPULATION_TOKEN" in without_token.data
    client = _app(tmp_path, population_root=str(root), population_token=TOKEN).test_client()
    assert client.get("/population/").status_code == 401
    assert client.get("/population/", headers=_basic("wrong-token-0123456789")).status_code == 401
    assert client.get("/population/", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200


def test_shows_rates_over_quarters_deciles_and_letters(tmp_path, root):
    client = _app(tmp_path, population_root=str(root), population_token=TOKEN).test_client()
    page = client.get("/population/?measure=OMP", headers=_basic(TOKEN))
    html = page.get_data(as_text=True)
    assert "Latest run: <strong>2026 Q1</strong>" in html and "2 periods run so far" in html
    assert 'id="rates-lower"' in html and 'id="deciles-pcp"' in html and 'id="deciles-practice"' in html
    assert "PCPs by decile of OMP rate" in html
    assert "<script" not in html and "http" not in html.split("<body>")[1].split("Letters")[0]  # no CDN, no scripts
    assert 'href="/population/runs/2026q1/letters/drA.html"' in html
    letter = client.get("/population/runs/2026q1/letters/drA.html", headers=_basic(TOKEN))
    assert letter.status_code == 200 and b"strictly informational" in letter.data
    pdf = client.get("/population/runs/2026q1/letters/drA.pdf", headers=_basic(TOKEN))
    assert pdf.data.startswith(b"%PDF")
    assert client.get("/population/runs/2026q1/letters/../patients.csv", headers=_basic(TOKEN)).status_code == 404
    assert client.get("/population/runs/2026q1/data-quality.json", headers=_basic(TOKEN)).status_code == 404


@pytest.mark.browser
def test_dashboard_and_letter_open_in_a_browser(tmp_path, root):
    app = _app(tmp_path, population_root=str(root), demo=True)  # the demo opens it without a token
    with live_server(app) as base_url, browser_page() as page:
        page.goto(base_url + "/population/")
        assert page.locator("#rates tr").count() == 10
        assert page.locator("svg#deciles-pcp rect.bar").count() >= 1
        save_screenshot(page, "population-dashboard")
        page.click("#letters a >> text=Dr. Ana Alvarez")  # listed by name, no longer by id
        page.wait_for_load_state()
        assert "Dr. Ana Alvarez" in page.inner_text("body")
        page.emulate_media(media="print")
        assert page.locator(".actions").is_hidden()
        save_screenshot(page, "population-letter-print")


def test_a_run_folder_that_cannot_be_read_is_named_not_left_out(tmp_path, root):
    # Found by corrupting copies of a run: a folder whose files could not be read vanished from the dashboard (the
    # quarter looked as if it had never been run), and some (a list in data-quality.json, a run with no period, a
    # table of another shape) ended in a 500.
    import json
    import shutil

    import pyarrow as pa
    import pyarrow.parquet as pq

    runs = tmp_path / "runs"
    shutil.copytree(root, runs)
    breakages = {
        "as-list": lambda f: (f / "data-quality.json").write_text("[1, 2]"),
        "no-period": lambda f: (f / "data-quality.json").write_text(json.dumps({"run": "2025 Q3"})),
        "torn-json": lambda f: (f / "data-quality.json").write_text('{"run": '),
        "torn-parquet": lambda f: (f / "measures.parquet").write_bytes(b"PAR1 not a table PAR1"),
        "other-table": lambda f: pq.write_table(pa.table({"x": [1]}), f / "measures.parquet"),
        "no-measures": lambda f: (f / "measures.parquet").unlink(),
    }
    for name, damage in breakages.items():
        shutil.copytree(root / "2025q4", runs / name)
        damage(runs / name)
    (runs / "notes").mkdir()  # a folder with neither file is not a run, and not named
    client = _app(tmp_path, population_root=str(runs), population_token=TOKEN).test_client()
    page = client.get("/population/", headers=_basic(TOKEN))
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Latest run: <strong>2026 Q1</strong>" in html
    assert "6 run folders could not be read" in html and "<code>notes</code>" not in html
    for name in breakages:
        assert f"<code>{name}</code>: " in html
    assert "measures.parquet has no level, unit, measure, denominator, numerator, rate column" in html
    assert "data-quality.json names no period" in html and "data-quality.json is not an object" in html
