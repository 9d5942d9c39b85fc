"""No text an EHR sends stalls a reading: each pattern rewritten to run in linear time reads real entries as before,
and the adversarial texts of bench/text_worst_case.py (one long word, long runs) still get the right reading.
Timing itself is measured in bench/text_worst_case.py, never here."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from builders import NOW, SNOMED, TZ, condition, med_request, run

from bench.text_worst_case import PLACES, TEXTS
from guideline import dosage, specimen_validity, uds, uds_names, words
from guideline.config import GuidelineConfig
from guideline.dosage import _SAME_DOSE, _SIG_DOSE, _TEXT_RULES, _sig_doses
from guideline.engine import HookContext, evaluate
from guideline.fhirdata import Concept
from guideline.plan.reading import _SCORE_TEXT
from guideline.recognition import diagnoses, names
from guideline.recognition.classify import _GIVEN_AFTER
from guideline.recognition.diagnoses import RULES, names_diagnosis
from guideline.recognition.names import _BRACKETED as _NAME_BRACKETS
from guideline.recognition.names import _PACK_PART, _PER_VOLUME, _SINGLE, _brackets, _unbracketed
from guideline.record import build_record, clear_read_caches
from guideline.record.readers import _CUTOFF
from guideline.set_names import MALIGNANT_CANCER, POINT_OF_CARE_CANCER, SICKLE_CELL
from guideline.specimen_validity import _FIT_TEXT, _TEXT_AMOUNT
from guideline.uds import _BRACKETED, _clause_readings

OXYCODONE = "1049621"
LONG = 20_000


@pytest.fixture
def all_words_read(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No limit on the words read: what the readers' patterns find in a long text, which a diagnosis, a sig, a
    medication or test name or a result's value far longer than a real one no longer reaches (the one limit every cap
    asks, `words.TEXT_READ_CHARACTERS`, through `words.longest_not_read`). The readings remembered are forgotten before
    and after, so none read without a limit outlives the test."""
    monkeypatch.setattr(words, "TEXT_READ_CHARACTERS", 10**9)
    forget()
    yield
    forget()


def forget() -> None:
    """Forget the names, records and recognitions read so far."""
    names.read_name.cache_clear()
    clear_read_caches()


# -- Cancer names (recognition.diagnoses): `\w*carcinoma\b` retried the whole word from each of its letters ----------


@pytest.mark.parametrize(
    ("words", "named"),
    [
        ("Pancreatic adenocarcinoma", "adenocarcinoma"),
        ("Hepatocellular carcinoma", "carcinoma"),
        ("Carcinoma of colon", "Carcinoma"),
        ("Cholangiocarcinoma", "Cholangiocarcinoma"),
        ("adeno-carcinoma of lung", "carcinoma"),
        ("Osteosarcoma of femur", "Osteosarcoma"),
        ("Leiomyosarcoma", "Leiomyosarcoma"),
        ("Non-Hodgkin lymphoma", "lymphoma"),
        ("Diffuse large B-cell lymphoma", "lymphoma"),
        ("Glioblastoma multiforme", "Glioblastoma"),
        ("Neuroblastoma", "Neuroblastoma"),
        ("Metastatic pancreatic adenocarcinoma", "Metastatic"),
        ("Lung cancer", "cancer"),
        ("Carcinomatosis", None),  # no word rule names it: left unread and named, as before
        ("Carcinoid tumor", None),
        ("Low back pain", None),
    ],
)
def test_cancer_names_read_real_entries_as_before(words: str, named: str | None) -> None:
    found = RULES[MALIGNANT_CANCER].names.search(words)
    assert (found.group() if found else None) == named


