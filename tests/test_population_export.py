"""`painplan population --export`: SMART Backend Services token, kick-off, polling, manifest, download, resume."""

from __future__ import annotations

import json
import logging
import threading
import time
from urllib.parse import parse_qs

import pytest
import responses
from joserfc import jwt
from joserfc.jwk import RSAKey
from synthetic_export import OXYCODONE_10, dispense, patient, practitioner

from smart_app.cli import main
from smart_app.config import load_settings
from smart_app.population.export import download_export, fhir_base, retry_after
from smart_app.population.progress import Progress

BASE = "https://payer.example.org/fhir"
EXPORT = f"{BASE}/Group/husky-q1/$export"
TOKEN_URL = "https://payer.example.org/auth/token"
STATUS = f"{BASE}/bulkstatus/42"


@pytest.fixture
def key() -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": "painplan-export-1"}, private=True)


@pytest.fixture
def clients_file(tmp_path, key):
    path = tmp_path / "export-clients.json"
    entry = {"iss": BASE, "client_id": "painplan-population", "private_jwk": key.as_dict(private=True),
             "scope": "system/*.read"}  # fmt: skip
    path.write_text(json.dumps([entry]))
    return path


def requests_connection_error() -> Exception:
    import requests

    return requests.ConnectionError("refused")


def _ndjson(*resources) -> str:
    return "".join(json.dumps(r) + "\n" for r in resources)


def _server(key: RSAKey, status_answers: int = 2, errors: tuple[tuple[int, str], ...] = ()) -> dict[str, int]:
    """A Bulk Data server with three data files and, for each of `errors` (HTTP status, body), an error file."""
    calls = {"token": 0, "kickoff": 0, "status": 0, "download": 0, "errors": 0}
    responses.get(f"{BASE}/.well-known/smart-configuration", json={"token_endpoint": TOKEN_URL})

    def token(request):
        form = parse_qs(request.body)
        assert form["grant_type"] == ["client_credentials"] and form["scope"] == ["system/*.read"]
        assert form["client_assertion_type"] == ["urn:ietf:params:oauth:client-assertion-type:jwt-bearer"]
        decoded = jwt.decode(form["client_assertion"][0], key, algorithms=["RS384"])
        assert decoded.header["alg"] == "RS384" and decoded.header["kid"] == "painplan-export-1"
        assert decoded.claims["iss"] == decoded.claims["sub"] == "painplan-population"
        assert decoded.claims["aud"] == TOKEN_URL and decoded.claims["exp"] - decoded.claims["iat"] <= 300
        calls["token"] += 1
        return 200, {}, json.dumps({"access_token": "secret-token", "token_type": "bearer", "expires_in": 300})

    def kickoff(request):
        assert (
            request.headers["Prefer"].split(",")[0] == "respond-async"
            and request.headers["Authorization"] == "Bearer secret-token"
        )
        assert "_type=Patient" in request.url
        calls["kickoff"] += 1
        return 202, {"Content-Location": STATUS}, ""

    def status(request):
        calls["status"] += 1
        if calls["status"] < status_answers:
            return 202, {"Retry-After": "3", "X-Progress": "50% done"}, ""
        manifest = {
            "transactionTime": "2026-04-02T00:00:00Z",
            "requiresAccessToken": True,
            "output": [
                {"type": kind, "url": f"{BASE}/files/{n}"}
                for n, kind in ((1, "Patient"), (2, "MedicationDispense"), (3, "Practitioner"))
            ],
            "error": [
                {"type": "OperationOutcome", "url": f"{BASE}/files/err{n}?sig=s3cr3t"} for n in range(len(errors))
            ],
        }  # fmt: skip
        return 200, {}, json.dumps(manifest)

    def download(body: str):
        def answer(request):
            assert request.headers["Authorization"] == "Bearer secret-token"
            calls["download"] += 1
            return 200, {}, body

        return answer

    responses.add_callback(responses.POST, TOKEN_URL, callback=token)
    responses.add_callback(responses.GET, EXPORT, callback=kickoff, match=[])
    responses.add_callback(responses.GET, STATUS, callback=status)
    responses.add_callback(
        responses.GET, f"{BASE}/files/1", callback=download(_ndjson(patient("p1", gp="Practitioner/drA")))
    )
    fills = [
        dispense(f"f{n}", "p1", OXYCODONE_10, day, 180, 30, "drA", "ph1")
        for n, day in ((1, "2026-01-05"), (2, "2026-02-04"))
    ]
    responses.add_callback(responses.GET, f"{BASE}/files/2", callback=download(_ndjson(*fills)))
    responses.add_callback(responses.GET, f"{BASE}/files/3", callback=download(_ndjson(practitioner("drA"))))
    for n, (status_code, body) in enumerate(errors):

        def error_file(request, status_code=status_code, body=body):
            assert request.headers["Authorization"] == "Bearer secret-token"  # requiresAccessToken covers it too
            calls["errors"] += 1
            return status_code, {}, body

        responses.add_callback(responses.GET, f"{BASE}/files/err{n}", callback=error_file)
    return calls


