"""Clear one-line messages (exit 2, no traceback) for the command-line cases that used to end in a traceback."""

from __future__ import annotations

import json
import sys
from datetime import date

import pytest
from cds_support import hook_request, oxycodone_draft
from cli_support import only_line

from smart_app.cli import build_parser, main
from smart_app.commands import settings_for


def test_feedback_report_with_a_missing_instance_folder(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("PAINPLAN_INSTANCE_PATH", str(tmp_path / "nowhere"))
    assert main(["feedback-report"]) == 2
    line = only_line(capsys)
    assert line.startswith("painplan feedback-report: the instance folder") and "nowhere" in line


def test_feedback_report_reads_an_existing_instance_folder(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("PAINPLAN_INSTANCE_PATH", str(tmp_path))
    assert main(["feedback-report"]) == 0
    assert "no cards issued yet" in capsys.readouterr().out


def test_a_postgresql_url_without_the_driver_names_the_extra(capsys, monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "psycopg", None)  # as if the postgres extra were not installed
    monkeypatch.setenv("PAINPLAN_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("PAINPLAN_DATABASE_URL", "postgresql://painplan@db.invalid/painplan")
    assert main(["feedback-report"]) == 2
    line = only_line(capsys)
    assert "PAINPLAN_DATABASE_URL" in line and "pip install 'painplan[postgres]'" in line


def test_serve_accepts_today_and_refuses_an_impossible_date(capsys):
    args = build_parser().parse_args(["serve", "--today", "2026-06-15", "--port", "9001"])
    settings = settings_for("serve", args, port=args.port)
    assert settings is not None and settings.today == date(2026, 6, 15)
    assert main(["serve", "--today", "2026-02-30"]) == 2
    assert "--today: '2026-02-30' is not a date" in only_line(capsys)


@pytest.mark.parametrize("server", ["http://launch.smarthealthit.org/v/r4/fhir", "https://ehr.example/fhir"])
def test_check_accepts_an_http_fhir_server_because_it_makes_no_call(server, capsys, tmp_path):
    request = hook_request(drafts=[oxycodone_draft()], fhirServer=server)
    path = tmp_path / "request.json"
    path.write_text(json.dumps(request))
    assert main(["check", str(path), "--today", "2026-06-15"]) == 0
    cards = json.loads(capsys.readouterr().out)["cards"]
    assert cards[0]["source"]["topic"]["code"] == "high-mme"


def test_check_still_refuses_a_malformed_fhir_server(capsys, tmp_path):
    path = tmp_path / "request.json"
    path.write_text(json.dumps(hook_request(drafts=[oxycodone_draft()], fhirServer="not a url")))
    assert main(["check", str(path)]) == 2
    assert "fhirServer" in only_line(capsys)


@pytest.mark.parametrize("command", ["demo", "serve", "check"])
@pytest.mark.parametrize("today", ["0001-01-01", "9999-12-31"])
def test_an_evaluation_date_no_window_can_count_back_from_is_refused_by_name(command, today, capsys, tmp_path):
    # The demo started with --today 0001-01-01 and answered its page with a 500 (its charts count back from the
    # date); the population review ended in a traceback. Every command now stops with the setting named. Settings
    # only for demo and serve: a regression must fail this test, not start a server inside it.
    from guideline.config import ConfigError
    from smart_app.demo import demo_settings

    said = "--today must be a date between 1801 and 2200"  # the option typed, not PAINPLAN_TODAY
    if command == "check":
        request = tmp_path / "request.json"
        request.write_text("{}")
        assert main(["check", "--today", today, str(request)]) == 2 and said in only_line(capsys)
    elif command == "serve":
        args = build_parser().parse_args(["serve", "--today", today, "--port", "9001"])
        assert settings_for("serve", args, port=args.port) is None and said in only_line(capsys)
    else:
        args = build_parser().parse_args(["demo", "--today", today, "--port", "9001"])
        with pytest.raises(ConfigError, match=said):
            demo_settings(args, env={})
