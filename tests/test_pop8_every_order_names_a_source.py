"""Every order naming a `meta.source`. An EHR that stamps its own FHIR base on every resource (Epic's and Oracle's
Bulk exports can) beside the copies a regional HIE relayed back under its own ids leaves no order "the export's own":
the point of care's rule (`identity.relayed_orders`) then found no copy, both orders were read (a patient on 60 MME a
day was at 120, in OHD's numerator and in a letter) and nothing was counted anywhere. Now the site names its own
source(s) (`population.own_sources`) and the copy is read once; without that setting both are still read (which
one is the EHR's cannot be told), but each such pair is counted by its two sources in `orders_maybe_relayed`, named
in the summary and on the dashboard, and the patient's evidence (and so the letter) says the MME may count one order
twice. Both engines."""

from __future__ import annotations

import json
from dataclasses import fields
from pathlib import Path
from typing import Any

import duckdb
import pytest
from synthetic_export import OXYCODONE_10, order, patient, practitioner, write_export
from test_population_measures import PERIOD, TODAY

from guideline.config import ConfigError, GuidelineConfig
from guideline.population import Directory, evaluate_patient
from guideline.population.quality import COUNTS, Quality, quality_lines
from guideline.population.relayed import MAYBE_RELAYED
from smart_app import create_app
from smart_app.population.command import review
from smart_app.population.inputs import ndjson_files
from smart_app.population.spark_engine import java_missing_reason

EPIC_ORDER_ID = "urn:oid:1.2.840.114350.1.13.0.1.7.2.798268"  # Epic's order number (ORD ID) system
EHR = "https://ehr.example.org/fhir"
HIE = "https://hie.example.org/fhir"
PAIR = f"{EHR} and {HIE}"
TOKEN = "population-token-0123456789"


def oxycodone(ident: str, source: str, authored: str = "2026-02-05", number: str = "1066899") -> dict[str, Any]:
    """Oxycodone 10 mg four times a day for 30 days (60 MME a day), numbered by Epic, its server named by HAPI's
    `meta.source` form (base#request-id)."""
    resource = order(ident, "p1", OXYCODONE_10, authored, "pcp1", per_day=4, days=30)
    resource["identifier"] = [{"use": "usual", "system": EPIC_ORDER_ID, "value": number}]
    resource["meta"] = {"source": source, "lastUpdated": f"{authored}T15:02:11Z"}
    return resource


def two_months() -> list[dict[str, Any]]:
    """January's and February's prescriptions, each sent by the EHR and relayed back by the HIE."""
    return [
        oxycodone("eRx.1", f"{EHR}#a81c2e", "2026-01-05", "1066801"),
        oxycodone("hie-71", f"{HIE}#7f3e", "2026-01-05", "1066801"),
        oxycodone("eRx.2", f"{EHR}#b9d410", "2026-02-05", "1066899"),
        oxycodone("hie-77", f"{HIE}#8c21", "2026-02-05", "1066899"),
    ]


def evaluated(orders: list[dict[str, Any]], settings: dict[str, Any] | None = None) -> tuple[dict[str, Any], Any]:
    directory = Directory(roles={}, practitioner_orgs={}, names={}, conflicts=0)
    config = GuidelineConfig.from_mapping(settings)
    outcome = evaluate_patient("p1", [patient("p1", "1961-09-30"), *orders], PERIOD, config, TODAY, directory)
    assert outcome.row is not None
    return outcome.row, outcome.quality


def test_every_order_naming_a_source_reads_both_but_counts_and_names_the_pair():
    row, quality = evaluated([oxycodone("eRx.1", f"{EHR}#a81c2e"), oxycodone("hie-77", f"{HIE}#7f3e")])
    assert (row["peak_mme"], quality.orders_relayed) == (120.0, 0)
    assert quality.orders_maybe_relayed == {PAIR: 1}
    said = json.loads(row["evidence"])["orders_maybe_relayed"]
    assert len(said) == 1 and "MedicationRequest/eRx.1" in said[0] and "MedicationRequest/hie-77" in said[0]
    assert "may be one order" in said[0] and "twice" in said[0]
    line = next(line for line in quality_lines(quality.to_json()) if line.key == "orders_maybe_relayed")
    assert line.kind == "problem" and PAIR in line.text and line.text.startswith("1 ")


def test_the_sites_own_source_reads_the_hies_copy_once():
    for own in (EHR, f"{EHR}/", f"{EHR}#anything"):
        row, quality = evaluated(
            [oxycodone("eRx.1", f"{EHR}#a81c2e"), oxycodone("hie-77", f"{HIE}#7f3e")],
            {"population": {"own_sources": [own]}},
        )
        assert (row["peak_mme"], quality.orders_relayed, quality.orders_maybe_relayed) == (60.0, 1, {})
        assert "orders_maybe_relayed" not in json.loads(row["evidence"])


