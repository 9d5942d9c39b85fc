"""A site's NDC → RxNorm crosswalk: fills and orders sent with an NDC and no name are identified by it."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pytest
from builders import card, med_request, run
from synthetic_export import dispense, medication_concept, patient, write_export

from guideline.config import ConfigError, GuidelineConfig
from guideline.ndc import ndc11
from guideline.population import Period
from smart_app.config import load_settings
from smart_app.ndc_crosswalk import read_crosswalk
from smart_app.population.command import review
from smart_app.population.inputs import ndjson_files

NDC = "http://hl7.org/fhir/sid/ndc"
OXYCODONE_5 = "1049621"
OXYCODONE_NDC = "00406-0512-01"  # an NDC this test's crosswalk maps to oxycodone 5 mg tablets
CROSSWALK = {"ndc": {"rxnorm": {OXYCODONE_NDC: OXYCODONE_5}}}


@pytest.mark.parametrize(
    ("written", "eleven"),
    [
        ("00406-0512-01", "00406051201"),  # 5-4-2
        ("0406-0512-01", "00406051201"),  # 4-4-2
        ("12345-678-90", "12345067890"),  # 5-3-2
        ("12345-6789-0", "12345678900"),  # 5-4-1
        ("00406051201", "00406051201"),  # 11 digits
        ("0406 0512 01", "00406051201"),  # spaces where the hyphens go, as some pharmacy systems print it
        ("00406 0512 01", "00406051201"),
        ("0406-0512 01", None),  # a hyphen and a space: not a layout anyone writes, not guessed
        ("0406051201", None),  # 10 digits without hyphens: three layouts fit, none is guessed
        ("RX-12", None),
    ],
)
def test_an_ndc_in_any_layout_has_one_eleven_digit_form(written: str, eleven: str | None) -> None:
    assert ndc11(written) == eleven


def ndc_order(code: str, **kwargs: object) -> dict:
    order = med_request(OXYCODONE_5, **kwargs)
    order["medicationCodeableConcept"] = {"coding": [{"system": NDC, "code": code}]}
    return order


@pytest.mark.parametrize("code", ["00406-0512-01", "0406-0512-01", "00406051201"])
def test_an_order_known_only_by_its_ndc_is_identified_through_the_crosswalk(code: str) -> None:
    # 2 tablets every 4 hours of oxycodone 5 mg = 90 MME/day.
    draft = ndc_order(code, draft=True, id="d1", dose=2, period=4)
    with_crosswalk = run("order-sign", drafts=[draft], config=CROSSWALK)
    high = card(with_crosswalk, "high-mme")
    assert high is not None and "90.0 MME/day" in high.summary
    assert card(with_crosswalk, "unidentified-medication") is None
    without = run("order-sign", drafts=[draft])
    assert card(without, "high-mme") is None and card(without, "unidentified-medication") is not None


def test_a_crosswalk_entry_that_is_no_ndc_stops_with_its_key_named() -> None:
    with pytest.raises(ConfigError, match=r"ndc\.rxnorm\.0406051201: is not an NDC"):
        GuidelineConfig.from_mapping({"ndc": {"rxnorm": {"0406051201": OXYCODONE_5}}})
    with pytest.raises(ConfigError, match=r"ndc\.rxnorm\.00406-0512-01: must map to an RxNorm code"):
        GuidelineConfig.from_mapping({"ndc": {"rxnorm": {OXYCODONE_NDC: 1049621}}})


def write_csv(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    return path


def test_the_crosswalk_file_is_read_from_the_configuration_folder(tmp_path: Path) -> None:
    write_csv(tmp_path / "ndc.csv", [["NDC", "RXCUI", "name"], [OXYCODONE_NDC, OXYCODONE_5, "oxycodone 5 mg"], []])
    config = tmp_path / "painplan.toml"
    config.write_text('[guideline.ndc]\ncrosswalk_file = "ndc.csv"\n', encoding="utf-8")
    settings = load_settings(config_file=str(config), env={})
    assert settings.guideline["ndc"]["rxnorm"] == {OXYCODONE_NDC: OXYCODONE_5}


def test_a_crosswalk_file_excel_saved_as_csv_utf8_is_read(tmp_path: Path) -> None:
    # Excel's "CSV UTF-8" starts the file with a byte-order mark and ends lines with CRLF: read as text, the mark made
    # the first column "\ufeffndc", and the header was refused as naming no ndc column.
    path = tmp_path / "ndc.csv"
    path.write_bytes(f"ndc,rxcui,name\r\n{OXYCODONE_NDC},{OXYCODONE_5},Percocet\u00ae 5 mg\r\n".encode("utf-8-sig"))
    assert read_crosswalk(path) == {OXYCODONE_NDC: OXYCODONE_5}


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([["ndc", "rxcui"], [OXYCODONE_NDC, "oxycodone"]], r"line 2: 'oxycodone' is not an RxNorm code"),
        ([["ndc", "rxcui"], [OXYCODONE_NDC, OXYCODONE_5], ["0406051201", OXYCODONE_5]], r"line 3: '0406051201'"),
        ([["code", "rxcui"]], "must name the columns ndc and rxcui"),
        ([], "is empty"),
    ],
)
def test_a_crosswalk_file_with_a_bad_row_stops_with_the_key_and_line_named(
    tmp_path: Path, rows: list[list[str]], message: str
) -> None:
    path = write_csv(tmp_path / "ndc.csv", rows)
    with pytest.raises(ConfigError, match=r"guideline\.ndc\.crosswalk_file: .*" + message):
        read_crosswalk(path)


def test_a_crosswalk_file_saved_in_a_windows_code_page_is_named_with_where_as_the_settings_file_is(
    tmp_path: Path,
) -> None:
    # Excel saves "CSV" in Windows-1252: the name column's "Percocet®" is byte 0xae. Before, the codec's own words
    # ("'utf-8' codec can't decode byte 0xae in position 52") named a byte offset, not the line.
    path = tmp_path / "ndc.csv"
    path.write_bytes(f"ndc,rxcui,name\r\n{OXYCODONE_NDC},{OXYCODONE_5},Percocet\xae 5 mg\r\n".encode("cp1252"))
    config = tmp_path / "painplan.toml"
    config.write_text('[guideline.ndc]\ncrosswalk_file = "ndc.csv"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as refused:
        load_settings(config_file=str(config), env={})
    assert str(refused.value) == (
        f"guideline.ndc.crosswalk_file: crosswalk file {path} is not UTF-8 text (byte 0xae at line 2, column 31)"
    )


def test_a_missing_crosswalk_file_stops_with_the_key_named(tmp_path: Path) -> None:
    config = tmp_path / "painplan.toml"
    config.write_text('[guideline.ndc]\ncrosswalk_file = "missing.csv"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"guideline\.ndc\.crosswalk_file: cannot read"):
        load_settings(config_file=str(config), env={})


def test_the_population_review_counts_fills_known_only_by_ndc(tmp_path: Path) -> None:
    """Claims carry an NDC and no name: with the crosswalk the fills are oxycodone, without it they are named as
    unidentified in the data-quality report and the patient is in no measure."""
    fills = [
        dispense(f"f{n}", "p1", None, day, 120, 30, concept=medication_concept(ndc=OXYCODONE_NDC))
        for n, day in enumerate(("2026-01-05", "2026-02-04", "2026-03-06"), 1)
    ]
    write_export(tmp_path / "in", [patient("p1", "1970-01-01"), *fills])

    def rows(config: GuidelineConfig, out: str) -> dict[str, dict[str, str]]:
        period = Period(date(2026, 1, 1), date(2026, 3, 31))
        review(ndjson_files(tmp_path / "in"), tmp_path / out, period, date(2026, 4, 15), config, workers=1)
        with open(tmp_path / out / "patients.csv", encoding="utf-8") as handle:
            return {row["patient_id"]: row for row in csv.DictReader(handle)}

    mapped = rows(GuidelineConfig.from_mapping(CROSSWALK), "mapped")
    assert mapped["p1"]["opioid_fills"] == "3"
    unmapped = rows(GuidelineConfig.from_mapping(), "unmapped")
    assert "p1" not in unmapped
    quality = (tmp_path / "unmapped" / "data-quality.json").read_text(encoding="utf-8")
    assert OXYCODONE_NDC in quality


OXYCODONE_10 = "1049683"


def test_a_crosswalk_table_mapping_one_ndc_in_two_layouts_to_two_products_stops_naming_both() -> None:
    # The CSV file refused this; the table silently kept the entry written last, so a fill of oxycodone 5 mg was read
    # as 10 mg, whichever layout it came in.
    table = {OXYCODONE_NDC: OXYCODONE_5, "00406051201": OXYCODONE_10}
    with pytest.raises(ConfigError) as refused:
        GuidelineConfig.from_mapping({"ndc": {"rxnorm": table}})
    assert (
        "ndc.rxnorm.00406051201: maps the NDC of ndc.rxnorm.00406-0512-01 (to 1049621) to another RxNorm code, 1049683"
    ) in str(refused.value)


def test_a_crosswalk_table_repeating_an_ndc_with_its_own_code_is_read() -> None:
    table = {OXYCODONE_NDC: OXYCODONE_5, "0406-0512-01": OXYCODONE_5, "00406051201": f" {OXYCODONE_5}"}
    config = GuidelineConfig.from_mapping({"ndc": {"rxnorm": table}})
    draft = ndc_order("00406051201", draft=True, id="d1", dose=2, period=4)
    high = card(run("order-sign", drafts=[draft], config=config), "high-mme")
    assert high is not None and "90.0 MME/day" in high.summary


def test_a_table_entry_wins_over_a_crosswalk_file_row_of_the_same_ndc_in_another_layout(tmp_path: Path) -> None:
    # Documented: entries written in ndc.rxnorm win over the file's rows, whatever layout either writes the NDC in.
    write_csv(tmp_path / "ndc.csv", [["ndc", "rxcui"], ["00406051201", OXYCODONE_10]])
    config = tmp_path / "painplan.toml"
    config.write_text(
        f'[guideline.ndc]\ncrosswalk_file = "ndc.csv"\n[guideline.ndc.rxnorm]\n"{OXYCODONE_NDC}" = "{OXYCODONE_5}"\n',
        encoding="utf-8",
    )
    settings = load_settings(config_file=str(config), env={})
    assert settings.guideline["ndc"]["rxnorm"] == {OXYCODONE_NDC: OXYCODONE_5}
