"""The population review writes days as days ("30 days' supply"), as every other face does (`supply.one_place`),
not as an MME with its ".0" ("30.0 days' supply"): in a letter's evidence for an order standing in for a fill, and
in the patients file's evidence for a new start (IOP) and a year's supply (AMO)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from synthetic_export import OXYCODONE_10, order, patient, practitioner, write_export
from test_population_letters import text_of
from test_population_measures import PERIOD, TODAY

from guideline.config import GuidelineConfig
from smart_app.population.command import review
from smart_app.population.inputs import ndjson_files

MONTHS = ("2026-01-05", "2026-02-04", "2026-03-06")


@pytest.fixture(scope="module")
def out(tmp_path_factory) -> Path:
    # Dr Alvarez's patient with no pharmacy fills in the export, only her monthly orders of oxycodone 10 mg,
    # 6 tablets a day (90 MME/day) for 30 days: the orders stand in for the fills.
    folder = tmp_path_factory.mktemp("days")
    write_export(
        folder / "in",
        [
            practitioner("drA", "Dr. Ana Alvarez"),
            patient("p1", "1961-09-30", "Practitioner/drA", "Rivera"),
            *(order(f"rx{n}", "p1", OXYCODONE_10, day, "drA", 6, 30) for n, day in enumerate(MONTHS)),
        ],
    )
    review(ndjson_files(folder / "in"), folder / "out", PERIOD, TODAY, GuidelineConfig.from_mapping(), workers=1)
    return folder / "out"


def test_a_letter_says_an_orders_days_as_days(out):
    letter = text_of((out / "letters" / "drA.html").read_text())
    assert "= 90.0 MME/day (order, 30 days' supply)" in letter
    assert "30.0 days" not in letter


def test_the_patients_file_says_a_starts_and_a_years_days_as_days(out):
    [row] = list(csv.DictReader((out / "patients.csv").open()))
    evidence = json.loads(row["evidence"])
    assert evidence["IOP-HD"][0].endswith("first 3 days: 90.0 MME/day in total, 30 days' supply")
    assert evidence["AMO"][0].startswith("90 days' opioid supply in the 12 months to 2026-03-31;")
    assert ".0 days" not in row["evidence"]


def test_the_patients_file_counts_prescribers_and_pharmacies_in_words_that_agree_with_the_count(out):
    """It said "1 prescribers (Dr. Ana Alvarez) and 0 pharmacies"."""
    [row] = list(csv.DictReader((out / "patients.csv").open()))
    line = json.loads(row["evidence"])["OMP"][0]
    assert line.startswith("1 prescriber (Dr. Ana Alvarez) and 0 pharmacies (none known) across 3 opioid fills")
