"""Every setting is validated when loaded: a wrong type, range or combination stops each command with exit 2."""

from __future__ import annotations

import json

import pytest
from cds_support import hook_request, oxycodone_draft

from guideline.config import ConfigError, GuidelineConfig
from smart_app.cli import main
from smart_app.config import load_settings


@pytest.mark.parametrize(
    ("override", "named"),
    [
        ({"checks": {"high-mme": {"warning_mme": "fifty"}}}, "checks.high-mme.warning_mme must be a number"),
        ({"checks": {"high-mme": {"warning_mme": 120}}}, "warning_mme (120) must be below"),
        ({"checks": {"high-mme": {"warning_mme": 90}}}, "warning_mme (90) must be below"),
        ({"checks": {"naloxone": {"mme_threshold": -5}}}, "checks.naloxone.mme_threshold must not be negative"),
        ({"checks": {"urine-drug-test": {"lookback_months": 0}}}, "lookback_months must be a positive whole number"),
        ({"checks": {"pdmp-review": {"lookback_days": 2.5}}}, "lookback_days must be a positive whole number"),
        ({"checks": {"acute-duration": {"info_days": 10}}}, "info_days (10) must not be above"),
        ({"checks": {"naloxone": {"hooks": ["order-dispatch"]}}}, "checks.naloxone.hooks has unknown hooks"),
        ({"checks": {"naloxone": {"hooks": "order-sign"}}}, "checks.naloxone.hooks must be a list"),
        ({"checks": {"naloxone": {"enabled": "no"}}}, "checks.naloxone.enabled must be true or false"),
        ({"count_refills_in_supply": "yes"}, "count_refills_in_supply must be true or false"),
        ({"resources": [{"name": "Line", "phone": 18005551212}]}, "resources entry 1 (Line): phone must be text"),
        ({"resources": [{"phone": "1"}]}, "every resources entry needs a name"),
        ({"resources": False}, "resources must be a list of tables"),  # was a TypeError (found by fuzzing settings)
        ({"resources": {"name": "Line"}}, "resources must be a list of tables"),
        ({"current_order_default_days": -1}, "current_order_default_days must not be negative"),
        ({"exclusions": {"hospice_palliative": {"encounter_months": 0}}}, "encounter_months must be a positive"),
        ({"prefetch": {"page_cap": 0}}, "prefetch.page_cap must be a positive"),
        ({"snooze": {"durations": {"pdmp-reviewed": "forever"}}}, "snooze.durations.pdmp-reviewed must read like"),
        ({"ambulatory_categories": "outpatient"}, "ambulatory_categories must be a list"),
        ({"pdmp": {"label": 7}}, "pdmp.label must be text"),
    ],
)
def test_a_bad_clinical_setting_names_its_key_and_reason(override, named):
    with pytest.raises(ConfigError, match=named.replace("(", r"\(").replace(")", r"\)")):
        GuidelineConfig.from_mapping(override)


def test_good_clinical_settings_still_load():
    config = GuidelineConfig.from_mapping(
        {
            "checks": {"high-mme": {"warning_mme": 40, "critical_mme": 80.5}, "naloxone": {"hooks": []}},
            "snooze": {"durations": {"site-reason": "2 weeks"}},
        }
    )
    assert config.check("high-mme")["critical_mme"] == 80.5
    assert config.check("naloxone").hooks == frozenset()


