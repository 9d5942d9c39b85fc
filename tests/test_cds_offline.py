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
    """The answer is printed whole, and the exit status says it was worked out from incomplete data (3, as `painplan
    mme` says so), with one line on stderr: a script checking requests must not read an incomplete answer as clear."""
    body = hook_request(drafts=[oxycodone_draft()], prefetch={}, fhir=True)
    assert main(["check", write(tmp_path, body), "--today", "2026-06-15"]) == 3
    captured = capsys.readouterr()
    cards = json.loads(captured.out)["cards"]
    assert cards[-1]["source"]["topic"]["code"] == "data-incomplete"
    assert "offline check reads nothing from the network" in cards[-1]["detail"]
    assert captured.err.startswith("painplan check: the answer was worked out from incomplete data")
    assert "data-incomplete card" in captured.err


def test_a_complete_answer_exits_0_with_nothing_on_stderr(tmp_path, capsys):
    body = hook_request(drafts=[oxycodone_draft()])  # every prefetch key sent (empty searches)
    assert main(["check", write(tmp_path, body), "--today", "2026-06-15"]) == 0
    captured = capsys.readouterr()
    assert "data-incomplete" not in captured.out and captured.err == ""


def test_checks_that_did_not_run_exit_3_naming_them(tmp_path, capsys, monkeypatch):
    """An internal failure of one check costs its card, not the call; `check` says which did not run."""
    from guideline.checks import CHECKS

    def broken(*_args, **_kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(CHECKS["naloxone"], "evaluate", broken)
    body = hook_request(drafts=[oxycodone_draft()])
    assert main(["check", write(tmp_path, body), "--today", "2026-06-15"]) == 3
    captured = capsys.readouterr()
    assert "checks-not-run" in captured.out
    assert "checks not run: naloxone" in captured.err


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


def test_check_and_mme_read_their_input_the_same_way(tmp_path, capsys):
    # One reader for both commands: each bad file is named in one line, exit 2, never a traceback.
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000)
    utf16 = tmp_path / "utf16.json"
    utf16.write_bytes('{"hook": "order-sign"}'.encode("utf-16"))
    empty = tmp_path / "empty.json"
    empty.write_text("  \n")
    cases = [
        (deep, "nested too deeply"),
        (utf16, "is not UTF-8 text"),
        (empty, "the input is empty"),
        (tmp_path, "cannot read"),
    ]
    for command in ("check", "mme"):
        for path, said in cases:
            assert main([command, str(path)]) == 2, (command, path)
            err = capsys.readouterr().err
            assert said in err and "Traceback" not in err and err.count("\n") == 1, (command, err)
    assert main(["check", write(tmp_path, [1, 2])]) == 2
    assert "must be a CDS Hooks request" in capsys.readouterr().err


def test_a_byte_order_mark_is_read_as_windows_editors_save_it(tmp_path, capsys):
    path = tmp_path / "request.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(hook_request(drafts=[oxycodone_draft()])).encode())
    assert main(["check", str(path), "--today", "2026-06-15"]) == 0
    assert json.loads(capsys.readouterr().out)["cards"][0]["source"]["topic"]["code"] == "high-mme"