def test_fhir_base_and_retry_after():
    assert fhir_base(EXPORT) == BASE and fhir_base(f"{BASE}/Patient/$export?_since=2026-01-01") == BASE
    assert retry_after("5") == 5 and retry_after(None) == 10 and retry_after("99999") == 120


@responses.activate
def test_export_then_review(tmp_path, key, clients_file, monkeypatch, capsys):
    calls = _server(key)
    waits: list[float] = []
    real_sleep, caller = time.sleep, threading.current_thread()

    def sleep(seconds: float) -> None:
        # time.sleep is patched for the whole process: a Spark session an earlier test left running sleeps in its
        # own threads, and those waits are not the export's.
        if threading.current_thread() is caller:
            waits.append(seconds)
        else:
            real_sleep(seconds)

    monkeypatch.setattr("smart_app.population.export.time.sleep", sleep)
    monkeypatch.setenv("PAINPLAN_POPULATION_EXPORT_CLIENTS", str(clients_file))
    code = main(["population", "--export", EXPORT, "--out", str(tmp_path / "out"), "--today", "2026-04-15",
                 "--workers", "1"])  # fmt: skip
    assert code == 0, capsys.readouterr().err
    assert calls == {"token": 1, "kickoff": 1, "status": 2, "download": 3, "errors": 0}
    assert waits == [3.0]
    assert "1 cohort patient, " in capsys.readouterr().out
    assert (tmp_path / "out" / "letters" / "drA.html").exists()  # 90 MME/day average: a letter
    assert "secret-token" not in (tmp_path / "out" / "export" / ".export-state.json").read_text()


@responses.activate
def test_resume_polls_the_same_job_and_skips_finished_files(tmp_path, key, clients_file):
    calls = _server(key)
    folder = tmp_path / "export"
    folder.mkdir()
    (folder / "0000.Patient.ndjson").write_text(_ndjson(patient("p1")))
    state = {"url": EXPORT, "status_url": STATUS, "downloaded": [f"{BASE}/files/1"]}
    (folder / ".export-state.json").write_text(json.dumps(state))
    settings = load_settings(env={}, population_export_clients=str(clients_file))
    files = download_export(EXPORT, folder, settings, Progress(quiet=True), sleep=lambda _: None)
    assert calls["kickoff"] == 0 and calls["download"] == 2
    assert [f.name for f in files] == [
        "0000.Patient.ndjson",
        "0001.MedicationDispense.ndjson",
        "0002.Practitioner.ndjson",
    ]


def test_missing_client_is_a_usage_error(tmp_path, capsys):
    code = main(["population", "--export", EXPORT, "--out", str(tmp_path / "out")])
    assert code == 2 and "PAINPLAN_POPULATION_EXPORT_CLIENTS" in capsys.readouterr().err


