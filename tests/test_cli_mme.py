"""The `painplan mme` contract: inputs (file, stdin, Bundle, CDS Hooks request), JSON output, exit codes."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fixtures.mme.helpers import RXNORM, code_timing, dosage, every, med_request, qty

from smart_app.cli import main

ROOT = Path(__file__).resolve().parents[1]


def e1(id: str | None = "rx1", status: str = "active") -> dict:
    return med_request("1049621", [dosage(2, every(4))], id=id, status=status)


def run(
    argv: list[str],
    capsys: pytest.CaptureFixture[str],
    stdin: str | None = None,
    monkeypatch: pytest.MonkeyPatch | None = None,
) -> tuple[int, dict | None, str]:
    if stdin is not None and monkeypatch is not None:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    code = main(["mme", *argv])
    out, err = capsys.readouterr()
    return code, (json.loads(out) if code == 0 else None), err


def write(tmp_path: Path, data: object, name: str = "input.json") -> str:
    path = tmp_path / name
    path.write_text(json.dumps(data), encoding="utf-8")
    return str(path)


def test_single_medication_request_from_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, report, err = run([write(tmp_path, e1())], capsys)
    assert code == 0 and err == ""
    assert report == {
        "profile": "cdc2022",
        "total_mme": 90.0,
        "complete": True,
        "current_total_mme": 90.0,
        "current_complete": True,
        "orders": [
            {
                "id": "rx1",
                "medication": "oxycodone hydrochloride 5 MG Oral Tablet",
                "rxcui": "1049621",
                "status": "converted",
                "class": "known-opioid",
                "identified_by": "code",
                "mme_per_day": 90.0,
                "current": True,
                "explanation": report["orders"][0]["explanation"],
            }
        ],
    }
    assert "× 1.5" in report["orders"][0]["explanation"]


def test_stdin_and_profile(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    tramadol = med_request("836397", [dosage(2, every(4))], id="t1")
    code, report, _ = run(["-", "--profile", "cdc2016"], capsys, json.dumps(tramadol), monkeypatch)
    assert code == 0
    assert report["profile"] == "cdc2016"
    assert report["complete"] is False
    assert report["total_mme"] == 0.0
    assert report["orders"][0]["status"] == "not-convertible"
    assert report["orders"][0]["mme_per_day"] is None


def test_bundle_of_any_type_with_medication_resources(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    medication = {"resourceType": "Medication", "id": "m1", "code": {"coding": [{"system": RXNORM, "code": "864706"}]}}
    methadone = med_request(None, [dosage(1, code_timing("TID"))], id="meth")
    methadone["medicationReference"] = {"reference": "Medication/m1"}
    small = med_request("864718", [dosage(1, code_timing("TID"))], id="meth5", status="stopped")
    bundle = {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [{"resource": methadone}, {"resource": medication}, {"resource": small}],
    }
    code, report, _ = run([write(tmp_path, bundle), "--profile", "cdc2016"], capsys)
    assert code == 0
    # whatever the status: both orders count, and the methadone tier is taken on their 45 mg total
    assert [o["mme_per_day"] for o in report["orders"]] == [300.0, 150.0]
    assert report["total_mme"] == 450.0
    code, report, _ = run([write(tmp_path, bundle, "again.json")], capsys)
    assert report["total_mme"] == 211.5


def test_cds_hooks_request_deduplicates_draft_and_prefetch(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    request = {
        "hookInstance": "d1f5b0b8",
        "hook": "order-sign",
        "context": {
            "patientId": "p1",
            "draftOrders": {"resourceType": "Bundle", "entry": [{"resource": e1(status="draft")}]},
        },
        "prefetch": {
            "medsActive": {"resourceType": "Bundle", "entry": [{"resource": e1()}]},
            "patient": None,
        },
    }
    code, report, _ = run([write(tmp_path, request)], capsys)
    assert code == 0
    assert report["total_mme"] == 90.0  # E19: once, not 180
    assert [o["id"] for o in report["orders"]] == ["rx1"]


def test_a_request_matches_an_absolute_medication_reference_only_on_its_fhir_server(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Epic's absolute reference to its own Medication is that Medication; one on another server is not, though the
    # EHR files a Medication under the same id.
    order = med_request(None, [dosage(2, every(4))], id="rx1")
    order["medicationReference"] = {"reference": "https://ehr.example.org/fhir/r4/Medication/m1"}
    oxycodone = {"resourceType": "Medication", "id": "m1", "code": {"coding": [{"system": RXNORM, "code": "1049621"}]}}
    request = {
        "hook": "order-sign",
        "fhirServer": "https://ehr.example.org/fhir/r4",
        "context": {"patientId": "p1", "draftOrders": {"resourceType": "Bundle", "entry": []}},
        "prefetch": {"medsActive": {"resourceType": "Bundle", "entry": [{"resource": order}, {"resource": oxycodone}]}},
    }
    code, report, _ = run([write(tmp_path, request)], capsys)
    assert code == 0 and report["total_mme"] == 90.0
    request["fhirServer"] = "https://other.example.net/fhir/r4"
    code, report, _ = run([write(tmp_path, request)], capsys)
    assert [o["status"] for o in report["orders"]] == ["unidentified"] and report["complete"] is False


def test_orders_without_id_get_stable_ids_and_non_opioids_are_labelled(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ibuprofen = med_request("310965", [dosage(1, every(8))], id=None)
    ibuprofen["medicationCodeableConcept"]["coding"][0]["display"] = "ibuprofen 200 MG Oral Tablet"
    bundle = {"resourceType": "Bundle", "entry": [{"resource": e1(id=None)}, {"resource": ibuprofen}]}
    code, report, _ = run([write(tmp_path, bundle)], capsys)
    assert code == 0
    assert [o["id"] for o in report["orders"]] == ["(order 1)", "(order 2)"]
    assert [o["status"] for o in report["orders"]] == ["converted", "not-opioid"]
    assert report["complete"] is True  # a non-opioid never makes the total incomplete


def test_excluded_and_unresolved_orders(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    buprenorphine = med_request("1716065", [dosage(qty(1, "{film}"), every(12))], id="bup")
    unresolved = med_request(None, [dosage(1, every(6))], id="ref")
    unresolved["medicationReference"] = {"reference": "Medication/not-here", "display": "Formulary item 4471"}
    bundle = {"resourceType": "Bundle", "entry": [{"resource": buprenorphine}, {"resource": unresolved}]}
    code, report, _ = run([write(tmp_path, bundle)], capsys)
    assert code == 0
    assert [o["status"] for o in report["orders"]] == ["excluded", "unidentified"]
    assert report["orders"][1]["medication"] == "Formulary item 4471"
    assert report["orders"][1]["rxcui"] is None
    assert report["complete"] is False


def test_rounding_only_when_printed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    codeine = med_request("994043", [dosage(1, code_timing("TID"))], id="c")
    code, report, _ = run([write(tmp_path, codeine)], capsys)
    assert report["total_mme"] == 6.8
    assert report["orders"][0]["mme_per_day"] == 6.8


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not valid JSON"),
        ("", "empty"),
        ("[1, 2]", "JSON object"),
        ('{"resourceType": "Patient", "id": "p"}', "Patient"),
        ('{"hook": "order-sign", "context": "none"}', "context"),
    ],
)
def test_bad_input_exits_2_with_a_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, message: str
) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content, encoding="utf-8")
    code, _, err = run([str(path)], capsys)
    assert code == 2
    assert message in err
    assert "Traceback" not in err


def test_missing_file_and_bad_date_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run([str(tmp_path / "missing.json")], capsys)
    assert code == 2 and "cannot read" in err
    code, _, err = run([write(tmp_path, e1()), "--today", "15/06/2026"], capsys)
    assert code == 2 and "YYYY-MM-DD" in err
    code, report, _ = run([write(tmp_path, e1()), "--today", "2026-06-15"], capsys)
    assert code == 0 and report["total_mme"] == 90.0


def test_the_installed_command_reads_stdin() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "smart_app.cli", "mme", "-"],
        input=json.dumps(e1()),
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["total_mme"] == 90.0
    bad = subprocess.run(
        [sys.executable, "-m", "smart_app.cli", "mme", "-"],
        input="nonsense",
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=False,
    )
    assert bad.returncode == 2 and bad.stdout == "" and "not valid JSON" in bad.stderr


def _card_total(request: dict, day: str) -> str | None:
    """The total the order-sign card reports for the same request, evaluated at noon on `day` as `check` does."""
    from datetime import date, datetime, time
    from zoneinfo import ZoneInfo

    from guideline.config import GuidelineConfig
    from guideline.context import HookContext
    from guideline.engine import evaluate
    from guideline.record import build_record

    tz = ZoneInfo("America/New_York")
    prefetch = [v for v in request["prefetch"].values() if v is not None]
    record = build_record(prefetch, tz, draft_orders=request["context"]["draftOrders"])
    now = datetime.combine(date.fromisoformat(day), time(12), tzinfo=tz)
    evaluation = evaluate(record, HookContext("order-sign", "p1"), GuidelineConfig.from_mapping(), now)
    high = next(c for c in evaluation.cards if c.check_id == "high-mme")
    return high.facts["total_mme"]


def test_current_total_is_the_cards_total_and_finished_orders_are_not_current(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    finished = {**e1(id="old", status="completed"), "authoredOn": "2025-01-10"}
    active = {**e1(id="now"), "authoredOn": "2026-06-10"}
    draft = {**e1(id="new", status="draft"), "authoredOn": "2026-06-15"}
    for order in (finished, active, draft):
        order["dispenseRequest"] = {"expectedSupplyDuration": {"value": 30, "unit": "d", "code": "d"}}
    request = {
        "hook": "order-sign",
        "context": {"patientId": "p1", "draftOrders": {"resourceType": "Bundle", "entry": [{"resource": draft}]}},
        "prefetch": {"medsRecent": {"resourceType": "Bundle", "entry": [{"resource": finished}, {"resource": active}]}},
    }
    code, report, _ = run([write(tmp_path, request), "--today", "2026-06-15"], capsys)
    assert code == 0
    assert report["total_mme"] == 270.0  # every order given, as before
    # The draft is the active order's product with no priorPrescription: read as its renewal, counted once (a tie
    # counts the draft), so the active order is not current here and says why: the current lines add up to the total.
    assert {o["id"]: o["current"] for o in report["orders"]} == {"new": True, "old": False, "now": False}
    now = next(o for o in report["orders"] if o["id"] == "now")
    assert now["mme_per_day"] == 90.0 and "renewed by the new order of the same product" in now["explanation"]
    assert report["current_total_mme"] == 90.0
    assert Decimal(_card_total(request, "2026-06-15")) == Decimal("90")


def morphine_fill() -> dict[str, Any]:
    """A 30-day fill of 60 morphine ER 30 mg tablets handed over on 2026-06-05 (60 MME/day)."""
    return {
        "resourceType": "MedicationDispense",
        "id": "f1",
        "status": "completed",
        "medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": "891888"}]},  # morphine ER 30 mg
        "quantity": {"value": 60, "unit": "tablet"},
        "daysSupply": {"value": 30, "unit": "d", "code": "d"},
        "whenHandedOver": "2026-06-05",
    }


def test_fills_only_input_has_a_current_mme(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fill = morphine_fill()
    old = {**fill, "id": "f0", "whenHandedOver": "2026-03-01"}
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": fill}, {"resource": old}]}
    code, report, _ = run([write(tmp_path, bundle), "--today", "2026-06-15"], capsys)
    assert code == 0
    assert report["orders"] == [] and report["total_mme"] == 0.0
    assert report["current_total_mme"] == 60.0  # 60 tablets × 30 mg × 1 ÷ 30 days
    fills = {f["id"]: f for f in report["dispenses"]}
    assert fills["f1"]["current"] is True and fills["f1"]["mme_per_day"] == 60.0
    assert fills["f1"]["filled"] == "2026-06-05" and "days' supply" in fills["f1"]["explanation"]
    assert fills["f0"]["current"] is False


def test_a_fill_sent_twice_is_listed_as_a_copy_of_the_fill_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The card reads one fill sent twice once (guideline.sent_twice); the command listed the copy as a fill of its
    # own, "not current", with no word of why.
    fill = {**morphine_fill(), "performer": [{"actor": {"reference": "Organization/pharmacy-1"}}]}
    resent = {**fill, "id": "gw-f1"}  # a gateway's copy under its own id, from the same pharmacy
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": fill}, {"resource": resent}]}
    code, report, _ = run([write(tmp_path, bundle), "--today", "2026-06-15"], capsys)
    assert code == 0 and report["current_total_mme"] == 60.0
    fills = {f["id"]: f for f in report["dispenses"]}
    assert fills["f1"]["current"] is True and "copy_of" not in fills["f1"]
    assert fills["gw-f1"]["copy_of"] == "f1" and fills["gw-f1"]["current"] is False


def test_an_unidentified_current_fill_is_listed_and_makes_the_current_total_incomplete(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    known = morphine_fill()
    mystery = {**known, "id": "f2", "medicationCodeableConcept": {"text": "Zorblex 10 mg tablet"}}
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": known}, {"resource": mystery}]}
    code, report, _ = run([write(tmp_path, bundle), "--today", "2026-06-15"], capsys)
    assert code == 0
    assert report["current_total_mme"] == 60.0 and report["current_complete"] is False
    fills = {f["id"]: f for f in report["dispenses"]}
    assert fills["f2"]["status"] == "unidentified" and fills["f2"]["current"] is True
    assert fills["f2"]["mme_per_day"] is None and fills["f2"]["medication"] == "Zorblex 10 mg tablet"
    assert fills["f1"]["status"] == "converted"


def test_a_medication_statement_is_read_as_a_medication_reported_as_taken(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    statement = {
        "resourceType": "MedicationStatement",
        "id": "ms1",
        "status": "active",
        "dateAsserted": "2026-06-01",
        "medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": "1049621"}]},
        "dosage": e1()["dosageInstruction"],
    }
    code, report, _ = run([write(tmp_path, statement), "--today", "2026-06-15"], capsys)
    assert code == 0 and report is not None
    assert report["current_total_mme"] == 90.0 and report["orders"][0]["id"] == "ms1"
    assert report["orders"][0]["current"] is True


def test_an_r5_ballot_medication_usage_is_read_as_a_medication_statement(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The hooks read MedicationUsage (R5's ballot name for MedicationStatement); `painplan mme` refused it outright.
    usage = {
        "resourceType": "MedicationUsage",
        "id": "mu1",
        "status": "recorded",
        "dateAsserted": "2026-06-01",
        "medication": {"concept": {"coding": [{"system": RXNORM, "code": "1049621"}]}},
        "dosage": e1()["dosageInstruction"],
    }
    code, report, _ = run([write(tmp_path, usage), "--today", "2026-06-15"], capsys)
    assert code == 0 and report is not None
    assert report["current_total_mme"] == 90.0 and report["orders"][0]["id"] == "mu1"


def test_an_order_converted_from_its_ingredient_is_not_labelled_without_mme(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A contained Medication named only "PAIN MED", with oxycodone 5 mg per tablet as its ingredient: converted, so
    # its class is no longer "opioid-no-mme" ("opioid without a computable MME") beside its 90 MME/day.
    medication = {
        "resourceType": "Medication",
        "id": "m1",
        "code": {"text": "PAIN MED"},
        "form": {"text": "tablet"},
        "ingredient": [
            {
                "itemCodeableConcept": {"text": "oxycodone hydrochloride"},
                "strength": {
                    "numerator": {"value": 5, "unit": "mg", "system": "http://unitsofmeasure.org", "code": "mg"},
                    "denominator": {"value": 1, "unit": "TABLET"},
                },
            }
        ],
    }
    order = med_request(None, [dosage(2, every(4))], contained=[medication], medicationReference={"reference": "#m1"})
    code, report, _ = run([write(tmp_path, order)], capsys)
    assert code == 0 and report is not None
    (line,) = report["orders"]
    assert (line["status"], line["mme_per_day"]) == ("converted", 90.0)
    assert line["class"] == "opioid-by-name"


def pain_med(strength: dict | None) -> dict:
    """An Epic-style contained Medication named only "PAIN MED", its one ingredient oxycodone named by text (as DSTU2
    names it by a Substance's display), with the given strength (None: none given)."""
    ingredient: dict[str, Any] = {"itemCodeableConcept": {"text": "oxycodone hydrochloride"}}
    if strength is not None:
        ingredient["strength"] = strength
    return {"resourceType": "Medication", "id": "m1", "code": {"text": "PAIN MED"}, "form": {"text": "tablet"},
            "ingredient": [ingredient]}  # fmt: skip


FIVE_MG_PER_TABLET = {
    "numerator": {"value": 5, "unit": "mg", "system": "http://unitsofmeasure.org", "code": "mg"},
    "denominator": {"value": 1, "unit": "TABLET"},
}


def test_the_class_is_the_medications_whatever_the_orders_dose(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Before: the command relabelled "opioid-no-mme" as "opioid-by-name" itself, only when the order's MME came out;
    # so the same PAIN MED 5 mg was "without a computable MME" in an order with no dose, and by name in one with a
    # dose. Recognition now classes the medication (its ingredient list gives the strength) and the command reads it.
    no_dose = med_request(
        None, id="nd", contained=[pain_med(FIVE_MG_PER_TABLET)], medicationReference={"reference": "#m1"}
    )
    code, report, _ = run([write(tmp_path, no_dose)], capsys)
    assert code == 0 and report is not None
    (line,) = report["orders"]
    assert (line["status"], line["mme_per_day"], line["class"]) == ("not-convertible", None, "opioid-by-name")


def test_an_ingredient_list_with_no_usable_strength_leaves_the_opioid_without_mme(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # No strength, or one in no mass unit: the MME cannot be worked out from the product, and the class says so.
    for strength in (None, {"numerator": {"value": 5, "unit": "%"}, "denominator": {"value": 1, "unit": "TABLET"}}):
        order = med_request(
            None, [dosage(2, every(4))], contained=[pain_med(strength)], medicationReference={"reference": "#m1"}
        )
        code, report, _ = run([write(tmp_path, order)], capsys)
        assert code == 0 and report is not None
        (line,) = report["orders"]
        assert (line["status"], line["class"]) == ("not-convertible", "opioid-no-mme"), strength
