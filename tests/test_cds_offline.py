"""`painplan check`: the HTTP service's answer for a request file, offline, with clear errors for bad input."""

from __future__ import annotations

import json

from cds_support import hook_request, make_app, oxycodone_draft

from smart_app.cli import main


def write(tmp_path, body) -> str:
    path = tmp_path / "request.json"
    path.write_text(body if isinstance(body, str) else json.dumps(body))
    return str(path)


def strip_uuids(value):
    if isinstance(value, dict):
        return {k: strip_uuids(v) for k, v in value.items() if k != "uuid"}
    if isinstance(value, list):
        return [strip_uuids(v) for v in value]
    return value


def test_check_prints_what_the_service_would_answer(tmp_path, capsys):
    body = hook_request(drafts=[oxycodone_draft()])
    assert main(["check", write(tmp_path, body), "--today", "2026-06-15"]) == 0
    printed = json.loads(capsys.readouterr().out)
    served = (
        make_app(tmp_path, public_url="http://127.0.0.1:8765").test_client().post("/cds-services/order-sign", json=body)
    )
    assert strip_uuids(printed) == strip_uuids(served.json)
    assert printed["cards"][0]["source"]["topic"]["code"] == "high-mme"


def test_missing_prefetch_is_named_in_a_data_incomplete_card_and_nothing_is_fetched(tmp_path, capsys):
    body = hook_request(drafts=[oxycodone_draft()], prefetch={}, fhir=True)
    assert main(["check", write(tmp_path, body), "--today", "2026-06-15"]) == 0
    cards = json.loads(capsys.readouterr().out)["cards"]
    assert cards[-1]["source"]["topic"]["code"] == "data-incomplete"
    assert "offline check reads nothing from the network" in cards[-1]["detail"]


def test_stdin_input(tmp_path, capsys, monkeypatch):
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps(hook_request("patient-view"))))
    assert main(["check", "-", "--today", "2026-06-15"]) == 0
    assert "cards" in json.loads(capsys.readouterr().out)


def test_bad_input_exits_2_with_a_message(tmp_path, capsys):
    assert main(["check", write(tmp_path, "{nope")]) == 2
    assert "not valid JSON" in capsys.readouterr().err
    assert main(["check", write(tmp_path, {"hook": "medication-prescribe"})]) == 2
    assert "hook must be one of" in capsys.readouterr().err
    assert main(["check", write(tmp_path, {"hook": "order-sign", "context": {}})]) == 2
    assert "hookInstance" in capsys.readouterr().err
    assert main(["check", str(tmp_path / "missing.json")]) == 2
    assert main(["check", write(tmp_path, hook_request()), "--today", "June"]) == 2
