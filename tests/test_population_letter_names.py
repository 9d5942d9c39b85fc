"""Letters name prescribers and pharmacies as a reader knows them: the directory's names, or plainly a number not in
the directory, never the export's internal ids."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from synthetic_export import OXYCODONE_10, dispense, organization, patient
from test_population_letters import run_letters, text_of

from guideline.population.model import Directory

NPI = "http://hl7.org/fhir/sid/us-npi"
SMITH = "Dr. Jane Q. Smith, MD"


def smith() -> dict:
    """A Practitioner as Epic sends one: the name in parts, no text."""
    return {
        "resourceType": "Practitioner",
        "id": "drJ",
        "identifier": [{"system": NPI, "value": "1234567893"}],
        "name": [{"use": "official", "prefix": ["Dr."], "given": ["Jane", "Q."], "family": "Smith", "suffix": ["MD"]}],
    }


def main_street() -> dict:
    return {"resourceType": "Organization", "id": "ph-ms", "name": "Main Street Pharmacy"}


def by_npi(fill: dict, number: str, kind: str) -> dict:
    """The fill's performer of `kind` named by NPI alone, as a payer's feed names it."""
    performers = [p for p in fill["performer"] if not p["actor"].get("reference", "").startswith(f"{kind}/")]
    fill["performer"] = [*performers, {"actor": {"type": kind, "identifier": {"system": NPI, "value": number}}}]
    return fill


def high_dose(pid: str, prescriber: str, pharmacy: str) -> list[dict]:
    """90 MME/day for 60 days (the OHD numerator)."""
    return [
        dispense(f"{pid}-1", pid, OXYCODONE_10, "2026-01-05", 180, 30, prescriber, pharmacy),
        dispense(f"{pid}-2", pid, OXYCODONE_10, "2026-02-04", 180, 30, prescriber, pharmacy),
    ]


@pytest.fixture(scope="module")
def letters(tmp_path_factory) -> Path:
    # Adams's PCP is Dr Smith, who prescribed at Main Street; Baker's PCP too, whose fills name a prescriber and a
    # pharmacy by NPI alone, neither in the export. Carter (no PCP) got hers from drC2, of whom the export holds no
    # Practitioner; Diaz (no PCP) from a clinician named by NPI alone.
    unknown_both = [by_npi(by_npi(f, "1902000020", "Practitioner"), "1902000012", "Organization")
                    for f in high_dose("pb", "drX", "phX")]  # fmt: skip
    unknown_prescriber = [by_npi(f, "1902000038", "Practitioner") for f in high_dose("pd", "drX", "ph-ms")]
    return run_letters(
        tmp_path_factory.mktemp("names"),
        [
            smith(),
            main_street(),
            patient("pa", "1970-01-01", "Practitioner/drJ", "Adams"),
            *high_dose("pa", "drJ", "ph-ms"),
            patient("pb", "1970-01-01", "Practitioner/drJ", "Baker"),
            *unknown_both,
            patient("pc", "1970-01-01", None, "Carter"),
            *high_dose("pc", "drC2", "ph-ms"),
            patient("pd", "1970-01-01", None, "Diaz"),
            *unknown_prescriber,
        ],
    )


def patient_text(html: str, name: str) -> str:
    """The text of one listed patient's section of the letter."""
    return next(text_of(part) for part in html.split('<section class="patient">')[1:] if name in part.split("</h4>")[0])


def test_a_fill_names_its_prescriber_and_pharmacy_by_their_names(letters):
    # Before: "(prescriber drJ, pharmacy ph-ms)".
    html = (letters / "drJ.html").read_text()
    assert "To: Dr. Jane Q. Smith, MD" in text_of(html)
    adams = patient_text(html, "Adams")
    assert f"prescriber {SMITH}; pharmacy Main Street Pharmacy" in adams
    assert "drJ" not in adams and "ph-ms" not in adams