def _run(tmp_path, clients_file) -> list:
    settings = load_settings(env={}, population_export_clients=str(clients_file))
    return download_export(EXPORT, tmp_path / "export", settings, Progress(quiet=True), sleep=lambda _: None)


def _token_and_kickoff(status: str = STATUS) -> None:
    responses.get(f"{BASE}/.well-known/smart-configuration", json={"token_endpoint": TOKEN_URL})
    responses.post(TOKEN_URL, json={"access_token": "secret-token", "token_type": "bearer", "expires_in": 300})
    responses.get(EXPORT, status=202, headers={"Content-Location": status})


@responses.activate
def test_the_token_never_goes_to_another_host(tmp_path, clients_file):
    # The status URL and the files come from the server's answers: a status or file URL on another host is
    # refused before anything is sent there (found reviewing the export client; it sent the token anywhere).
    elsewhere = "https://files.elsewhere.example/bulk/1"
    _token_and_kickoff(status=elsewhere)
    with pytest.raises(Exception, match="sends its token only to https://payer.example.org/fhir"):
        _run(tmp_path, clients_file)
    assert not [c for c in responses.calls if "elsewhere" in c.request.url]


@responses.activate
def test_a_file_elsewhere_is_fetched_only_when_the_manifest_says_it_needs_no_token(tmp_path, clients_file):
    _token_and_kickoff()
    manifest = {"requiresAccessToken": False, "output": [{"type": "Patient", "url": "https://files.example/p.ndjson"}]}
    responses.get(STATUS, json=manifest)
    responses.get("https://files.example/p.ndjson", body=_ndjson(patient("p1")))
    [downloaded] = _run(tmp_path, clients_file)
    assert downloaded.read_text().startswith('{"resourceType": "Patient"')
    file_call = next(c for c in responses.calls if "files.example" in c.request.url)
    assert "Authorization" not in file_call.request.headers


@pytest.mark.parametrize(
    ("status_answer", "said"),
    [
        ({"body": "<html>busy</html>"}, "the export manifest is not a JSON object (HTTP 200)"),
        ({"json": [1, 2]}, "the export manifest is not a JSON object"),
        ({"body": requests_connection_error()}, "the export could not reach payer.example.org (ConnectionError)"),
    ],
)
@responses.activate
def test_a_broken_status_answer_is_a_one_line_error(tmp_path, clients_file, capsys, monkeypatch, status_answer, said):
    _token_and_kickoff()
    responses.get(STATUS, **status_answer)
    monkeypatch.setenv("PAINPLAN_POPULATION_EXPORT_CLIENTS", str(clients_file))
    code = main(["population", "--export", EXPORT, "--out", str(tmp_path / "out"), "--today", "2026-04-15"])
    err = capsys.readouterr().err
    assert code == 2 and said in err and "Traceback" not in err and "secret-token" not in err


def test_retry_after_that_is_not_a_number_waits_the_default():
    assert retry_after("nan") == 10 and retry_after("inf") == 10 and retry_after("-5") == 0


# ---- the server's error files --------------------------------------------------------------------------------------


def _outcome(severity: str, code: str, diagnostics: str) -> dict:
    return {"resourceType": "OperationOutcome", "issue": [{"severity": severity, "code": code,
                                                            "diagnostics": diagnostics}]}  # fmt: skip


def _export_run(tmp_path, capsys) -> tuple[int, str, dict]:
    code = main(["population", "--export", EXPORT, "--out", str(tmp_path / "out"), "--today", "2026-04-15",
                 "--workers", "1", "--quiet"])  # fmt: skip
    quality = json.loads((tmp_path / "out" / "data-quality.json").read_text())
    return code, capsys.readouterr().out, quality


ERRORS_FILE = ".export-errors/0001.OperationOutcome.ndjson"
LABEL = f"export error file 1 of 1 ({ERRORS_FILE})"


