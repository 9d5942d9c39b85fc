"""A user's bad input to every `painplan` command: one line naming what is wrong, a documented exit status, no
traceback (black-box audit, session 30)."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest
from cds_support import hook_request, oxycodone_draft
from cli_support import only_line
from population_support import fills, people, review_of
from synthetic_export import (
    OXYCODONE_10,
    order,
    organization,
    patient,
    practitioner,
    write_export,
    write_ndjson,
)
from test_population_saved_state import MANIFEST as SAVED_MANIFEST

from smart_app.cli import build_parser, main
from smart_app.commands import settings_for


@pytest.mark.parametrize("command", ["mme", "check"])
def test_a_closed_stdin_is_named_not_a_traceback(command, monkeypatch, capsys):
    # A scheduler or `cmd <&-` starts the command with no standard input: Python then sets sys.stdin to None, and
    # reading the request from "-" ended in an AttributeError traceback with exit status 1.
    monkeypatch.setattr(sys, "stdin", None)
    assert main([command, "-", "--today", "2026-06-15"]) == 2
    line = only_line(capsys)
    assert line.startswith(f"painplan {command}: ") and "standard input is closed" in line


def latin1_settings(tmp_path) -> str:
    """A site's settings saved by a Windows editor in its code page: the é of a comment is one byte, 0xE9."""
    path = tmp_path / "site.toml"
    path.write_bytes('# Clinique Sainte-Thérèse\npublic_url = "https://cds.example.org"\n'.encode("cp1252"))
    return str(path)


@pytest.mark.parametrize("command", ["check", "population", "feedback-report"])
def test_a_settings_file_that_is_not_utf8_is_named_by_its_path(command, tmp_path, monkeypatch, capsys):
    # It ended in a UnicodeDecodeError traceback (exit 1); the population review said "--today must be YYYY-MM-DD".
    monkeypatch.setenv("PAINPLAN_INSTANCE_PATH", str(tmp_path))
    config = latin1_settings(tmp_path)
    argv = {
        "check": ["check", str(tmp_path / "request.json")],
        "population": ["population", str(tmp_path), "--out", str(tmp_path / "out")],
        "feedback-report": ["feedback-report"],
    }[command]
    assert main([*argv, "--config", config]) == 2
    assert only_line(capsys) == (
        f"painplan {command}: configuration file {config} is not UTF-8 text (byte 0xe9 at line 1, column 21)"
    )
    assert not (tmp_path / "out").exists()


def test_serve_names_a_settings_file_that_is_not_utf8(tmp_path, capsys):
    # Settings only: a regression must fail this test, not start a server inside it.
    config = latin1_settings(tmp_path)
    assert settings_for("serve", build_parser().parse_args(["serve", "--config", config])) is None
    assert (
        only_line(capsys)
        == f"painplan serve: configuration file {config} is not UTF-8 text (byte 0xe9 at line 1, column 21)"
    )