def test_a_number_not_in_the_directory_is_said_plainly(letters):
    # Before: "(prescriber npi-1902000020, pharmacy npi-1902000012)".
    baker = patient_text((letters / "drJ.html").read_text(), "Baker")
    assert (
        "prescriber a clinician with NPI 1902000020 not in our directory; "
        "pharmacy a pharmacy with NPI 1902000012 not in our directory"
    ) in baker
    assert "npi-" not in baker


def test_a_letter_to_a_prescriber_not_in_the_directory_says_what_is_known(letters):
    # Before: "To: Clinician npi-1902000038" and "To: Clinician drC2".
    diaz = text_of((letters / "npi-1902000038.html").read_text())
    assert "To: A clinician with NPI 1902000038 not in our directory" in diaz and "npi-" not in diaz
    carter = text_of((letters / "drC2.html").read_text())
    assert "To: A clinician not in our directory" in carter and "drC2" not in carter
    index = text_of((letters / "index.html").read_text())
    assert "Clinician npi-" not in index and "Clinician drC2" not in index


def test_a_role_is_named_by_its_clinician_or_its_organisation():
    from guideline.population.actors import clinician_name, pharmacy_name

    directory = Directory(
        roles={"r1": ("drJ", "org1"), "r2": (None, "org1"), "r3": ("gone", None)},
        names={"Practitioner/drJ": SMITH, "Organization/org1": "Fair Haven Community Health Center"},
    )
    assert clinician_name("PractitionerRole/r1", directory) == SMITH
    assert clinician_name("PractitionerRole/r2", directory) == (
        "a clinician of Fair Haven Community Health Center not in our directory"
    )
    assert clinician_name("PractitionerRole/r3", directory) == "a clinician not in our directory"
    assert clinician_name(None, directory) == "unknown"
    assert pharmacy_name("Organization/org1", directory) == "Fair Haven Community Health Center"
    assert pharmacy_name("Organization/ncpdp-0123456", directory) == (
        "a pharmacy with NCPDP number 0123456 not in our directory"
    )
    assert pharmacy_name("Location/shop", directory) == "a pharmacy not in our directory"


def test_the_dashboard_lists_each_letter_by_whom_it_is_to(letters, tmp_path):
    # Before: the list of letters was the files' ids ("drJ", "npi-1902000038", "drC2").
    import base64

    from smart_app import create_app

    token = "population-token-0123456789"
    app = create_app({"instance_path": str(tmp_path), "auth": "off", "population_root": str(letters.parent.parent),
                      "population_token": token})  # fmt: skip
    basic = {"Authorization": "Basic " + base64.b64encode(f"analyst:{token}".encode()).decode()}
    html = app.test_client().get("/population/", headers=basic).get_data(as_text=True)
    listed = html.split('<ul id="letters">')[1].split("</ul>")[0]
    assert f'letters/drJ.html">{SMITH}</a>' in listed
    assert 'letters/npi-1902000038.html">A clinician with NPI 1902000038 not in our directory</a>' in listed
    assert 'letters/drC2.html">A clinician not in our directory</a>' in listed


def dashboard_letters(root: Path, instance: Path) -> tuple[str, str]:
    """The dashboard's list of letters (the <ul>) and what it says above it, for the runs under `root`."""
    import base64

    from smart_app import create_app

    token = "population-token-0123456789"
    app = create_app({"instance_path": str(instance), "auth": "off", "population_root": str(root),
                      "population_token": token})  # fmt: skip
    basic = {"Authorization": "Basic " + base64.b64encode(f"analyst:{token}".encode()).decode()}
    html = app.test_client().get("/population/", headers=basic).get_data(as_text=True)
    section = html.split("<h2>Letters")[1]
    return section.split('<ul id="letters">')[1].split("</ul>")[0], text_of(section.split('<ul id="letters">')[0])


def copied_run(letters: Path, tmp_path: Path) -> Path:
    """A copy of the run under a root of its own, to damage its recipients.json without touching the fixture's."""
    import shutil

    shutil.copytree(letters.parent, tmp_path / "runs" / "2026q1")
    return tmp_path / "runs"