def test_every_problem_is_counted_in_the_message():
    with pytest.raises(ConfigError, match=r"\(and 1 more problems\)"):
        GuidelineConfig.from_mapping({"checks": {"naloxone": {"mme_threshold": -1, "possession_months": -1}}})


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"PAINPLAN_PORT": "70000"}, "PAINPLAN_PORT must be between 1 and 65535"),
        ({"PAINPLAN_PORT": "eighty"}, "PAINPLAN_PORT: cannot read 'eighty'"),
        ({"PAINPLAN_WORKERS": "0"}, "PAINPLAN_WORKERS must be between 1"),
        ({"PAINPLAN_FHIR_TIMEOUT": "-1"}, "PAINPLAN_FHIR_TIMEOUT must be between"),
        ({"PAINPLAN_QUEUE_PATIENCE": "0"}, "PAINPLAN_QUEUE_PATIENCE must be between"),
        ({"PAINPLAN_READ_TIMEOUT": "0"}, "PAINPLAN_READ_TIMEOUT must be between"),
        ({"PAINPLAN_MAX_BODY_BYTES": "10"}, "PAINPLAN_MAX_BODY_BYTES must be between"),
        ({"PAINPLAN_PUBLIC_URL": "painplan.example.org"}, "PAINPLAN_PUBLIC_URL must be an http or https URL"),
        ({"PAINPLAN_PUBLIC_URL": "https://pp.example:port/"}, "PAINPLAN_PUBLIC_URL is not a URL"),
        ({"PAINPLAN_SMART_DEFAULT_ISS": "ftp://ehr"}, "PAINPLAN_SMART_DEFAULT_ISS must be an http or https URL"),
        ({"PAINPLAN_CORS_ORIGINS": "ehr.example"}, "PAINPLAN_CORS_ORIGINS: 'ehr.example' is not"),
        ({"PAINPLAN_FRAME_ANCESTORS": "https://ehr; script-src *"}, "PAINPLAN_FRAME_ANCESTORS"),
        ({"PAINPLAN_AUTH": "maybe"}, "PAINPLAN_AUTH must be required or off"),
        ({"PAINPLAN_LOG_LEVEL": "LOUD"}, "PAINPLAN_LOG_LEVEL must be one of"),
        ({"PAINPLAN_TRUSTED_CLIENTS": "/nowhere/clients.json"}, "PAINPLAN_TRUSTED_CLIENTS: no such file"),
        ({"PAINPLAN_SMART_CLIENTS": "/nowhere/smart.json"}, "PAINPLAN_SMART_CLIENTS: no such file"),
        ({"PAINPLAN_DATABASE_URL": "not a url"}, "PAINPLAN_DATABASE_URL is not a database URL"),
        ({"PAINPLAN_METRICS_TOKEN": "short"}, "PAINPLAN_METRICS_TOKEN must be at least 16"),
        ({"PAINPLAN_POPULATION_TOKEN": "short"}, "PAINPLAN_POPULATION_TOKEN must be at least 16"),
        ({"PAINPLAN_TODAY": "2026-02-30"}, "PAINPLAN_TODAY: cannot read '2026-02-30'"),
        # EHRs send their JWTs and FHIR bearer tokens to public_url: plain http off this machine sends them in clear.
        ({"PAINPLAN_PUBLIC_URL": "http://cds.example.org"}, "PAINPLAN_PUBLIC_URL is plain http on a non-local host"),
    ],
)
def test_a_bad_service_setting_names_its_key(env, named):
    with pytest.raises(ConfigError, match=named.replace("(", r"\(").replace(")", r"\)")):
        load_settings(env=env)


@pytest.mark.parametrize(
    "env",
    [
        {"PAINPLAN_PUBLIC_URL": "https://cds.example.org"},
        {"PAINPLAN_PUBLIC_URL": "http://127.0.0.1:8765"},
        {"PAINPLAN_PUBLIC_URL": "http://localhost:8765"},
        {"PAINPLAN_PUBLIC_URL": "http://cds.test.internal", "PAINPLAN_ALLOW_HTTP": "true"},  # a test network, said so
    ],
)
def test_an_https_local_or_allowed_http_public_url_loads(env):
    assert load_settings(env=env).public_url == env["PAINPLAN_PUBLIC_URL"]


def test_a_client_file_that_is_not_json_stops_loading(tmp_path):
    path = tmp_path / "clients.json"
    path.write_text("{not json")
    with pytest.raises(ConfigError, match="PAINPLAN_TRUSTED_CLIENTS: cannot read trusted clients file"):
        load_settings(env={"PAINPLAN_TRUSTED_CLIENTS": str(path)})


@pytest.fixture
def bad_config(tmp_path):
    path = tmp_path / "painplan.toml"
    path.write_text('[guideline.checks.high-mme]\nwarning_mme = "fifty"\n')
    return path


def one_line_error(capsys) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    return lines[0]