@responses.activate
def test_a_warning_only_error_file_is_listed_as_an_export_warning_and_the_run_exits_0(
    tmp_path, key, clients_file, monkeypatch, capsys
):
    """An Epic-style server that ignores an unsupported _typeFilter says so in a warning OperationOutcome in the
    manifest's `error`: nothing was lost, so the run is whole, and the warning is listed by its severity, code, file
    and line, on this run and on a rerun over the same folder (graded from the saved file, not downloaded again)."""
    warning = _outcome("warning", "not-supported", "_typeFilter not supported, ignored")
    calls = _server(key, errors=((200, _ndjson(warning)),))
    monkeypatch.setattr("smart_app.population.export.time.sleep", lambda _: None)
    monkeypatch.setenv("PAINPLAN_POPULATION_EXPORT_CLIENTS", str(clients_file))
    for _ in range(2):
        code, out, quality = _export_run(tmp_path, capsys)
        assert code == 0, out
        assert quality["export_warnings"] == {f"{LABEL}: warning not-supported at line 1": 1}
        assert quality["input_files_not_read"] == {}
        assert f"{LABEL}: warning not-supported at line 1" in out and "s3cr3t" not in out
        assert out.splitlines()[-1] == "read: every line of every input file"
    assert calls["errors"] == 1


# What an Oracle Health (Cerner) or Epic server writes in its error file: the resource ids, a patient's name and MRN
# in the diagnostics, the expression, and details.text. None of it may reach stdout, stderr, a log record or
# data-quality.json (which the dashboard shows): the file and line are named, and the count, severity and code.
PATIENT_WORDS = ("12724066", "SMART", "NANCY", "fd-88213", "4455667", "Peña", "Maria", "eX9kq2", "s3cr3t")
REALISTIC_ERRORS = (
    {"resourceType": "OperationOutcome", "issue": [{"severity": "information", "code": "informational",
     "diagnostics": "Export of Patient/eX9kq2 (Peña, Maria) took 3 minutes"}]},
    {"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "processing",
     "diagnostics": "Unable to export MedicationDispense/fd-88213 for Patient/12724066 (SMART, NANCY; MRN 4455667):"
                    f" access restricted, see {BASE}/files/err0?sig=s3cr3t",
     "expression": ["MedicationDispense/fd-88213"]}]},
    {"resourceType": "OperationOutcome", "issue": [{"severity": "fatal", "code": "exception",
     "details": {"text": "Patient 12724066 SMART, NANCY: MedicationRequest export failed"}}]},
    {"resourceType": "OperationOutcome", "issue": [{"severity": "warning", "code": "not-supported",
     "diagnostics": "_typeFilter ignored for Patient/eX9kq2"}]},
    {"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "processing",
     "diagnostics": "Patient/eX9kq2 (Peña, Maria): Observation export timed out"}]},
)  # fmt: skip


@responses.activate
def test_an_error_file_names_its_file_lines_and_codes_and_nothing_patient_identifying_reaches_output_or_logs(
    tmp_path, key, clients_file, monkeypatch, capsys, caplog
):
    caplog.set_level(logging.DEBUG)
    _server(key, errors=((200, _ndjson(*REALISTIC_ERRORS)),))
    monkeypatch.setattr("smart_app.population.export.time.sleep", lambda _: None)
    monkeypatch.setenv("PAINPLAN_POPULATION_EXPORT_CLIENTS", str(clients_file))
    out_dir = tmp_path / "out"
    # Not --quiet: the progress lines on stderr are a scheduled job's log too.
    code = main(["population", "--export", EXPORT, "--out", str(out_dir), "--today", "2026-04-15", "--workers", "1"])
    said = capsys.readouterr()
    report = (out_dir / "data-quality.json").read_text(encoding="utf-8")
    quality = json.loads(report)
    assert code == 3
    assert quality["input_files_not_read"] == {
        f"{LABEL}: 3 errors (error processing 2, fatal exception 1) at lines 2, 3 and 5": 1
    }
    assert quality["export_warnings"] == {
        f"{LABEL}: information informational at line 1": 1,
        f"{LABEL}: warning not-supported at line 4": 1,
    }
    assert f"{LABEL}: 3 errors" in said.out.splitlines()[-1]
    records = " ".join(record.getMessage() for record in caplog.records)
    for word in PATIENT_WORDS:
        for where, text in (("stdout", said.out), ("stderr", said.err), ("logs", records), ("report", report)):
            assert word not in text, f"{word!r} reached {where}"
    # The server's words stay in the file it names, in the export folder the analyst controls.
    assert "SMART, NANCY" in (out_dir / "export" / ERRORS_FILE).read_text(encoding="utf-8")


