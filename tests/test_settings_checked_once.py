"""A command's settings are checked once, with its own values over them: the demo's (authentication off, its own
URL and date) are put over the site's before the one check, so a site's template STU3 refuses is warned of once,
and a bad setting still stops it with the key named."""

from __future__ import annotations

import logging

import pytest

from guideline.config import ConfigError
from smart_app.cli import build_parser
from smart_app.demo import demo_settings

# A site's R4 buprenorphine order saying its course of therapy: STU3's MedicationRequest has no courseOfTherapyType,
# so with the EHR's release read call by call (auto) it is offered to R4 EHRs only, and a warning says so at start.
SITE = """
[[guideline.checks.oud-treatment.suggestions]]
resourceType = "MedicationRequest"
status = "draft"
intent = "proposal"
medicationCodeableConcept = { text = "buprenorphine 8 mg / naloxone 2 mg sublingual film" }
courseOfTherapyType = { coding = [
  { system = "http://terminology.hl7.org/CodeSystem/medicationrequest-course-of-therapy", code = "continuous" },
] }
"""


def site(tmp_path, extra: str = "") -> dict[str, str]:
    config = tmp_path / "site.toml"
    config.write_text(extra + SITE)
    return {"PAINPLAN_CONFIG": str(config), "PAINPLAN_INSTANCE_PATH": str(tmp_path)}


def warnings_of(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if "checks.oud-treatment.suggestions" in r.getMessage()]


def test_the_demo_warns_of_a_template_stu3_refuses_once(tmp_path, caplog):
    # The demo's settings were checked as read, then again with its own values over them: the template models were
    # loaded and the warning logged twice, as if two templates were refused.
    args = build_parser().parse_args(["demo", "--port", "9001", "--today", "2026-06-15"])
    with caplog.at_level(logging.WARNING):
        settings = demo_settings(args, env=site(tmp_path))
    [warning] = warnings_of(caplog)
    assert "entry 1" in warning and "STU3 refuses courseOfTherapyType" in warning
    assert (settings.auth, settings.demo, settings.public_url) == ("off", True, "http://127.0.0.1:9001")
    assert settings.today.isoformat() == "2026-06-15"


@pytest.mark.parametrize(
    ("extra", "typed", "named"),
    [
        (
            'log_level = "LOUD"\n',
            [],
            "PAINPLAN_LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL, not 'LOUD'",
        ),
        ("port = 0\n", [], "PAINPLAN_PORT must be between 1 and 65535, not 0"),
        ("", ["--port", "0"], "--port 0: must be between 1 and 65535"),
        ('today = "0001-01-01"\n', [], "PAINPLAN_TODAY must be a date between 1801 and 2200"),
    ],
)
def test_a_bad_setting_still_stops_the_demo_by_name(extra, typed, named, tmp_path):
    args = build_parser().parse_args(["demo", *typed])
    with pytest.raises(ConfigError) as raised:
        demo_settings(args, env=site(tmp_path, extra))
    assert str(raised.value) == named