def test_orders_of_one_source_or_not_alike_are_no_pair():
    # One server's two orders (a renewal under the same number), or the HIE's copy of another day: nothing to name.
    for orders in (
        [oxycodone("eRx.1", EHR), oxycodone("eRx.9", EHR, "2026-03-05")],
        [oxycodone("eRx.1", EHR), oxycodone("hie-77", HIE, "2026-02-06")],
        [oxycodone("eRx.1", EHR), oxycodone("hie-77", HIE, number="555")],
    ):
        _, quality = evaluated(orders)
        assert (quality.orders_relayed, quality.orders_maybe_relayed) == (0, {})


def test_own_sources_must_be_text_naming_a_system():
    for bad in (["#a81c2e"], [""], [42]):
        with pytest.raises(ConfigError, match="population.own_sources"):
            GuidelineConfig.from_mapping({"population": {"own_sources": bad}})


def export(tmp_path: Path) -> Path:
    pcp = patient("p1", "1961-09-30", gp="Practitioner/pcp1", name="Rivera")
    return write_export(tmp_path / "export", [pcp, practitioner("pcp1", "Dr. Ana Okafor"), *two_months()])


def ran(tmp_path: Path, name: str, engine: str, settings: dict[str, Any] | None = None) -> tuple[Path, list[str]]:
    out = tmp_path / name
    config = GuidelineConfig.from_mapping(settings)
    files = ndjson_files(export(tmp_path))
    master = "local[2]" if engine == "spark" else None
    summary = review(files, out, PERIOD, TODAY, config, engine, master=master, workers=1)
    return out, list(summary)


def patients(out: Path) -> list[tuple[Any, ...]]:
    return duckdb.connect().execute(f"SELECT patient_id, avg_mme, ohd_num FROM '{out}/patients.parquet'").fetchall()


def test_a_run_names_the_pairs_in_data_quality_the_summary_and_the_letter(tmp_path):
    out, summary = ran(tmp_path, "out", "duckdb")
    quality = json.loads((out / "data-quality.json").read_text())
    assert quality["orders_maybe_relayed"] == {PAIR: 2} and quality["orders_relayed"] == 0
    assert patients(out) == [("p1", 118.03, True)]  # 60 MME a day counted twice (118.03: a day between the two)
    assert "2 orders two sources both sent" in summary[-1] and PAIR in summary[-1]
    letter = (out / "letters" / "pcp1.html").read_text()
    assert "MedicationRequest/hie-77" in letter and "own_sources" not in letter
    assert "may be one order" in letter
    app = create_app({"instance_path": str(tmp_path / "instance"), "auth": "off", "population_root": str(tmp_path),
                      "population_token": TOKEN})  # fmt: skip
    page = app.test_client().get("/population/", headers={"Authorization": f"Bearer {TOKEN}"})
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "2 orders two sources both sent" in html and HIE in html


def test_a_run_with_the_sites_own_source_reads_each_copy_once(tmp_path):
    out, _ = ran(tmp_path, "out", "duckdb", {"population": {"own_sources": [EHR]}})
    quality = json.loads((out / "data-quality.json").read_text())
    assert (quality["orders_maybe_relayed"], quality["orders_relayed"]) == ({}, 2)
    assert patients(out) == [("p1", 59.02, False)]  # 60 MME a day, a day with none between the prescriptions
    assert not (out / "letters" / "pcp1.html").exists()


@pytest.mark.skipif(java_missing_reason() is not None, reason=java_missing_reason() or "")
def test_spark_names_and_reads_the_pairs_as_duckdb_does(tmp_path):
    for settings, counts in ((None, ({PAIR: 2}, 0)), ({"population": {"own_sources": [EHR]}}, ({}, 2))):
        sides = [ran(tmp_path, f"{engine}-{bool(settings)}", engine, settings)[0] for engine in ("duckdb", "spark")]
        for side in sides:
            quality = json.loads((side / "data-quality.json").read_text())
            assert (quality["orders_maybe_relayed"], quality["orders_relayed"]) == counts
        assert patients(sides[0]) == patients(sides[1])


def test_the_pairs_both_read_are_named_under_the_counts_that_count_them() -> None:
    """The evidence key the letters read each kind's pairs by is the Quality count the summary shows for them."""
    assert MAYBE_RELAYED == ("orders_maybe_relayed", "fills_maybe_relayed")
    assert set(MAYBE_RELAYED) <= {f.name for f in fields(Quality)} & {count.key for count in COUNTS}
