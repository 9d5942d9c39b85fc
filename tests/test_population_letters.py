"""Letters say why each patient is listed: as the clinician's own PCP patient, or as the main prescriber of a patient
with no PCP on record; the index says the same."""

from __future__ import annotations

import re
from html import unescape
from pathlib import Path

import pytest
from synthetic_export import OXYCODONE_10, dispense, patient, practitioner, write_export
from test_population_measures import PERIOD, TODAY

from guideline.config import GuidelineConfig
from smart_app.population.command import review
from smart_app.population.inputs import ndjson_files

PCP_HEADING = "Patients who name you as their primary care clinician"
PRESCRIBER_HEADING = (
    "Patients with no primary care clinician on record whose opioid fills were on your prescriptions at least as "
    "often as on any other clinician's"
)


def high_dose(pid: str, prescriber: str) -> list[dict]:
    """90 MME/day for 60 days (the OHD numerator), from one prescriber at one pharmacy."""
    return [
        dispense(f"{pid}-1", pid, OXYCODONE_10, "2026-01-05", 180, 30, prescriber, "ph1"),
        dispense(f"{pid}-2", pid, OXYCODONE_10, "2026-02-04", 180, 30, prescriber, "ph1"),
    ]


def run_letters(folder: Path, resources: list[dict]) -> Path:
    write_export(folder / "in", resources)
    review(ndjson_files(folder / "in"), folder / "out", PERIOD, TODAY, GuidelineConfig.from_mapping(), workers=1)
    return folder / "out" / "letters"


def text_of(html: str) -> str:
    """What a reader sees: the tags taken out, entities read ("clinician&#39;s" is "clinician's")."""
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip())


def intro_of(html: str) -> str:
    return text_of(re.search(r'<p class="note" id="intro">(.*?)</p>', html, re.S).group(1))


def groups_of(html: str) -> dict[str, str]:
    """Each group of patients in a letter: its heading → its text."""
    patients = html.split("<h2>Patients and what the claims show</h2>")[1].split("<h2")[0]
    chunks = patients.split('<div class="group"')[1:]
    return {text_of(re.search(r"<h3>(.*?)</h3>", chunk, re.S).group(1)): text_of(chunk) for chunk in chunks}


def index_row(letters: Path, stem: str) -> str:
    index = (letters / "index.html").read_text()
    return text_of(re.search(rf'<tr><td><a href="{re.escape(stem)}\.html">.*?</tr>', index, re.S).group(0))


@pytest.fixture(scope="module")
def letters(tmp_path_factory) -> Path:
    # Dr Alvarez is PCP of Adams (whose opioids come from Dr Brown) and main prescriber of Baker, who has no PCP;
    # Dr Brown is PCP of Carter too.
    return run_letters(
        tmp_path_factory.mktemp("mixed"),
        [
            practitioner("drA", "Dr. Ana Alvarez"),
            practitioner("drB", "Dr. Ben Brown"),
            patient("pa", "1970-01-01", "Practitioner/drA", "Adams"),
            *high_dose("pa", "drB"),
            patient("pb", "1970-01-01", None, "Baker"),
            *high_dose("pb", "drA"),
            patient("pc", "1970-01-01", "Practitioner/drB", "Carter"),
            *high_dose("pc", "drB"),
        ],
    )


def test_a_letter_groups_its_patients_by_why_they_are_listed(letters):
    # Before, the whole letter took the first patient's reason: "2 patients who name you as their primary care
    # clinician", Baker included, who names no one.
    html = (letters / "drA.html").read_text()
    assert intro_of(html).startswith("This letter is strictly informational.")
    assert (
        "found 2 patients whose fills met one or more of the criteria below: 1 who names you as their primary care "
        "clinician, and 1 who has no primary care clinician on record and whose opioid fills were on your "
        "prescriptions at least as often as on any other clinician's."
    ) in intro_of(html)
    groups = groups_of(html)
    assert list(groups) == [PCP_HEADING, PRESCRIBER_HEADING]
    assert "Adams" in groups[PCP_HEADING] and "Baker" not in groups[PCP_HEADING]
    assert "Baker" in groups[PRESCRIBER_HEADING] and "Adams" not in groups[PRESCRIBER_HEADING]