def test_mme_names_a_settings_file_that_is_not_utf8(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PAINPLAN_CONFIG", latin1_settings(tmp_path))
    request = tmp_path / "order.json"
    request.write_text('{"resourceType": "MedicationRequest", "status": "active", "intent": "order"}')
    assert main(["mme", str(request)]) == 2
    assert "is not UTF-8 text (byte 0xe9 at line 1, column 21)" in only_line(capsys)


def test_a_settings_file_with_a_byte_order_mark_is_read(tmp_path, capsys):
    # Notepad saves UTF-8 with a byte-order mark; TOML's reader took it for a bad first key ("Invalid statement").
    config = tmp_path / "site.toml"
    config.write_bytes("\ufeffport = 9001\n".encode("utf-8"))
    settings = settings_for("serve", build_parser().parse_args(["serve", "--config", str(config)]))
    assert settings is not None and settings.port == 9001


OXYCODONE_ORDER = {
    "resourceType": "MedicationRequest",
    "id": "rx-oxy-1",
    "status": "active",
    "intent": "order",
    "subject": {"reference": "Patient/pt-1"},
    "authoredOn": "2026-06-01",
    "medicationCodeableConcept": {
        "coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "1049621"}],
        "text": "oxycodone hydrochloride 5 MG Oral Tablet",
    },
    "dosageInstruction": [
        {
            "timing": {"repeat": {"frequency": 1, "period": 6, "periodUnit": "h"}},
            "doseAndRate": [{"doseQuantity": {"value": 1, "unit": "tablet"}}],
        }
    ],
}


@pytest.mark.parametrize("today", ["0001-01-01", "9999-12-31"])
def test_mme_refuses_an_evaluation_date_no_window_can_count_back_from(today, tmp_path, capsys):
    # `painplan mme --today 0001-01-01` ended in an OverflowError traceback (exit 1): it read --today by a rule of its
    # own, with no range; check, serve and demo refuse it by name.
    order = tmp_path / "order.json"
    order.write_text(json.dumps(OXYCODONE_ORDER))
    assert main(["mme", str(order), "--today", today]) == 2
    assert only_line(capsys) == "painplan mme: --today must be a date between 1801 and 2200"


def test_mme_names_an_impossible_today_as_check_does(tmp_path, capsys):
    order = tmp_path / "order.json"
    order.write_text(json.dumps(OXYCODONE_ORDER))
    assert main(["mme", str(order), "--today", "2026-02-30"]) == 2
    assert only_line(capsys).startswith("painplan mme: --today: '2026-02-30' is not a date YYYY-MM-DD")


def test_mme_reads_a_good_today(tmp_path, capsys):
    order = tmp_path / "order.json"
    order.write_text(json.dumps(OXYCODONE_ORDER))
    assert main(["mme", str(order), "--today", "2026-06-15"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["current_total_mme"] == 30.0 and report["orders"][0]["current"] is True


def test_population_refuses_an_impossible_today_even_with_a_period(tmp_path, capsys):
    # With --period given, --today 0001-01-01 was never checked: the run went ahead, exit 0, dated year 1.
    (tmp_path / "export").mkdir()
    (tmp_path / "export" / "Patient.ndjson").write_text('{"resourceType": "Patient", "id": "pt-1"}\n')
    argv = ["population", str(tmp_path / "export"), "--out", str(tmp_path / "out"), "--today", "0001-01-01"]
    assert main([*argv, "--period", "2026-01-01/2026-03-31", "--quiet"]) == 2
    assert only_line(capsys) == "painplan population: --today must be a date between 1801 and 2200"
    assert not (tmp_path / "out").exists()


def test_a_pinned_date_out_of_range_is_still_named_by_its_variable(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PAINPLAN_TODAY", "0001-01-01")
    order = tmp_path / "order.json"
    order.write_text(json.dumps(OXYCODONE_ORDER))
    assert main(["mme", str(order)]) == 2
    assert only_line(capsys) == "painplan mme: PAINPLAN_TODAY must be a date between 1801 and 2200"


@pytest.mark.parametrize("workers", ["257", "99999999999999999999"])
def test_population_refuses_more_worker_processes_than_it_can_start(workers, tmp_path, capsys):
    # --workers 99999999999999999999 ended in an OverflowError traceback after reading the whole export; a large
    # but smaller number forked that many processes at once.
    (tmp_path / "export").mkdir()
    (tmp_path / "export" / "Patient.ndjson").write_text('{"resourceType": "Patient", "id": "pt-1"}\n')
    argv = ["population", str(tmp_path / "export"), "--out", str(tmp_path / "out"), "--today", "2026-04-15"]
    assert main([*argv, "--workers", workers, "--quiet"]) == 2
    assert only_line(capsys) == f"painplan population: --workers must be from 1 to 256, not {workers}"
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("port", ["99999999", "0"])
def test_the_demo_names_an_impossible_port_as_the_port(port, tmp_path):
    # --port 99999999 was named as PAINPLAN_PUBLIC_URL ("is not a URL (Port out of range 0-65535)"), a setting the
    # user never gave; --port 0 was ignored without a word and the demo served on 8765. Settings only: a regression
    # must fail this test, not start a server inside it.
    from guideline.config import ConfigError
    from smart_app.demo import demo_settings

    args = build_parser().parse_args(["demo", "--port", port])
    with pytest.raises(ConfigError) as raised:
        demo_settings(args, env={"PAINPLAN_INSTANCE_PATH": str(tmp_path)})
    assert str(raised.value) == f"--port {port}: must be between 1 and 65535"


def test_the_demo_refuses_an_empty_host_as_serve_does(tmp_path):
    # `painplan demo --host ""` (an unset shell variable, `--host "$HOST"`) was ignored without a word and the demo
    # served on the configured host; `painplan serve --host ""` stops naming PAINPLAN_HOST.
    from guideline.config import ConfigError
    from smart_app.demo import demo_settings

    args = build_parser().parse_args(["demo", "--host", "", "--port", "9001"])
    with pytest.raises(ConfigError, match="^--host '': must not be empty$"):
        demo_settings(args, env={"PAINPLAN_INSTANCE_PATH": str(tmp_path)})


@pytest.mark.parametrize(
    ("typed", "named"),
    [
        (["--port", "99999999"], "--port 99999999: must be between 1 and 65535"),
        (["--port", "0"], "--port 0: must be between 1 and 65535"),
        (["--workers", "0"], "--workers 0: must be between 1 and 64"),
        (["--workers", "65"], "--workers 65: must be between 1 and 64"),
        (["--host", ""], "--host '': must not be empty"),
    ],
)
def test_serve_names_an_option_out_of_range_as_typed(typed, named, tmp_path, monkeypatch, capsys):
    # `painplan serve --port 99999999` said "PAINPLAN_PORT must be between 1 and 65535", a variable the user never
    # set: they looked for it in the environment and the TOML file. Refused before listening, so no server starts.
    monkeypatch.setenv("PAINPLAN_INSTANCE_PATH", str(tmp_path))
    assert main(["serve", *typed]) == 2
    assert only_line(capsys) == f"painplan serve: {named}"


def test_a_value_from_the_environment_is_still_named_as_its_variable(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PAINPLAN_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("PAINPLAN_WORKERS", "0")
    assert main(["serve", "--port", "9001"]) == 2
    assert only_line(capsys) == "painplan serve: PAINPLAN_WORKERS must be between 1 and 64, not 0"


def test_the_demo_reads_a_typed_port_over_an_impossible_one_in_the_environment(tmp_path):
    # As serve does: the typed --port replaces PAINPLAN_PORT, so the variable's 0 is never used; the demo stopped on
    # it, naming PAINPLAN_PORT although the user had typed a port.
    from smart_app.demo import demo_settings

    args = build_parser().parse_args(["demo", "--port", "9001"])
    settings = demo_settings(args, env={"PAINPLAN_INSTANCE_PATH": str(tmp_path), "PAINPLAN_PORT": "0"})
    assert settings.port == 9001 and settings.public_url == "http://127.0.0.1:9001"


def test_a_bound_is_written_as_the_whole_number_it_is(monkeypatch, capsys):
    # "must be between 1024 and 1.07374e+09, not 2e+09": a byte count in floating-point notation, rounded.
    monkeypatch.setenv("PAINPLAN_MAX_BODY_BYTES", "2000000000")
    assert settings_for("serve", build_parser().parse_args(["serve"])) is None
    assert only_line(capsys) == (
        "painplan serve: PAINPLAN_MAX_BODY_BYTES must be between 1024 and 1073741824, not 2000000000"
    )


def exported_quarter(folder: Path) -> None:
    """Patient A's export as a Bulk Data client saved it, with the server's manifest beside the files."""
    write_export(folder, people())
    write_ndjson(folder, "MedicationRequest", [order("rx1", "A", OXYCODONE_10, "2026-01-10", "er-doc", 4, 30)])


def manifest(folder: Path, outputs: list[dict]) -> None:
    document = {
        "transactionTime": "2026-04-01T02:00:00Z",
        "request": "https://ehr.example.org/fhir/Group/g1/$export",
        "requiresAccessToken": True,
        "output": outputs,
        "error": [],
    }
    (folder / "manifest.json").write_text(json.dumps(document, indent=2))


FILES = "https://ehr.example.org/bulk/files"


def test_a_file_the_exports_manifest_lists_but_input_does_not_hold_is_named(tmp_path, capsys):
    # The client's download of the fills failed (or the copy left them behind): the manifest lists 5,000 fills,
    # the folder holds none. The review read what was there and said "read: every line of every input file", exit 0.
    folder = tmp_path / "in"
    exported_quarter(folder)
    manifest(folder, [
        {"type": "Patient", "url": f"{FILES}/Patient.ndjson", "count": 1},
        {"type": "MedicationRequest", "url": f"{FILES}/MedicationRequest.ndjson", "count": 1},
        {"type": "MedicationDispense", "url": f"{FILES}/MedicationDispense-1.ndjson", "count": 3000},
        {"type": "MedicationDispense", "url": f"{FILES}/MedicationDispense-2.ndjson", "count": 2000},
        {"type": "Observation", "url": f"{FILES}/Observation.ndjson"},
    ])  # fmt: skip
    code, lines, quality = review_of(folder, capsys)
    named = (
        "manifest.json: the export's manifest lists 2 MedicationDispense files (5,000 resources), and INPUT holds "
        "no MedicationDispense: not read"
    )
    observations = (
        "manifest.json: the export's manifest lists 1 Observation file, and INPUT holds no Observation: not read"
    )
    assert quality["input_files_not_read"] == {named: 1, observations: 1}
    assert code == 3 and lines[-1].startswith("not read (exit status 3): 2 input files (manifest.json")
    assert quality["resources_by_type"]["MedicationRequest"] == 1  # what was there is still reviewed


def test_a_manifest_whose_every_type_is_held_is_still_not_named(tmp_path, capsys):
    folder = tmp_path / "in"
    exported_quarter(folder)
    manifest(folder, [
        {"type": "Patient", "url": f"{FILES}/Patient.ndjson", "count": 1},
        {"type": "MedicationRequest", "url": f"{FILES}/MedicationRequest.ndjson", "count": 1},
        {"type": "Coverage", "url": f"{FILES}/Coverage.ndjson", "count": 0},  # a type the server had none of
    ])  # fmt: skip
    code, lines, quality = review_of(folder, capsys)
    assert quality["input_files_not_read"] == {} and code == 0
    assert lines[-1] == "read: every line of every input file"


def test_an_unknown_time_zone_stops_every_command_by_name(tmp_path, monkeypatch, capsys):
    # `timezone = "America/Hartford"` (no such zone) passed the settings check: `painplan check` then ended in a
    # ZoneInfoNotFoundError traceback on the first request, and `painplan serve` would have failed every hook call.
    config = tmp_path / "site.toml"
    config.write_text('[guideline]\ntimezone = "America/Hartford"\n')
    said = "timezone: unknown time zone 'America/Hartford' (an IANA name, such as America/New_York)"
    request = tmp_path / "request.json"
    request.write_text(json.dumps(hook_request(drafts=[oxycodone_draft()])))
    assert main(["check", str(request), "--config", str(config), "--today", "2026-06-15"]) == 2
    assert only_line(capsys) == f"painplan check: {said}"
    assert settings_for("serve", build_parser().parse_args(["serve", "--config", str(config)])) is None
    assert only_line(capsys) == f"painplan serve: {said}"
    monkeypatch.setenv("PAINPLAN_CONFIG", str(config))
    order = tmp_path / "order.json"
    order.write_text(json.dumps(OXYCODONE_ORDER))
    assert main(["mme", str(order)]) == 2
    assert only_line(capsys) == f"painplan mme: {said}"


@pytest.mark.parametrize("setting", ["smart_clients", "trusted_clients"])
def test_a_client_file_that_is_not_utf8_is_named_by_its_setting(setting, tmp_path, capsys):
    # A SMART clients file saved in a Windows code page ended in a UnicodeDecodeError traceback.
    clients = tmp_path / "clients.json"
    clients.write_bytes(
        '[{"iss": "https://ehr.example.org/fhir", "client_id": "painplan", "name": "Hôpital"}]'.encode("cp1252")
    )
    config = tmp_path / "site.toml"
    config.write_text(f'{setting} = "{clients}"\n')
    assert settings_for("serve", build_parser().parse_args(["serve", "--config", str(config)])) is None
    line = only_line(capsys)
    assert line.startswith(f"painplan serve: PAINPLAN_{setting.upper()}: ") and f"{clients} is not UTF-8 text" in line


@pytest.mark.parametrize("out", [".", "link"])
def test_population_refuses_to_write_its_outputs_into_the_export_it_reads(out, tmp_path, monkeypatch, capsys):
    # `painplan population . --out .` in the export's folder put measures, patients and letters among the export's
    # files: every later run named them as input files not read (exit 3), seven of them, on every run.
    folder = tmp_path / "in"
    exported_quarter(folder)
    (tmp_path / "link").symlink_to(folder)
    monkeypatch.chdir(folder if out == "." else tmp_path)
    given = "." if out == "." else "link"
    assert main(["population", str(folder), "--out", given, "--today", "2026-04-15", "--quiet"]) == 2
    assert only_line(capsys) == (
        f"painplan population: --out {given} is INPUT: give the outputs a folder of their own (the next run would "
        "read them as input)"
    )
    assert sorted(p.name for p in folder.iterdir()) == [
        "MedicationRequest.ndjson", "Organization.ndjson", "Patient.ndjson", "Practitioner.ndjson"
    ]  # fmt: skip


def test_feedback_report_names_the_database_it_cannot_read(tmp_path, monkeypatch, capsys):
    # A file that is no SQLite database where painplan.db should be (a copy cut short, another program's file):
    # "cannot read the database (DatabaseError)" said not which.
    monkeypatch.setenv("PAINPLAN_INSTANCE_PATH", str(tmp_path))
    (tmp_path / "painplan.db").write_bytes(b"PK\x03\x04 this is a zip archive, not a database" * 20)
    assert main(["feedback-report"]) == 2
    assert only_line(capsys) == (
        f"painplan feedback-report: cannot read the database sqlite:///{tmp_path / 'painplan.db'} (DatabaseError)"
    )


@pytest.mark.parametrize("again", ["00406-0512-01", "00406051201"])
def test_a_crosswalk_that_maps_one_ndc_to_two_products_names_both_lines(again, tmp_path, capsys):
    # A payer's drug file merged from two sources: the NDC's second row silently replaced the first (or, written in
    # another layout, which one a claim was matched to depended on how the claim wrote it).
    (tmp_path / "ndc.csv").write_text(
        f"ndc,rxcui\n00406-0512-01,1049621\n00093-0150-01,197696\n{again},1049683\n", encoding="utf-8"
    )
    config = tmp_path / "site.toml"
    config.write_text('[guideline.ndc]\ncrosswalk_file = "ndc.csv"\n')
    assert settings_for("serve", build_parser().parse_args(["serve", "--config", str(config)])) is None
    assert only_line(capsys) == (
        f"painplan serve: guideline.ndc.crosswalk_file: {tmp_path / 'ndc.csv'} line 4: {again!r} maps the NDC of "
        "line 2 ('00406-0512-01', to 1049621) to another RxNorm code, 1049683"
    )


def test_a_crosswalk_that_repeats_an_ndc_with_its_own_code_is_read(tmp_path):
    from smart_app.ndc_crosswalk import read_crosswalk

    (tmp_path / "ndc.csv").write_text("ndc,rxcui\n00406-0512-01,1049621\n00406051201,1049621\n", encoding="utf-8")
    assert set(read_crosswalk(tmp_path / "ndc.csv").values()) == {"1049621"}


@pytest.mark.parametrize("command", ["mme", "check"])
def test_a_number_too_long_to_read_is_named_as_the_service_refuses_it(command, tmp_path, capsys):
    # A dose of 5,000 digits (a fuzzer's, or a corrupted export's): json.loads refuses it with a ValueError that is no
    # JSONDecodeError, and both commands ended in a traceback; the service answers such a body 400, "not valid JSON".
    request = hook_request(drafts=[oxycodone_draft()])
    text = json.dumps(request).replace('"value": 2', '"value": ' + "9" * 5000, 1)
    assert "9" * 5000 in text
    path = tmp_path / "request.json"
    path.write_text(text)
    assert main([command, str(path), "--today", "2026-06-15"]) == 2
    assert only_line(capsys) == (
        f"painplan {command}: the input is not valid JSON (Exceeds the limit (4300 digits) for integer string "
        "conversion: value has 5000 digits)"
    )


def test_population_refuses_an_empty_out(tmp_path, monkeypatch, capsys):
    # `--out "$OUT"` with OUT unset: Path("") is the working folder, and the run was put in place there, the folder's
    # own files moved into it.
    folder = tmp_path / "in"
    exported_quarter(folder)
    (tmp_path / "work").mkdir()
    (tmp_path / "work" / "notes.txt").write_text("the analyst's notes\n")
    monkeypatch.chdir(tmp_path / "work")
    assert main(["population", str(folder), "--out", "", "--today", "2026-04-15", "--quiet"]) == 2
    assert only_line(capsys) == "painplan population: --out is empty: name the folder the outputs go to"
    assert [p.name for p in (tmp_path / "work").iterdir()] == ["notes.txt"]


@pytest.mark.parametrize("command", ["check", "population", "feedback-report", "serve"])
def test_an_empty_config_option_is_refused_not_read_as_no_file(command, tmp_path, monkeypatch, capsys):
    # `--config "$SITE_TOML"` with the variable unset: the command ran on the built-in defaults without a word (the
    # site's thresholds, trusted clients and codes all dropped).
    monkeypatch.setenv("PAINPLAN_INSTANCE_PATH", str(tmp_path))
    if command == "serve":  # settings only: a regression must fail this test, not start a server inside it
        assert settings_for("serve", build_parser().parse_args(["serve", "--config", ""])) is None
    else:
        argv = {
            "check": ["check", str(tmp_path / "request.json")],
            "population": ["population", str(tmp_path), "--out", str(tmp_path / "out")],
            "feedback-report": ["feedback-report"],
        }[command]
        assert main([*argv, "--config", ""]) == 2
    assert only_line(capsys) == f"painplan {command}: --config is empty: name the TOML file, or leave --config out"


def test_a_broken_export_clients_file_is_named_by_its_setting(tmp_path, monkeypatch, capsys):
    # It was named as "SMART clients file …", the plan page's setting, which the site had not set.
    clients = tmp_path / "export-clients.json"
    clients.write_text('[{"iss": "https://ehr.example.org/fhir", "client_id": "painplan-bulk"')
    monkeypatch.setenv("PAINPLAN_POPULATION_EXPORT_CLIENTS", str(clients))
    url = "https://ehr.example.org/fhir/Group/g1/$export"
    assert main(["population", "--export", url, "--out", str(tmp_path / "out"), "--quiet"]) == 2
    line = only_line(capsys)
    assert line.startswith(f"painplan population: PAINPLAN_POPULATION_EXPORT_CLIENTS: SMART clients file {clients}")
    assert "is not valid JSON" in line


@pytest.mark.parametrize("command", ["mme", "check"])
def test_stdin_that_is_not_utf8_is_named_as_a_file_that_is_not(command, monkeypatch, capsys):
    # A request saved in Latin-1 ("générique" in a medication's name): read from a file it is refused as not UTF-8;
    # piped in, Python's stdin (surrogateescape) let it through, and its bytes were echoed back undecoded, exit 0.
    draft = oxycodone_draft()
    draft["medicationCodeableConcept"]["text"] = "oxycodone 5 mg comprimé (générique)"
    latin1 = json.dumps(hook_request(drafts=[draft]), ensure_ascii=False).encode("latin-1")
    stdin = io.TextIOWrapper(io.BytesIO(latin1), encoding="utf-8", errors="surrogateescape")
    monkeypatch.setattr(sys, "stdin", stdin)
    assert main([command, "-", "--today", "2026-06-15"]) == 2
    line = only_line(capsys)  # placed (tests/test_not_utf8_where.py), never quoted
    assert line.startswith(f"painplan {command}: standard input is not UTF-8 text (byte 0xe9 at line 1, column ")
    assert "comprim" not in line


def test_stdin_in_utf8_with_a_byte_order_mark_is_read(monkeypatch, capsys):
    order = json.dumps(OXYCODONE_ORDER).encode("utf-8-sig")
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(order), encoding="utf-8", errors="surrogateescape"))
    assert main(["mme", "-", "--today", "2026-06-15"]) == 0
    assert json.loads(capsys.readouterr().out)["current_total_mme"] == 30.0


@pytest.mark.parametrize("command", ["mme", "check"])
def test_an_empty_input_name_is_refused_not_read_as_standard_input(command, monkeypatch, capsys):
    # `painplan mme "$REQUEST"` with the variable unset read standard input instead: at a terminal it waited without
    # a word; in a script it read whatever was piped to the script, or said "the input is empty".
    monkeypatch.setattr(sys, "stdin", io.StringIO(json.dumps(OXYCODONE_ORDER)))
    assert main([command, "", "--today", "2026-06-15"]) == 2
    assert only_line(capsys) == f"painplan {command}: the input's name is empty: give a file, or - for standard input"


def test_mme_reads_the_sites_settings_file_as_every_other_command_does(tmp_path, capsys):
    # `painplan mme --config site.toml` was refused ("unrecognized arguments"): only PAINPLAN_CONFIG reached it, so a
    # site checking a total by hand had to know the variable, or got the default profile's answer.
    config = tmp_path / "site.toml"
    config.write_text('[guideline.mme]\nprofile = "cdc2016"\n')
    order = tmp_path / "order.json"
    order.write_text(json.dumps(OXYCODONE_ORDER))
    assert main(["mme", str(order), "--config", str(config), "--today", "2026-06-15"]) == 0
    assert json.loads(capsys.readouterr().out)["profile"] == "cdc2016"
    config.write_text('[guideline.mme]\nprofile = "cdc2099"\n')
    assert main(["mme", str(order), "--config", str(config)]) == 2
    assert only_line(capsys) == "painplan mme: mme.profile must be cdc2022 or cdc2016"


def split_fills(folder: Path, held: dict[str, int]) -> None:
    """A big type split over three files, as a server splits it: the manifest lists 3 of MedicationDispense (2, 3 and
    2 fills); `held` is the files the folder holds, each with how many fills it holds."""
    exported_quarter(folder)
    manifest(folder, [
        {"type": "Patient", "url": f"{FILES}/Patient.ndjson", "count": 1},
        {"type": "MedicationRequest", "url": f"{FILES}/MedicationRequest.ndjson", "count": 1},
        {"type": "MedicationDispense", "url": f"{FILES}/MedicationDispense.000.ndjson", "count": 2},
        {"type": "MedicationDispense", "url": f"{FILES}/MedicationDispense.001.ndjson", "count": 3},
        {"type": "MedicationDispense", "url": f"{FILES}/MedicationDispense.002.ndjson", "count": 2},
    ])  # fmt: skip
    for number, (name, lines) in enumerate(held.items()):
        write_ndjson(folder, name, fills(lines, 10 * number))


def test_one_of_the_files_a_manifest_lists_of_a_type_missing_from_input_is_named(tmp_path, capsys):
    # The download of the second of three fill files was interrupted: the run read the other two and said nothing,
    # three of seven fills silently lost.
    folder = tmp_path / "in"
    split_fills(folder, {"MedicationDispense.000": 2, "MedicationDispense.002": 2})
    code, lines, quality = review_of(folder, capsys)
    assert quality["input_files_not_read"] == {
        "manifest.json: the export's manifest lists MedicationDispense file MedicationDispense.001.ndjson "
        "(3 resources), and INPUT holds no such file: not read": 1
    }
    assert code == 3 and lines[-1].startswith("not read (exit status 3): 1 input file (manifest.json")
    assert quality["resources_by_type"]["MedicationDispense"] == 4  # the files there are still reviewed


def test_a_file_holding_fewer_lines_than_its_manifest_count_is_named(tmp_path, capsys):
    # A copy cut off at a line break: the file reads whole, but holds 1 of the 3 fills the server wrote to it.
    folder = tmp_path / "in"
    split_fills(folder, {"MedicationDispense.000": 2, "MedicationDispense.001": 1, "MedicationDispense.002": 2})
    code, _, quality = review_of(folder, capsys)
    assert quality["input_files_not_read"] == {
        "MedicationDispense.001.ndjson: holds 1 line, and the export's manifest (manifest.json) says the server wrote "
        "3 MedicationDispense resources to it: cut off?": 1
    }
    assert code == 3


def test_files_saved_under_the_names_painplans_export_gives_them_are_found(tmp_path, capsys):
    # `--export` saves each file as <number>.<type>.ndjson, whatever the url's name: every file is there.
    folder = tmp_path / "in"
    write_ndjson(folder, "0000.Patient", [practitioner("er-doc"), organization("ph1"), patient("A")])
    write_ndjson(folder, "0001.MedicationDispense", fills(2, 0))
    write_ndjson(folder, "0002.MedicationDispense", fills(3, 10))
    manifest(folder, [
        {"type": "Patient", "url": f"{FILES}/a7f3", "count": 3},
        {"type": "MedicationDispense", "url": f"{FILES}/b81c", "count": 2},
        {"type": "MedicationDispense", "url": f"{FILES}/c9d2", "count": 3},
    ])  # fmt: skip
    code, lines, quality = review_of(folder, capsys)
    assert quality["input_files_not_read"] == {} and code == 0
    (folder / "0002.MedicationDispense.ndjson").unlink()
    code, lines, quality = review_of(folder, capsys)
    assert quality["input_files_not_read"] == {
        "manifest.json: the export's manifest lists MedicationDispense file 0002.MedicationDispense.ndjson "
        "(3 resources), and INPUT holds no such file: not read": 1
    }


def test_a_client_that_names_files_its_own_way_is_judged_by_type(tmp_path, capsys):
    # No file the manifest lists is found by name (1.Patient.ndjson, as another client saves them): nothing can be
    # matched file by file, and naming every file missing would be false.
    folder = tmp_path / "in"
    write_ndjson(folder, "1.Patient", [practitioner("er-doc"), organization("ph1"), patient("A")])
    write_ndjson(folder, "2.MedicationDispense", fills(2, 0))
    manifest(folder, [
        {"type": "Patient", "url": f"{FILES}/Patient.ndjson", "count": 3},
        {"type": "MedicationDispense", "url": f"{FILES}/MedicationDispense.ndjson", "count": 2},
    ])  # fmt: skip
    code, lines, quality = review_of(folder, capsys)
    assert quality["input_files_not_read"] == {} and code == 0


def test_a_file_painplans_own_export_listed_but_did_not_download_is_named(tmp_path, capsys):
    # `--export` keeps the manifest in its state file, not beside the files. Its download was interrupted after the
    # first fill file, and the folder was then reviewed without --export: the run read one of two fill files, exit 0.
    folder = tmp_path / "in"
    write_ndjson(folder, "0000.Patient", [practitioner("er-doc"), organization("ph1"), patient("A")])
    write_ndjson(folder, "0001.MedicationDispense", fills(2, 0))
    state = {
        "url": "https://ehr.example.org/fhir/Group/g1/$export",
        "status_url": "https://ehr.example.org/fhir/bulkstatus/7",
        "downloaded": [f"{FILES}/a7f3", f"{FILES}/b81c"],
        "manifest": SAVED_MANIFEST,
    }
    (folder / ".export-state.json").write_text(json.dumps(state, indent=2))
    code, _, quality = review_of(folder, capsys)
    assert quality["input_files_not_read"] == {
        ".export-state.json: the export's manifest lists MedicationDispense file 0002.MedicationDispense.ndjson "
        "(3 resources), and INPUT holds no such file: not read": 1
    }
    assert code == 3