def test_a_missing_recipients_file_is_said_and_the_letters_are_listed_by_file_name(letters, tmp_path):
    # Before: the list fell back to the files' ids ("drC2") and said nothing, so the ids read as names.
    root = copied_run(letters, tmp_path)
    (root / "2026q1" / "letters" / "recipients.json").unlink()
    listed, said = dashboard_letters(root, tmp_path)
    assert (
        "letters/recipients.json is missing (a run written before PainPlan wrote it has none): the list shows the "
        "letters' file names (the export's ids), not whom each is addressed to."
    ) in said
    assert 'letters/drC2.html">drC2</a> (file name)' in listed
    assert SMITH not in listed


@pytest.mark.parametrize(
    ("content", "why"),
    [
        (b'{"drJ": "Dr. Jane', "not JSON"),
        (b"\xff\xfe{}", "not UTF-8"),
        (b'["drJ", "Dr. Jane Q. Smith, MD"]', "not a JSON object"),
    ],
)
def test_an_unreadable_recipients_file_is_said_apart_from_a_missing_one(letters, tmp_path, content, why):
    root = copied_run(letters, tmp_path)
    (root / "2026q1" / "letters" / "recipients.json").write_bytes(content)
    listed, said = dashboard_letters(root, tmp_path)
    assert (
        f"letters/recipients.json could not be read ({why}): the list shows the letters' file names (the export's "
        "ids), not whom each is addressed to."
    ) in said
    assert "missing" not in said
    assert 'letters/drJ.html">drJ</a> (file name)' in listed


def test_a_letter_the_recipients_file_names_no_one_for_is_marked(letters, tmp_path):
    # A file cut short by hand, or with an entry that is no name: the other letters keep their names.
    root = copied_run(letters, tmp_path)
    path = root / "2026q1" / "letters" / "recipients.json"
    names = json.loads(path.read_text(encoding="utf-8"))
    del names["drC2"]
    names["npi-1902000038"] = None
    path.write_text(json.dumps(names), encoding="utf-8")
    listed, said = dashboard_letters(root, tmp_path)
    assert (
        "letters/recipients.json names no one for 2 letters: they are listed by their file names (the export's "
        'ids), marked "file name".'
    ) in said
    assert 'letters/drC2.html">drC2</a> (file name)' in listed
    assert 'letters/npi-1902000038.html">npi-1902000038</a> (file name)' in listed
    assert f'letters/drJ.html">{SMITH}</a>\n (<a' in listed  # no "(file name)"


def test_a_whole_recipients_file_says_nothing_above_the_list(letters, tmp_path):
    listed, said = dashboard_letters(letters.parent.parent, tmp_path)
    assert "recipients.json" not in said and "(file name)" not in listed


def test_a_claim_names_its_prescriber_and_pharmacy_by_their_displays(tmp_path):
    # A Part D claim names both by NPI alone, neither in the export's directory, with a display each: before,
    # "(prescriber npi-1111111112, pharmacy npi-9999999991)".
    from synthetic_export import write_export
    from test_population_claims import CONFIG, part_d_event
    from test_population_measures import PERIOD, TODAY

    from guideline.config import GuidelineConfig
    from smart_app.population.command import review
    from smart_app.population.inputs import ndjson_files

    claims = [part_d_event("c1", "pe", "2026-01-05"), part_d_event("c2", "pe", "2026-02-04")]
    for claim in claims:
        claim["careTeam"][0]["provider"]["display"] = "Jane Roe, NP"
        claim["provider"]["display"] = "Corner Drug #12"
    write_export(tmp_path / "in", [smith(), patient("pe", "1970-01-01", "Practitioner/drJ", "Evans"), *claims])
    review(ndjson_files(tmp_path / "in"), tmp_path / "out", PERIOD, TODAY, GuidelineConfig.from_mapping(CONFIG),
           workers=1)  # fmt: skip
    evans = patient_text((tmp_path / "out" / "letters" / "drJ.html").read_text(), "Evans")
    assert "(prescriber Jane Roe, NP; pharmacy Corner Drug #12)" in evans and "npi-" not in evans