def test_a_letter_of_one_kind_keeps_its_one_sentence(letters):
    html = (letters / "drB.html").read_text()  # Adams is drA's: drB, who prescribed, does not get Adams
    assert (
        "found 1 patient who names you as their primary care clinician whose fills met one or more of the criteria"
    ) in intro_of(html)
    assert list(groups_of(html)) == [PCP_HEADING] and "Adams" not in html


def test_which_patient_sorts_first_does_not_decide_the_reason():
    # Baker (no PCP) first: the letter told drA their own PCP patients "have no primary care clinician on record".
    from smart_app.population.letters import Letter, LetterPatient
    from smart_app.population.wording import intro_text

    patients = [
        LetterPatient(pid, name, None, [], [], kind)
        for pid, name, kind in (("pb", "Baker", "prescriber"), ("pc", "Cole", "pcp"), ("pa", "Adams", "pcp"))
    ]
    letter = Letter("drA", "Dr. Ana Alvarez", None, patients)
    assert "2 who name you as their primary care clinician, and 1 who has no primary care clinician" in intro_text(
        {"letter": letter, "period": PERIOD}
    )
    assert [(kind, [p.name for p in group]) for kind, group in letter.groups()] == [
        ("pcp", ["Cole", "Adams"]),
        ("prescriber", ["Baker"]),
    ]


def test_the_pdf_groups_the_patients_as_the_html_does(tmp_path, monkeypatch):
    from smart_app.population import pdf
    from smart_app.population.letters import Letter, LetterPatient, letter_context

    story: list[str] = []

    class Capture:
        """Stands in for reportlab's document: keeps the paragraphs' text in order."""

        def __init__(self, *_args: object, **_kwargs: object) -> None:
            pass

        def build(self, flowables: list) -> None:
            story.extend(getattr(flowable, "text", "") for flowable in flowables)

    monkeypatch.setattr(pdf, "SimpleDocTemplate", Capture)
    patients = [
        LetterPatient("pb", "Baker", None, [], [], "prescriber"),
        LetterPatient("pa", "Adams", None, [], [], "pcp"),
    ]
    letter = Letter("drA", "Dr. Ana Alvarez", None, patients)
    pdf.write_pdf(tmp_path / "drA.pdf", letter_context(letter, PERIOD, GuidelineConfig.from_mapping()))
    assert story.index(PCP_HEADING) < story.index("Adams (id pa)") < story.index(PRESCRIBER_HEADING)
    assert story.index(PRESCRIBER_HEADING) < story.index("Baker (id pb)")


def test_the_index_names_each_reason_with_its_patients(letters):
    # Before: "primary care clinician" alone, as if both patients named drA as their PCP.
    row = index_row(letters, "drA")
    assert "primary care clinician (1)" in row and "main prescriber, no PCP on record (1)" in row
    assert "primary care clinician (1)" in index_row(letters, "drB") and "main prescriber" not in index_row(
        letters, "drB"
    )


@pytest.fixture(scope="module")
def practice_run(tmp_path_factory) -> Path:
    from test_population_attribution import export

    return run_letters(tmp_path_factory.mktemp("practice"), export())