@pytest.mark.usefixtures("all_words_read")
@pytest.mark.parametrize(
    ("words", "active"),
    [
        ("a" * LONG, False),
        ("1" * LONG, False),
        ("carcinom" * (LONG // 8), False),
        ("a" * LONG + "carcinoma", True),
        ("Metastatic lung cancer " + "a" * LONG, True),
        ("Lung cancer " * (LONG // 12), True),
        ("History of lung cancer " + "a" * LONG, False),
        ("Skin cancer " + "a" * LONG, False),  # a keratinocyte skin cancer alone: not a point-of-care cancer
    ],
)
def test_a_long_entry_is_read_by_its_words_as_a_short_one(words: str, active: bool) -> None:
    assert names_diagnosis(POINT_OF_CARE_CANCER, Concept((), words)) is active


def text_only(words: str) -> dict[str, Any]:
    """A problem-list entry written as text, with no coding."""
    resource = condition(SNOMED, "0")
    resource["code"] = {"text": words}
    return resource


@pytest.mark.usefixtures("all_words_read")
@pytest.mark.parametrize(
    ("words", "exclusion"),
    [
        ("a" * LONG, []),
        ("Metastatic lung cancer " + "a" * LONG, ["active_cancer"]),
    ],
)
def test_a_long_problem_list_entry_excludes_as_its_words_say(words: str, exclusion: list[str]) -> None:
    draft = med_request(OXYCODONE, draft=True, id="ox1", dose=2, period=4)
    facts = run("order-sign", drafts=[draft], resources=[text_only(words)]).facts
    assert [f.name for f in facts.exclusions] == exclusion


# -- Runs of spaces made possessive (`\s*+`): each pattern's real examples, and a long run read as a short one ------

SPACES = " " * LONG


def groups(found: re.Match[str] | None) -> tuple[str | None, ...] | None:
    return found.groups() if found else None


@pytest.mark.parametrize(
    ("written", "read"),
    [
        ("12 mg/dL", (None, "12", "mg/dL")),
        ("<5 mg/dL", ("<", "5", "mg/dL")),
        (" >= 300 ng/mL ", (">=", "300", "ng/mL")),
        ("1.002", (None, "1.002", None)),
        (".5", (None, ".5", None)),
        ("20 mg/dL\n", (None, "20", "mg/dL")),
        ("5 mg\nsee note", None),
        ("Dilute", None),
        (SPACES + "12 mg/dL" + SPACES, (None, "12", "mg/dL")),
        ("12" + SPACES + "mg/dL", (None, "12", "mg/dL")),
        ("5 a" + SPACES + "b", (None, "5", "a" + SPACES + "b")),
        (SPACES + "x", None),
    ],
)
def test_a_validity_amount_written_as_text_reads_as_before(written: str, read: tuple[str | None, ...] | None) -> None:
    assert groups(_TEXT_AMOUNT.match(written)) == read


@pytest.mark.parametrize(
    ("written", "fit"),
    [("Normal", True), (" Within normal limits. ", True), ("WNL", True), ("Abnormal", False), ("Normal high", False)]
    + [("Normal" + SPACES, True), ("Normal" + SPACES + "x", False)],
)
def test_normal_as_text_reads_as_before(written: str, fit: bool) -> None:
    assert (_FIT_TEXT.match(written) is not None) is fit


@pytest.mark.parametrize(
    ("written", "score"),
    [("7", "7"), ("7/10", "7"), ("8 out of 10", "8"), ("10 (worst)", "10"), (" 3.5 ", "3.5"), ("NaN", None)]
    + [("5-6", None), ("1e999", None), ("7" + SPACES + "/ 10" + SPACES, "7"), ("7" + SPACES + "x", None)],
)
def test_a_score_as_text_reads_as_before(written: str, score: str | None) -> None:
    found = _SCORE_TEXT.match(written)
    assert (found.group(1) if found else None) == score


@pytest.mark.parametrize(
    ("sig", "rule", "read"),
    [
        ("every 4 (four) hours as needed", 1, ("4",)),
        ("every 4 (four) - 6 (six) hours", 0, ("4", "6")),
        ("q 4-6 hrs prn", 0, ("4", "6")),
        ("every 2 days", 2, ("2",)),
        ("four (4) times daily", 5, ("four",)),
        ("2 times a day", 5, ("2",)),
        ("every 4" + SPACES + "- 6 hours", 0, ("4", "6")),
        ("4" + SPACES + "times daily", 5, ("4",)),
        ("4" + SPACES + "x", 5, None),
    ],
)
def test_a_timing_text_reads_as_before(sig: str, rule: int, read: tuple[str, ...] | None) -> None:
    assert groups(_TEXT_RULES[rule][0].search(sig)) == read


@pytest.mark.parametrize(
    ("sig", "read"),
    [
        ("2 (two) tablets", ("2", None, "tablets")),
        ("1-2 tabs", ("1", "2", "tabs")),
        ("5 mg", ("5", None, "mg")),
        ("1" + SPACES + "tablet", ("1", None, "tablet")),
    ],
)
def test_a_dose_in_a_sig_reads_as_before(sig: str, read: tuple[str | None, ...]) -> None:
    found = _SIG_DOSE.search(sig)
    assert found is not None and (found["low"], found["high"], found["unit"]) == read


@pytest.mark.parametrize(
    ("between", "one_dose"),
    [(" = ", True), (" of ", True), (", ", True), ("", True), (" and ", False), (SPACES, True), (SPACES + "x", False)],
)
def test_words_that_make_two_doses_one_read_as_before(between: str, one_dose: bool) -> None:
    assert (_SAME_DOSE.fullmatch(between) is not None) is one_dose


@pytest.mark.parametrize(
    ("sig", "doses"),
    [
        ("1 tab in the morning and 2 tabs at bedtime, max 3 tabs a day", [("1", "tab"), ("2", "tabs")]),
        ("1 tab every morning, #90 tablets", [("1", "tab")]),
        ("2 tabs in the morning, do not exceed   4 tabs", [("2", "tabs")]),
        ("take 1 tab up to 2 tabs", [("1", "tab")]),
        ("2 tabs in the morning, do not exceed" + SPACES + "4 tabs", [("2", "tabs")]),
        ("1 tablet in the morning ( " * (LONG // 26), [("1", "tablet")] * (LONG // 26)),
    ],
)
def test_a_limit_before_a_dose_in_a_sig_reads_as_before(sig: str, doses: list[tuple[str, str]]) -> None:
    assert [(written[1], written[3]) for *_, written in _sig_doses(sig)] == doses


@pytest.mark.parametrize(
    ("parts", "read"),
    [
        (
            "21 (norethindrone 1 MG Oral Tablet) / 7 (ferrous fumarate 75 MG Oral Tablet) ",
            ["norethindrone 1 MG Oral Tablet", "ferrous fumarate 75 MG Oral Tablet"],
        ),
        ("1 (oxycodone 5 MG Oral Tablet)", ["oxycodone 5 MG Oral Tablet"]),
        ("12(a)", ["a"]),
        ("1" * LONG + " (a)", ["a"]),
        ("1" * LONG + "x", []),
    ],
)
def test_the_parts_of_a_pack_read_as_before(parts: str, read: list[str]) -> None:
    assert _PACK_PART.findall(parts) == read


@pytest.mark.parametrize(
    ("name", "read"),
    [
        ("10 mg/5 ml", [("10", "mg", "5", "ml")]),
        ("75 mcg/hr", [("75", "mcg", None, "hr")]),
        ("15 mg/12 hr", [("15", "mg", "12", "hr")]),
        ("20 mg per 24 hours", [("20", "mg", "24", "hours")]),
        ("5 mg" + " per" + SPACES + "x", [("5", "mg", None, None)]),
        ("5 mg /" + SPACES + "5 ml", [("5", "mg", "5", "ml")]),
    ],
)
def test_a_strength_in_a_name_reads_as_before(name: str, read: list[tuple[str | None, ...]]) -> None:
    assert [found.groups() for found in _SINGLE.finditer(name)] == read


@pytest.mark.parametrize(
    ("name", "brackets"),
    [
        ("percocet 10 mg (oxycodone 10 mg / acetaminophen 325 mg)", ["(oxycodone 10 mg / acetaminophen 325 mg)"]),
        ("oxycodone 5 mg [roxicodone] (patient declined)", ["[roxicodone]", "(patient declined)"]),
        ("ms contin (morphine", []),
        ("[a (b] c)", ["[a (b]"]),
        ("((a)", ["((a)"]),
        ("(" * LONG + "a)", ["(" * LONG + "a)"]),
        ("(" * LONG, []),
        ("[x " * LONG + "(a)", ["(a)"]),
    ],
)
def test_brackets_in_a_name_are_found_as_before(name: str, brackets: list[str]) -> None:
    assert [bracket.group() for bracket in _brackets(name)] == brackets
    if len(name) < LONG:  # the pattern alone, on a long unclosed run, is what took seconds
        assert _unbracketed(name, lambda _: "#") == _NAME_BRACKETS.sub("#", name)


@pytest.mark.parametrize(
    ("after", "volume"),
    [(" per 5 ml", "5"), ("/ml", None), ("/5.5 ml", "5.5"), (" tablet", False), ("/" + SPACES + "5 ml", "5")]
    + [("/" + SPACES + "x", False)],
)
def test_a_volume_after_a_strength_reads_as_before(after: str, volume: str | None | bool) -> None:
    found = _PER_VOLUME.match(after)
    assert (found.group(1) if found else False) == volume


@pytest.mark.parametrize(
    ("range_text", "cutoff"),
    [
        ("Cutoff: 300 ng/mL", ("300", "ng/mL")),
        ("Cut-off=50", ("50", None)),
        ("Screen cutoff 300", ("300", None)),
        ("cutoff level 100 ng/ml", ("100", "ng/ml")),
        ("Cutoff" + SPACES + "300 ng/mL", ("300", "ng/mL")),
        ("Cutoff" + SPACES + "x", None),
    ],
)
def test_a_cutoff_written_in_a_range_reads_as_before(range_text: str, cutoff: tuple[str, str | None] | None) -> None:
    assert groups(_CUTOFF.search(range_text)) == cutoff


@pytest.mark.parametrize(
    ("name", "given"),
    [
        ("NOT morphine - hydromorphone 2 mg", "hydromorphone 2 mg"),
        ("no morphine, give tramadol 50 mg", "give tramadol 50 mg"),
        ("not morphine \u2192 oxycodone", "oxycodone"),
        ("not morphine => oxycodone", "oxycodone"),
        ("NOT morphine ER (patient declined)", None),
        ("NOT morphine" + SPACES + "- hydromorphone 2 mg", "hydromorphone 2 mg"),
        ("NOT morphine" + SPACES + "hydromorphone 2 mg", None),
    ],
)
def test_the_drug_given_after_a_refused_one_is_found_as_before(name: str, given: str | None) -> None:
    refused_end = name.index("morphine") + len("morphine")
    found = _GIVEN_AFTER.search(name, refused_end)
    assert (name[found.end() :].strip() if found else None) == given


@pytest.mark.usefixtures("all_words_read")
@pytest.mark.parametrize(
    ("words", "sickle_cell"),
    [
        ("Sickle beta zero thalassemia", True),
        ("Sickle cell-beta+ thalassemia", True),
        ("Sickle-cell/beta-thalassemia", True),
        ("Sickle thalassemia", True),
        ("Sickle" + SPACES + "thalassemia", True),
        ("Sickle" + SPACES + "x", False),
        ("Sickle cell" + " -" * (LONG // 2) + "x", False),
    ],
)
def test_a_sickle_thalassemia_entry_reads_as_before(words: str, sickle_cell: bool) -> None:
    assert names_diagnosis(SICKLE_CELL, Concept((), words)) is sickle_cell


@pytest.mark.parametrize(
    ("conclusion", "brackets"),
    [
        ("Oxycodone (negative) fentanyl (positive)", [(" (negative)", "negative"), (" (positive)", "positive")]),
        ("Fentanyl(POS)", [("(POS)", "POS")]),
        ("Oxycodone  (prescribed) detected", [("  (prescribed)", "prescribed")]),
        ("(negative)", [("(negative)", "negative")]),
        ("Oxycodone" + SPACES + "(negative)", [(SPACES + "(negative)", "negative")]),
        ("Oxycodone" + SPACES + "x", []),
    ],
)
def test_a_finding_in_brackets_is_found_as_before(conclusion: str, brackets: list[tuple[str, str]]) -> None:
    assert [(found[0], found[1]) for found in _BRACKETED.finditer(conclusion)] == brackets


@pytest.mark.parametrize(
    ("conclusion", "short"),
    [
        ("Oxycodone" + SPACES + "(negative) fentanyl (positive)", "Oxycodone (negative) fentanyl (positive)"),
        ("Positive for" + SPACES + "fentanyl", "Positive for fentanyl"),
        ("Oxycodone" + SPACES + "x", "Oxycodone x"),
    ],
)
def test_a_conclusion_with_a_long_run_of_spaces_reads_as_with_one(conclusion: str, short: str) -> None:
    assert list(_clause_readings(conclusion)) == list(_clause_readings(short))


@pytest.mark.parametrize(
    ("conclusion", "short"),
    [
        # an amount between a drug and its finding (`uds._AMOUNT`), with long runs where it repeats
        ("Oxycodone " + "1" * LONG + " ng/mL positive", "Oxycodone 1 ng/mL positive"),
        ("Oxycodone 1" + SPACES + "ng/mL" + SPACES + "positive", "Oxycodone 1 ng/mL positive"),
        ("Oxycodone <" + SPACES + "1 ng/mL positive", "Oxycodone < 1 ng/mL positive"),
        ("Oxycodone 1." + "5" * LONG + " ng/mL positive", "Oxycodone 1.5 ng/mL positive"),
        ("Oxycodone " + "1," * (LONG // 2) + "000 ng/mL positive", "Oxycodone 1,1,000 ng/mL positive"),
        ("Oxycodone 1 ng/mL" + "-" * LONG + "positive", "Oxycodone 1 ng/mL-positive"),
        ("Oxycodone " + "1 ng/" * (LONG // 5) + "mL positive", "Oxycodone 1 ng/1 ng/mL positive"),
        # a run of amounts and bracketed cutoffs (`uds._AMOUNT`), read past once each
        ("Oxycodone" + " 1 ng/mL" * (LONG // 8) + " positive", "Oxycodone 1 ng/mL positive"),
        ("Oxycodone 1 ng/mL" + " (cutoff 1 ng/mL)" * (LONG // 17) + " positive", "Oxycodone 1 ng/mL positive"),
        ("Oxycodone (cutoff" + SPACES + "1) positive", "Oxycodone (cutoff 1) positive"),
        ("Oxycodone (cutoff 1" + SPACES + "positive", "Oxycodone (cutoff 1 positive"),
        ("Oxycodone" + " (1 ng/mL" * (LONG // 8) + " positive", "Oxycodone (1 ng/mL positive"),
        # decimal points, no full stops (`uds._SENTENCES`, `_STATEMENT`)
        ("No drugs other than oxycodone" + ".5" * LONG + " detected", "No drugs other than oxycodone.5 detected"),
        ("Fentanyl " + "0." * (LONG // 2) + "5 ng/mL (positive)", "Fentanyl 0.0.5 ng/mL (positive)"),
    ],
)
def test_a_conclusion_with_a_long_amount_reads_as_its_short_form(conclusion: str, short: str) -> None:
    assert list(_clause_readings(conclusion)) == list(_clause_readings(short))


def test_a_long_and_group_of_measured_drugs_takes_its_finding_once() -> None:
    # each drug named with an amount waits in its group for the finding after it (`_ConclusionReader.measured`)
    readings = list(_clause_readings("Oxycodone 1 ng/mL and " * (LONG // 22) + "oxymorphone positive"))
    assert [(said, set(named)) for said, named in readings] == [("positive", {"oxycodone", "oxymorphone"})]


def test_a_long_run_of_measured_drugs_gives_a_finding_after_a_comma_to_the_last_only() -> None:
    # a finding naming no drug is said of the drugs measured in the clause right before it (`_ConclusionReader.carries`)
    readings = list(_clause_readings("Oxycodone 1 ng/mL, " * (LONG // 19) + "positive"))
    assert readings == list(_clause_readings("Oxycodone 1 ng/mL, positive"))


def test_a_long_run_of_bare_drugs_before_all_other_drugs_negative_is_read_found_once() -> None:
    # the drugs waiting are set apart from "all other drugs negative" at once (`_ConclusionReader.except_waiting`)
    readings = list(_clause_readings("Oxycodone, oxymorphone, " * (LONG // 24) + "all other drugs negative"))
    assert [(said, set(named)) for said, named in readings] == [
        ("positive", {"oxycodone", "oxymorphone"}),
        ("negative", set()),
    ]


# -- Every adversarial text of bench/text_worst_case.py, in every place, reads as its short form does --------------


def readings(place: str, text: str) -> tuple[list[str], list[str]]:
    """The order-sign cards and exclusions for a patient whose `place` holds `text`."""
    resources, draft = PLACES[place](text)
    patient = {"resourceType": "Patient", "id": "bench-patient", "birthDate": "1970-01-01", "gender": "female"}
    bundle = {"resourceType": "Bundle", "entry": [{"resource": draft}]}
    record = build_record([patient, *resources], TZ, draft_orders=bundle)
    found = evaluate(
        record, HookContext("order-sign", "bench-patient", "Practitioner/t"), GuidelineConfig.from_mapping(), NOW
    )
    return [card.check_id for card in found.cards], [f.name for f in found.facts.exclusions]


@pytest.mark.usefixtures("all_words_read")
@pytest.mark.parametrize("place", sorted(PLACES))
def test_a_long_adversarial_text_reads_as_its_short_form(place: str) -> None:
    for name, make in TEXTS.items():
        assert readings(place, make(LONG)) == readings(place, make(60)), name


# -- A sig or timing text far longer than a prescription's is not read at all (`words.TEXT_READ_CHARACTERS`) ---------

SIG_PLACES = ("dosage_text", "sig_beside_dose", "timing_text")  # a fill's own sig is never read for its dose


def texts_read(place: str, text: str, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The lengths of the texts the sig readers (`_timed_in_text`, `_from_text`) read on an order-sign call."""
    read: list[int] = []
    for name in ("_timed_in_text", "_from_text"):
        reader = getattr(dosage, name)
        monkeypatch.setattr(dosage, name, lambda words, reader=reader: read.append(len(words)) or reader(words))
    readings(place, text)
    return read


@pytest.mark.parametrize("place", SIG_PLACES)
def test_a_sig_of_megabytes_is_never_read(place: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # Read, a 1 MB sig of many doses took 0.6 s of one call, and the body may be 64 MB: only the other orders' short
    # sigs are read, whatever the long one holds.
    for name in ("many_doses", "tab_every", "digits_spaced", "slashes"):
        assert max(texts_read(place, TEXTS[name](4_000_000), monkeypatch), default=0) < 100, name


def test_a_sig_of_a_prescriptions_length_is_read() -> None:
    sig = "1 tab every morning and 2 tabs at bedtime"
    within = sig + " " * (words.TEXT_READ_CHARACTERS - len(sig) - 1) + "."
    beyond = within + "."
    order = med_request(OXYCODONE, draft=True, id="ox1", period=1, period_unit="d")
    read: list[object] = []
    for text in (within, beyond):
        order["dosageInstruction"][0]["text"] = text
        read.append(dosage.doses_by_time(run("order-sign", drafts=[order]).facts.drafts[0].dosages[0]))
    assert isinstance(read[0], dosage.TimedDoses) and read[1] == dosage.SIG_NOT_READ


# -- A problem-list entry far longer than a diagnosis's is not read by its words (`words.TEXT_READ_CHARACTERS`) ---


class Searched:
    """A diagnosis rule's pattern that notes the length of each text it searches."""

    def __init__(self, pattern: re.Pattern[str], read: list[int]) -> None:
        self.pattern, self.read, self.flags = pattern, read, pattern.flags

    def search(self, words: str, *where: int) -> re.Match[str] | None:
        self.read.append(len(words))
        return self.pattern.search(words, *where)


@pytest.mark.parametrize("name", ["a_a_a", "cancer_repeated", "digits_spaced", "Sickle+spaces", "many_doses"])
def test_a_problem_list_entry_of_megabytes_is_never_searched(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # Read, a 1 MB entry took up to 0.7 s of one call (four rules' searches), and the body may be 64 MB.
    read: list[int] = []
    for key, rule in diagnoses.RULES.items():
        monkeypatch.setitem(diagnoses.RULES, key, rule._replace(names=Searched(rule.names, read)))
    readings("condition_text", TEXTS[name](60))
    assert read and max(read) <= 60  # a short entry is searched, by each rule
    read.clear()
    readings("condition_text", TEXTS[name](4_000_000))
    assert read == []


# -- A medication name far longer than a product's is not read (`words.TEXT_READ_CHARACTERS`) ---------------------


@pytest.mark.parametrize("name", ["slashes", "a_a_a", "tab_every", "drug_words", "unclosed_brackets", "no_spaces"])
def test_a_medication_name_of_megabytes_is_never_read(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # Read, a 1 MB name took up to 2.4 s of one call, and the body may be 64 MB: none of it reaches a reader.
    read: list[int] = []
    reader = names._read_one
    monkeypatch.setattr(names, "_read_one", lambda text: read.append(len(text)) or reader(text))
    forget()
    readings("medication_text", TEXTS[name](60))
    assert read and max(read) <= 60  # a short name is read
    read.clear()
    readings("medication_text", TEXTS[name](4_000_000))
    assert max(read, default=0) <= words.TEXT_READ_CHARACTERS


# -- A result's value far longer than a result's is not read (`words.TEXT_READ_CHARACTERS`) --------------------


class Spied:
    """A compiled pattern that notes the length of each text it is applied to, however it is applied."""

    def __init__(self, pattern: re.Pattern[str], read: list[int]) -> None:
        self.pattern, self.read = pattern, read

    def __getattr__(self, name: str) -> Any:
        applied = getattr(self.pattern, name)
        if name not in ("search", "match", "fullmatch", "finditer", "findall", "sub", "split"):
            return applied

        def noted(*args: Any, **kwargs: Any) -> Any:
            self.read.append(max((len(a) for a in args if isinstance(a, str)), default=0))
            return applied(*args, **kwargs)

        return noted


def spy_patterns(monkeypatch: pytest.MonkeyPatch, *modules: Any) -> list[int]:
    """The lengths of the texts any of `modules`' top-level compiled patterns is applied to, from now on."""
    read: list[int] = []
    for module in modules:
        for key, value in vars(module).copy().items():
            if isinstance(value, re.Pattern):
                monkeypatch.setattr(module, key, Spied(value, read))
    return read


@pytest.mark.parametrize("name", ["a_a_a", "digits_spaced", "hyphens", "Positive for+spaces", "NOT morphine+spaces"])
def test_a_result_value_of_megabytes_is_never_read(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # Read, a 1 MB value took up to 1.2 s of one call (its words searched for "not performed", "inconclusive", an
    # unfit specimen), and the body may be 64 MB.
    read = spy_patterns(monkeypatch, uds)
    readings("observation_value", TEXTS[name](60))
    assert read and max(read) >= 50  # a short value is read (stripped)
    read.clear()
    readings("observation_value", TEXTS[name](4_000_000))
    assert max(read, default=0) <= words.TEXT_READ_CHARACTERS


@pytest.mark.parametrize("name", ["a_a_a", "hyphens", "Positive for+spaces", "Normal+spaces"])
def test_a_result_flag_of_megabytes_is_never_read(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # A flag sent in words is read as its value's words are ("Positive", "Abnormal"), and capped as they are.
    read = spy_patterns(monkeypatch, uds)
    readings("result_flag", TEXTS[name](60))
    assert read and max(read) >= 50  # a short flag is read (stripped)
    read.clear()
    readings("result_flag", TEXTS[name](4_000_000))
    assert max(read, default=0) <= words.TEXT_READ_CHARACTERS


@pytest.mark.parametrize("name", ["a_a_a", "hyphens", "brackets", "Normal+spaces", "cancer_repeated"])
def test_a_specimen_validity_value_of_megabytes_is_never_read(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # Read, a 1 MB creatinine in words took up to 0.6 s of one call (its words searched for "dilute", "not dilute").
    read = spy_patterns(monkeypatch, uds, specimen_validity)
    readings("validity_value", TEXTS[name](60))
    assert read and max(read) >= 50  # a short value is read (stripped)
    read.clear()
    readings("validity_value", TEXTS[name](4_000_000))
    assert max(read, default=0) <= words.TEXT_READ_CHARACTERS


# -- A conclusion far longer than a report's is read in part by every reader (`uds.CONCLUSION_READ_CHARACTERS`) ------


@pytest.mark.parametrize("place", ["report_conclusion", "linked_conclusion"])
@pytest.mark.parametrize("name", ["a_a_a", "Positive for+spaces", "NOT morphine+spaces", "hyphens", "commas"])
def test_a_conclusion_of_megabytes_is_read_to_its_first_part(place: str, name: str, monkeypatch) -> None:
    # The clause reader read its first part; the readers of whether its test could be read ("dilute", "not
    # performed", its value) read it whole: up to 0.9 s a MB of one call.
    read = spy_patterns(monkeypatch, uds)
    readings(place, TEXTS[name](4_000_000))
    assert read and max(read) <= uds.CONCLUSION_READ_CHARACTERS


# -- A test's name far longer than a test's is not read (`words.TEXT_READ_CHARACTERS`) ---------------------------


@pytest.mark.parametrize("name", ["a_a_a", "drug_words", "hyphens", "Positive for+spaces", "cancer_repeated"])
def test_a_test_name_of_megabytes_is_never_read(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # Read, a 1 MB ServiceRequest name took up to 0.17 s of one call (each substance's pattern searched it).
    read = spy_patterns(monkeypatch, uds_names)
    readings("service_request", "urine drug screen " + TEXTS[name](60))
    assert read and max(read) >= 60  # a short name is read
    read.clear()
    readings("service_request", TEXTS[name](4_000_000))
    assert max(read, default=0) <= words.TEXT_READ_CHARACTERS


@pytest.mark.parametrize("name", ["a_a_a", "hyphens", "brackets", "NOT morphine+spaces"])
def test_a_lab_comment_of_megabytes_is_read_to_its_first_part(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # Read whole for "dilute", a 4 MB comment took 0.36 s of one call (`uds-notes-cut` names the cut).
    read = spy_patterns(monkeypatch, uds)
    readings("result_note", TEXTS[name](4_000_000))
    assert read and max(read) <= uds.CONCLUSION_READ_CHARACTERS