@pytest.mark.parametrize("command", ["serve", "check", "feedback-report"])
def test_a_bad_setting_stops_each_command_with_exit_2(command, bad_config, capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("PAINPLAN_INSTANCE_PATH", str(tmp_path))
    request = tmp_path / "request.json"
    request.write_text(json.dumps(hook_request(drafts=[oxycodone_draft()])))
    argv = [command, "--config", str(bad_config)] + ([str(request)] if command == "check" else [])
    assert main(argv) == 2
    line = one_line_error(capsys)
    assert line.startswith(f"painplan {command}: ") and "checks.high-mme.warning_mme must be a number" in line


def test_a_bad_setting_stops_the_demo_with_exit_2(bad_config, capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("PAINPLAN_CONFIG", str(bad_config))
    monkeypatch.setenv("PAINPLAN_INSTANCE_PATH", str(tmp_path))
    assert main(["demo", "--port", "1"]) == 2
    assert "checks.high-mme.warning_mme" in one_line_error(capsys)


def test_an_impossible_demo_date_is_one_line(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("PAINPLAN_INSTANCE_PATH", str(tmp_path))
    assert main(["demo", "--today", "2026-02-30"]) == 2
    assert "--today: '2026-02-30' is not a date YYYY-MM-DD" in one_line_error(capsys)


def test_a_bad_environment_value_stops_serve(capsys, monkeypatch):
    monkeypatch.setenv("PAINPLAN_PORT", "0")
    assert main(["serve"]) == 2
    assert one_line_error(capsys) == "painplan serve: PAINPLAN_PORT must be between 1 and 65535, not 0"


def test_the_app_defaults_are_each_face_s_own_defaults() -> None:
    """A face's settings left unset mean the same in `painplan serve` as in the face used on its own."""
    from cds_hooks.settings import CdsSettings
    from launch.settings import LaunchSettings
    from smart_app.config import Settings

    assert Settings().cds == CdsSettings()
    assert Settings().launch == LaunchSettings()


@pytest.mark.parametrize(
    ("variable", "hint"),
    [
        ("PAINPLAN_TRUSTED_CLIENT", "did you mean PAINPLAN_TRUSTED_CLIENTS?"),
        ("PAINPLAN_FHIR_TIMOUT", "did you mean PAINPLAN_FHIR_TIMEOUT?"),
        ("PAINPLAN_TIMEZONE", "set in the TOML file's [guideline] table"),
    ],
)
def test_an_unknown_painplan_variable_is_refused_with_its_name(variable, hint, tmp_path):
    # A misspelt variable was ignored without a word: PAINPLAN_TRUSTED_CLIENT left every EHR call refused, and a
    # timezone set by a variable that does not exist left every "today" in Connecticut's zone.
    with pytest.raises(ConfigError) as raised:
        load_settings({variable: "x", "PAINPLAN_INSTANCE_PATH": str(tmp_path)})
    assert str(raised.value).startswith(f"unknown setting {variable}") and hint in str(raised.value)


def test_an_unknown_painplan_variable_stops_a_command_in_one_line(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("PAINPLAN_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("PAINPLAN_AUTH_MODE", "off")
    request = tmp_path / "request.json"
    request.write_text(json.dumps(hook_request(drafts=[oxycodone_draft()])))
    assert main(["check", str(request)]) == 2
    assert one_line_error(capsys).startswith("painplan check: unknown setting PAINPLAN_AUTH_MODE")


def test_known_variables_and_the_config_path_are_accepted(tmp_path):
    env = {"PAINPLAN_CONFIG": "", "PAINPLAN_PORT": "9000", "PAINPLAN_INSTANCE_PATH": str(tmp_path), "OTHER": "1"}
    assert load_settings(env).port == 9000


@pytest.mark.parametrize(
    ("toml", "named"),
    [
        ("goal_due_years = 2.5", "PAINPLAN_GOAL_DUE_YEARS: cannot read 2.5 (not a whole number)"),
        ("workers = true", "PAINPLAN_WORKERS: cannot read True (true or false is not a number)"),
        ("port = [8765]", "PAINPLAN_PORT: cannot read [8765]"),
        ("read_timeout = nan", "PAINPLAN_READ_TIMEOUT: cannot read nan (not a finite number)"),
        ("read_timeout = false", "PAINPLAN_READ_TIMEOUT: cannot read False (true or false is not a number)"),
        ("public_url = 8765", "PAINPLAN_PUBLIC_URL: cannot read 8765 (must be text)"),
        ("today = 2026-06-15T10:00:00", "PAINPLAN_TODAY: cannot read datetime.datetime(2026, 6, 15, 10, 0) (a date"),
        ("frame_ancestors = [1]", "PAINPLAN_FRAME_ANCESTORS: cannot read [1] (every item must be text)"),
        ("today = 2026-06-15", None),
        ('cors_origins = "https://ehr.example.org"', None),  # text for a list is a list of one: still read
    ],
)
def test_a_setting_of_the_wrong_toml_type_is_refused_not_rounded_or_turned_into_text(toml, named, tmp_path):
    """A TOML value of the wrong type was turned into the setting's type without a word: goal_due_years = 2.5 became
    2, workers = true became 1, public_url = 8765 became the text "8765", and a list for a number was a traceback."""
    config = tmp_path / "painplan.toml"
    config.write_text(toml + "\n")
    env = {"PAINPLAN_INSTANCE_PATH": str(tmp_path)}
    if named is None:
        load_settings(env, config_file=config)
        return
    with pytest.raises(ConfigError, match=named.replace("(", r"\(").replace(")", r"\)").replace("[", r"\[")):
        load_settings(env, config_file=config)


def test_a_whole_number_written_as_a_decimal_is_read():
    """goal_due_years = 3.0 is three years: refusing it would only be pedantic."""
    assert load_settings({}, goal_due_years=3.0).goal_due_years == 3
