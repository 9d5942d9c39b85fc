"""A person whose record an MPI merge or a re-enrolment replaced (Patient.link replaced-by / replaces) is one patient
in the review: their fills under the old id and the new are read together, as the newest record's patient."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from synthetic_export import OXYCODONE_5, dispense, patient, practitioner, urine_test, write_export
from test_population_measures import PERIOD, TODAY

from guideline.config import GuidelineConfig
from guideline.population.links import read_links, resolve_links
from smart_app.population.command import review
from smart_app.population.inputs import ndjson_files
from smart_app.population.worker import line_keys

EVERYONE = frozenset({"A", "B", "C", "D", "E"})


def linked(ident: str, links: list[tuple[str, str]], birth: str = "1970-01-01", gp: str | None = None) -> dict:
    """A Patient as an MPI leaves it after a merge: `links` are (type, other patient's reference)."""
    resource = patient(ident, birth, gp)
    resource["link"] = [{"other": {"reference": other}, "type": kind} for kind, other in links]
    return resource


# ---------------------------------------------------------------------------------------------------------------
# What a record states


def test_a_record_states_its_replacement_from_either_side() -> None:
    assert read_links(linked("A", [("replaced-by", "Patient/B")])).pairs == (("A", "B"),)
    assert read_links(linked("B", [("replaces", "Patient/A")])).pairs == (("A", "B"),)
    # Absolute and versioned references, as Epic and Oracle send them, name the same record.
    absolute = linked("A", [("replaced-by", "https://fhir.example.org/R4/Patient/B/_history/3")])
    assert read_links(absolute).pairs == (("A", "B"),)


def test_see_also_refer_and_links_to_other_kinds_are_no_replacement() -> None:
    record = linked("A", [("seealso", "Patient/B"), ("refer", "Patient/C"), ("replaced-by", "RelatedPerson/r1")])
    assert read_links(record).pairs == ()


# ---------------------------------------------------------------------------------------------------------------
# Which records merge


def test_one_side_stating_the_replacement_is_enough() -> None:
    assert resolve_links([("A", "B")], EVERYONE).merged == {"A": "B"}
    both = resolve_links([("A", "B"), ("A", "B")], EVERYONE)
    assert (both.merged, dict(both.named), both.not_merged) == ({"A": "B"}, {"A → B merged": 1}, 0)


def test_a_chain_collapses_to_its_last_record() -> None:
    merges = resolve_links([("A", "B"), ("B", "C")], EVERYONE)
    assert merges.merged == {"A": "C", "B": "C"}
    assert dict(merges.named) == {"A → C merged (through B)": 1, "B → C merged": 1}


def test_a_record_not_in_the_export_is_not_merged_and_is_named() -> None:
    merges = resolve_links([("A", "X"), ("Y", "B")], EVERYONE)
    assert merges.merged == {}
    assert dict(merges.named) == {
        "A → X not merged (X is not in the export)": 1,
        "Y → B not merged (Y is not in the export)": 1,
    }
    assert merges.not_merged == 2


def test_contradictions_two_replacements_and_loops_are_not_merged() -> None:
    contradiction = resolve_links([("A", "B"), ("B", "A")], EVERYONE)
    assert contradiction.merged == {}
    assert dict(contradiction.named) == {
        "A → B not merged (each record says the other replaces it)": 1,
        "B → A not merged (each record says the other replaces it)": 1,
    }
    two = resolve_links([("A", "B"), ("A", "C")], EVERYONE)
    assert (two.merged, dict(two.named)) == ({}, {"A → B, C not merged (replaced by more than one record)": 1})
    loop = resolve_links([("A", "B"), ("B", "C"), ("C", "A"), ("D", "A")], EVERYONE)
    assert loop.merged == {}
    assert loop.named["A → B not merged (the records replace each other in a loop)"] == 1
    assert loop.named["D → A not merged (A, which replaces it, is not merged)"] == 1
    assert loop.not_merged == 4


def test_a_record_whose_replacement_is_unclear_is_not_merged() -> None:
    merges = resolve_links([("A", "B"), ("B", "C"), ("B", "D"), ("E", "C")], EVERYONE)
    assert merges.merged == {"E": "C"}
    assert merges.named["A → B not merged (B, which replaces it, is not merged)"] == 1


# ---------------------------------------------------------------------------------------------------------------
# The whole run


def test_the_links_reach_both_engines_through_line_keys() -> None:
    keys = json.loads(line_keys(json.dumps(linked("B", [("replaces", "Patient/A"), ("seealso", "Patient/C")]))))
    assert json.loads(keys[4]) == [["A", "B"]]
    assert len(json.loads(line_keys(json.dumps(patient("A"))))) == 4  # the rest of the export: nothing more


def _fills(pid: str, days: tuple[str, ...]) -> list[dict]:
    """Oxycodone 5 mg, 60 tablets for 30 days on each day."""
    return [dispense(f"{pid}-{day}", pid, OXYCODONE_5, day, 60, 30, "drRx", "ph1") for day in days]


def merge_export() -> list[dict]:
    """A member re-enrolled under a new id (OLD → NEW, stated by the new record only), with 60 days' supply under
    each id and the year's drug test under the old one; two records contradicting each other (C1, C2); two records
    of two people naming each other (`seealso`)."""
    return [
        practitioner("drOld"),
        practitioner("drNew"),
        practitioner("drRx"),
        patient("OLD", "1970-01-01", "Practitioner/drOld"),
        linked("NEW", [("replaces", "Patient/OLD")], "1971-05-05", "Practitioner/drNew"),
        *_fills("OLD", ("2025-10-01", "2025-10-31")),
        urine_test("uds-old", "OLD", "2025-10-01"),
        *_fills("NEW", ("2025-12-01", "2025-12-31")),
        linked("C1", [("replaced-by", "Patient/C2")]),
        linked("C2", [("replaced-by", "Patient/C1")]),
        *_fills("C1", ("2025-12-01",)),
        *_fills("C2", ("2026-01-05",)),
        linked("S1", [("seealso", "Patient/S2")]),
        linked("S2", [("seealso", "Patient/S1")]),
        *_fills("S1", ("2026-01-05",)),
        *_fills("S2", ("2026-01-05",)),
    ]


MERGE_NAMED = {
    "OLD → NEW merged": 1,
    "C1 → C2 not merged (each record says the other replaces it)": 1,
    "C2 → C1 not merged (each record says the other replaces it)": 1,
}


def test_a_replaced_record_is_read_as_its_newest_record(tmp_path: Path) -> None:
    write_export(tmp_path / "in", merge_export())
    lines = review(ndjson_files(tmp_path / "in"), tmp_path / "out", PERIOD, TODAY, GuidelineConfig.from_mapping())
    with open(tmp_path / "out" / "patients.csv", encoding="utf-8") as handle:
        rows = {row["patient_id"]: row for row in csv.DictReader(handle)}
    assert sorted(rows) == ["C1", "C2", "NEW", "S1", "S2"]
    new = rows["NEW"]
    # 120 days' supply together (60 under each id alone): long-term use (AMO), its drug test from the old record.
    assert (new["amo_den"], new["amo_num"]) == ("true", "true")
    # The newest record's birth date and PCP, never the old record's.
    assert (new["birth_date"], new["pcp_id"], new["attribution"]) == ("1971-05-05", "drNew", "pcp")
    quality = json.loads((tmp_path / "out" / "data-quality.json").read_text())
    assert quality["linked_patients"] == MERGE_NAMED
    assert quality["linked_patients_not_merged"] == 2
    summary = next(line for line in lines if line.startswith("data quality: "))
    # Patient ids (member ids, in a payer's export) are never printed: the summary counts, data-quality.json names.
    assert "3 patient records replaced by another record (by patient in data-quality.json)" in summary
    assert "OLD → NEW" not in summary and "C1" not in summary
    assert "2 patient records replaced by another record but not merged" in summary


def test_an_export_with_no_links_reads_as_before(tmp_path: Path) -> None:
    write_export(tmp_path / "in", [practitioner("drRx"), patient("p"), *_fills("p", ("2026-01-05",))])
    review(ndjson_files(tmp_path / "in"), tmp_path / "out", PERIOD, TODAY, GuidelineConfig.from_mapping())
    quality = json.loads((tmp_path / "out" / "data-quality.json").read_text())
    assert (quality["linked_patients"], quality["linked_patients_not_merged"]) == ({}, 0)


@pytest.mark.parametrize("kind", ["replaced-by", "replaces"])
def test_either_records_statement_alone_merges(tmp_path: Path, kind: str) -> None:
    states = linked("OLD", [(kind, "Patient/NEW")]) if kind == "replaced-by" else linked("NEW", [(kind, "Patient/OLD")])
    others = patient("NEW") if kind == "replaced-by" else patient("OLD")
    write_export(tmp_path / "in", [practitioner("drRx"), states, others, *_fills("OLD", ("2026-01-05",))])
    review(ndjson_files(tmp_path / "in"), tmp_path / "out", PERIOD, TODAY, GuidelineConfig.from_mapping())
    with open(tmp_path / "out" / "patients.csv", encoding="utf-8") as handle:
        assert [row["patient_id"] for row in csv.DictReader(handle)] == ["NEW"]


# ---------------------------------------------------------------------------------------------------------------
# Links that cannot be read: named, and the rest still merged


def test_a_link_naming_no_record_the_engines_can_file_is_named_not_dropped() -> None:
    record = linked(
        "NEW",
        [
            ("replaces", "Patient/OLD"),
            ("replaces", "Patient/"),  # an MPI that wrote the type and lost the id
            ("replaces", "urn:uuid:5b7f4c2e-8a1d-4c1e-9f0a-2d3c4b5a6e7f"),  # a bundle's local name, no record here
            ("replaces", "Patient/OLD 2"),  # no FHIR id holds a space
            ("replaced-by", "RelatedPerson/r1"),
            ("seealso", "Patient/"),  # no replacement: never read, nothing to name
        ],
    )
    record["link"].append({"type": "replaces", "other": {"identifier": {"system": "urn:mpi", "value": "123"}}})
    read = read_links(record)
    assert read.pairs == (("OLD", "NEW"),)
    assert read.unread == (
        'replaces "Patient/": names no Patient id',
        'replaces "urn:uuid:5b7f4c2e-8a1d-4c1e-9f0a-2d3c4b5a6e7f": names no Patient id',
        'replaces "Patient/OLD 2": an id holding a space, a control character, /, ? or #',
        'replaced-by "RelatedPerson/r1": names no Patient id',
        "replaces (an identifier only): names no Patient id",
    )
    assert read_links(record).pairs == (("OLD", "NEW"),)
    # A lone surrogate escape (a broken \\u) cannot be written as UTF-8 by either engine: named, escaped.
    broken = read_links(linked("NEW", [("replaces", "Patient/OLD"), ("replaces", "Patient/\ud800")]))
    assert broken.pairs == (("OLD", "NEW"),)
    assert broken.unread == ('replaces "Patient/\\ud800": text that is not UTF-8',)
    keys = json.loads(line_keys(json.dumps(linked("NEW", [("replaces", "Patient/OLD"), ("replaces", "Patient/")]))))
    assert (json.loads(keys[4]), json.loads(keys[5])) == (
        [["OLD", "NEW"]],
        ['replaces "Patient/": names no Patient id'],
    )


def unread_links_export() -> list[dict]:
    """The re-enrolled member of `merge_export` whose new record also states two links no engine can file, and a
    record whose one replacement link names no id."""
    export = merge_export()
    new = next(r for r in export if r.get("id") == "NEW")
    new["link"] += [
        {"type": "replaces", "other": {"reference": "Patient/"}},
        {"type": "replaces", "other": {"reference": "Patient/\ud800"}},
    ]
    lost = linked("LOST", [("replaced-by", "Patient/")])
    return [*export, lost, *_fills("LOST", ("2026-01-05",))]


UNREAD_NAMED = {
    'Patient.ndjson: Patient LOST: replaced-by "Patient/": names no Patient id': 1,
    'Patient.ndjson: Patient NEW: replaces "Patient/": names no Patient id': 1,
    'Patient.ndjson: Patient NEW: replaces "Patient/\\ud800": text that is not UTF-8': 1,
}


def test_links_that_cannot_be_read_are_named_and_the_rest_still_merge(tmp_path: Path) -> None:
    # Before, the NEW record's lone surrogate dropped every link it stated (OLD was read apart, nothing said) and
    # "Patient/" was named as a record "not in the export" with no id.
    write_export(tmp_path / "in", unread_links_export())
    lines = review(ndjson_files(tmp_path / "in"), tmp_path / "out", PERIOD, TODAY, GuidelineConfig.from_mapping())
    with open(tmp_path / "out" / "patients.csv", encoding="utf-8") as handle:
        rows = {row["patient_id"]: row for row in csv.DictReader(handle)}
    assert sorted(rows) == ["C1", "C2", "LOST", "NEW", "S1", "S2"]
    assert (rows["NEW"]["amo_den"], rows["NEW"]["amo_num"]) == ("true", "true")  # OLD still merged
    quality = json.loads((tmp_path / "out" / "data-quality.json").read_text())
    assert quality["linked_patients"] == MERGE_NAMED
    assert quality["patient_links_not_read"] == UNREAD_NAMED
    summary = next(line for line in lines if line.startswith("data quality: "))
    assert (
        "3 replacement links between Patient records that could not be read (not merged) "
        "(by patient in data-quality.json)" in summary
    )