def test_a_warning_per_resource_is_listed_once_per_code_with_its_first_lines(tmp_path):
    """A server that warns once per resource (2,500 lines, one an unknown code): one entry per severity and code,
    counted, with its first lines named and the rest counted, so data-quality.json stays short; an issue code that
    is not FHIR's is not repeated (a server may put anything there)."""
    from smart_app.population.export import grade_error_file

    lines = [_outcome("warning", "not-found", f"Practitioner/pr{n} referenced by Patient/p{n} not exported")
             for n in range(2500)]  # fmt: skip
    lines[7] = _outcome("warning", "Patient p7 restricted", "Patient/p7 restricted")
    path = tmp_path / "0001.OperationOutcome.ndjson"
    path.write_text(_ndjson(*lines))
    graded = grade_error_file(path)
    assert graded.not_read == []
    assert graded.warnings == {
        "warning not-found at lines 1, 2, 3, 4, 5, 6, 7, 9, 10, 11 and 2,489 more": 2499,
        "warning (a code not in FHIR's list) at line 8": 1,
    }


@responses.activate
@pytest.mark.parametrize(
    ("status_code", "body", "said"),
    [
        (500, "", "could not be downloaded (HTTP 500)"),
        (200, "<html>Service Unavailable</html>\n", "could not be read (line 1 is no OperationOutcome)"),
    ],
)
def test_an_error_file_that_cannot_be_downloaded_or_read_is_input_not_read(
    tmp_path, key, clients_file, monkeypatch, capsys, status_code, body, said
):
    _server(key, errors=((status_code, body),))
    monkeypatch.setattr("smart_app.population.export.time.sleep", lambda _: None)
    monkeypatch.setenv("PAINPLAN_POPULATION_EXPORT_CLIENTS", str(clients_file))
    code, out, quality = _export_run(tmp_path, capsys)
    assert code == 3
    (named,) = quality["input_files_not_read"]
    assert named.startswith(f"{LABEL}: ") and said in named, named
    assert "s3cr3t" not in out


def test_an_error_file_is_read_leniently_and_an_issue_with_no_severity_is_an_error(tmp_path):
    """A server that writes its one OperationOutcome pretty-printed, over several lines, with `details.text` for its
    words, a severity in capitals and an issue with no severity: read, and the unknown severity is no warning."""
    from smart_app.population.export import grade_error_file

    outcome = {"resourceType": "OperationOutcome", "issue": [
        {"severity": "WARNING", "code": "not-supported", "details": {"text": "_typeFilter   ignored"}},
        {"code": "processing", "details": {"coding": [{"system": "http://hl7.org/fhir/issue-type",
                                                       "code": "too-costly", "display": "Too costly"}]}},
    ]}  # fmt: skip
    path = tmp_path / "0001.OperationOutcome.ndjson"
    path.write_text(json.dumps(outcome, indent=2))
    graded = grade_error_file(path)
    assert graded.warnings == {"warning not-supported at issue 1": 1}
    assert graded.not_read == ["1 error (no severity processing) at issue 2"]