TIN = "urn:oid:2.16.840.1.113883.4.4"  # the IRS's, as CARIN Blue Button names a practice's tax id


def assigned_to(pid: str, name: str, practice: dict) -> dict:
    """A Patient assigned to a practice for primary care, with no clinician named (a Medicaid or FQHC panel)."""
    return {**patient(pid, "1970-01-01", None, name), "generalPractitioner": [practice]}


@pytest.fixture(scope="module")
def practice_letters(tmp_path_factory) -> Path:
    # Each patient is assigned to a practice the export holds no Organization for: by reference (a payer's own id),
    # by NPI alone and by tax id alone, as a payer's attribution file names practices.
    return run_letters(
        tmp_path_factory.mktemp("practices"),
        [
            main_street(),
            assigned_to("pf", "Foster", {"reference": "Organization/orgGone"}),
            *high_dose("pf", "drX", "ph-ms"),
            assigned_to("pg", "Garcia", {"type": "Organization", "identifier": {"system": NPI, "value": "1902000046"}}),
            *high_dose("pg", "drX", "ph-ms"),
            assigned_to("ph", "Hughes", {"type": "Organization", "identifier": {"system": TIN, "value": "06-1234567"}}),
            *high_dose("ph", "drX", "ph-ms"),
            # And one the export holds, its tax id written without the hyphen the patient's reference writes.
            {
                **organization("orgElm", "Elm Street Family Practice"),
                "identifier": [{"system": TIN, "value": "067654321"}],
            },
            assigned_to("pi", "Ivers", {"type": "Organization", "identifier": {"system": TIN, "value": "06-7654321"}}),
            *high_dose("pi", "drX", "ph-ms"),
        ],
    )


def test_a_letter_to_a_practice_not_in_the_directory_says_what_is_known(practice_letters):
    # Before: "To: Practice orgGone", "To: Practice npi-1902000046", "To: Practice urn-oid-2.16.840.1.113883.4.4-…".
    by_npi = text_of((practice_letters / "practice-npi-1902000046.html").read_text())
    assert "To: A practice with NPI 1902000046 not in our directory" in by_npi and "npi-" not in by_npi
    by_tin = text_of((practice_letters / "practice-tin-061234567.html").read_text())
    assert "To: A practice with TIN 061234567 not in our directory" in by_tin and "tin-" not in by_tin
    # Neither a name nor a number: what the export calls it, said as its id, so the letter can be placed.
    by_id = text_of((practice_letters / "practice-orgGone.html").read_text())
    assert "To: A practice not in our directory (id orgGone)" in by_id and "Practice orgGone" not in by_id
    index = text_of((practice_letters / "index.html").read_text())
    assert "Practice orgGone" not in index and "Practice npi-" not in index
    # Before: "To: Practice urn-oid-2.16.840.1.113883.4.4-06-7654321", the Organization not found.
    assert "To: Elm Street Family Practice" in text_of((practice_letters / "practice-orgElm.html").read_text())
    recipients = json.loads((practice_letters / "recipients.json").read_text())
    assert recipients["practice-npi-1902000046"] == "A practice with NPI 1902000046 not in our directory"


def test_a_practice_is_named_by_the_clinicians_rule():
    from guideline.population.actors import practice_name

    directory = Directory(names={"Organization/org1": "Fair Haven Community Health Center"})
    assert practice_name("Organization/org1", directory) == "Fair Haven Community Health Center"
    assert practice_name("Organization/npi-1902000046", directory) == (
        "a practice with NPI 1902000046 not in our directory"
    )
    assert (
        practice_name("Organization/tin-061234567", directory) == "a practice with TIN 061234567 not in our directory"
    )
    assert practice_name("Organization/orgGone", directory) == "a practice not in our directory (id orgGone)"