def test_a_patient_assigned_to_a_practice_is_in_the_practices_letter(practice_run):
    # Before: Rivera was in drE's letter, "who have no primary care clinician on record", and in the hospital's rates.
    names = sorted(p.name for p in practice_run.iterdir())
    assert not any(name.startswith("drE") for name in names)
    stem = next(name for name in names if name.startswith("practice-orgFQHC")).removesuffix(".html")
    html = (practice_run / f"{stem}.html").read_text()
    assert "To: Fair Haven Community Health Center" in text_of(html)
    assert (
        "found 1 patient who is assigned to your practice for primary care with no clinician named whose fills met"
    ) in intro_of(html)
    groups = groups_of(html)
    assert list(groups) == ["Patients assigned to your practice for primary care, with no clinician named"]
    assert "Rivera" in html and "Soto" not in html  # Soto is drA's, in drA's letter
    assert "Rivera" not in (practice_run / "drA.html").read_text()
    assert "practice of record, no clinician named (1)" in index_row(practice_run, stem)
    assert (practice_run / f"{stem}.pdf").read_bytes().startswith(b"%PDF")


def test_the_practice_counts_the_patient_and_the_hospital_does_not(practice_run):
    import pyarrow.parquet as pq

    rows = pq.read_table(practice_run.parent / "measures.parquet").to_pylist()
    ohd = {(r["level"], r["unit"]): (r["numerator"], r["denominator"]) for r in rows if r["measure"] == "OHD"}
    assert ohd[("practice", "orgFQHC")] == (2, 2)  # Rivera and Soto
    assert ("practice", "orgHospital") not in ohd
    assert ohd[("pcp", "unattributed")] == (1, 1)  # Rivera: no clinician named
    assert ohd[("pcp", "drA")] == (1, 1) and ("pcp", "drE") not in ohd


def test_a_practice_and_a_clinician_never_share_a_file():
    from smart_app.population.letters import Letter

    practice = Letter("x", "Practice X", None, recipient_kind="practice")
    clinician = Letter("practice-x", "Dr. Practice", None)  # an id that looks like the practice's file name
    assert practice.file_stem == "practice-x"
    assert clinician.file_stem.startswith("practice-x-") and clinician.file_stem != practice.file_stem
    assert Letter("drA", "Dr. Ana Alvarez", None).file_stem == "drA"


def test_every_attribution_kind_a_letter_lists_has_its_words():
    # Before: three lists kept by hand (letters.PRACTICE_KINDS and REASON_ORDER, wording.REASONS): a kind added to
    # one and not the others was left out of every letter, or listed with no words, and nothing said so. A kind
    # added to the one list without its words here fails this test.
    from guideline.population.attribution import ATTRIBUTION_KINDS
    from smart_app.population import letters
    from smart_app.population.wording import REASONS

    lettered = [kind.name for kind in ATTRIBUTION_KINDS if kind.letter is not None]
    assert sorted(REASONS) == sorted(lettered)
    assert tuple(lettered) == letters.REASON_ORDER
    assert tuple(kind.name for kind in ATTRIBUTION_KINDS if kind.letter == "practice") == letters.PRACTICE_KINDS
    assert all(REASONS[kind].heading and REASONS[kind].index for kind in lettered)


def test_a_main_prescriber_by_a_tie_is_not_told_the_prescriptions_mostly_came_from_them(tmp_path):
    # Four prescribers at four pharmacies, one fill each (OMP's numerator): the tie goes to the latest fill's
    # prescriber, Dr Dunn, who wrote 1 of the 4. Before, her letter said the patient's opioid prescriptions "mostly
    # came from" her.
    days = ("2026-01-03", "2026-01-20", "2026-02-10", "2026-03-01")
    fills = [
        dispense(f"pe-{n}", "pe", OXYCODONE_10, day, 60, 15, f"dr{n}", f"ph{n}") for n, day in enumerate(days, start=1)
    ]
    letters = run_letters(
        tmp_path,
        [practitioner("dr4", "Dr. Dee Dunn"), patient("pe", "1970-01-01", None, "Evans"), *fills],
    )
    html = (letters / "dr4.html").read_text()
    assert "mostly" not in html
    heading = (
        "Patients with no primary care clinician on record whose opioid fills were on your prescriptions at least as "
        "often as on any other clinician's"
    )
    assert list(groups_of(html)) == [heading] and "Evans" in groups_of(html)[heading]
