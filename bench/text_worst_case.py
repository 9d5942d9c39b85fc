"""Benchmark: the worst free text an EHR can send, through every text PainPlan reads with regular expressions.

No text may stall a hook call past the EHR's deadline, whatever it holds: a garbled or hostile problem-list entry, a
medication name, a sig, an Observation's value or reference range, a specimen validity result or a report's
conclusion (alone, or read with the result it holds). Each adversarial text (one long word, a word repeated, runs
of spaces, commas, digits, "a a a", dose-like runs, a word the readers look for and then a long run of spaces) is
sent in each of those places through the real
entry points (`build_record` + `guideline.engine.evaluate`, order-sign, cold read caches), at 4 kB, 20 kB and
100 kB, and the seconds of each call are printed, with the 20 kB/4 kB and 100 kB/20 kB ratios: a linear reader
takes about 5× per 5× the text; a backtracking (super-linear) one ≫ 5×. A call over `--give-up` seconds at one size
is not retried at the next (it is named `slow`). Session 32: before its fixes, a 20 kB word as a problem-list entry
took ~2.5 s (~10 s at 40 kB) and a run of spaces after "Oxycodone" in a conclusion ~1 s; after, every call grows
linearly, ≤ 0.5 s at 20 kB; the slowest, 1.7-3 s at 100 kB (machine load), a conclusion of 100,000 commas read
with its result: linear, ~30 µs a clause (guideline.uds). Then the conclusion was capped (its first 10,000
characters read, the cut named: `uds.CONCLUSION_READ_CHARACTERS`): that call took 0.19 s at 100 kB, 0.24 s at 20 kB.
Then `--patterns` times each compiled pattern of `guideline` alone, as its module's source applies it (`.match`,
`.search`, ...), over the same texts at 2 kB and 10 kB, to find a culprit fast. A pattern named there is a suspect to
check against where its module applies it (a `.match` at one position of a bounded window is no stall); one slow
only after words of its own not among the texts above is found by reading it.
Session 33 (`--large`: 100 kB, 1 MB, 4 MB, a request may be 64 MB) added the free text of an order (its timing's
text, the dosage text beside a structured dose, the fill's sig, a note, patientInstruction) and of a pending urine
drug test order (ServiceRequest.code.text), and dose-like texts ("1 tab every ", a drug's name repeated, words with
no spaces), and prints seconds per MB: every reader was linear (4 MB took 3.8-4.4x 1 MB), but at 1 MB a sig of many
doses took 0.6 s, a medication name 0.3-2.4 s and a problem-list entry 0.2-0.7 s; a 64 MB one, tens of seconds to
minutes. A sig (and its timing's text) over `words.TEXT_READ_CHARACTERS` is no longer read (its dose is not read,
named `sigs-not-read`): such a call costs what a short sig does; so are a diagnosis's words over that limit
(named `diagnoses-not-read`) and a medication name over it (named `medication-names-not-read`): 4 MB of either,
0.03 s at most. An Observation's value took 0.2-1.2 s a MB (its words searched for "not performed", "inconclusive",
an unfit specimen), a specimen validity value up to 0.6 s a MB; one over that limit is no longer read (a drug result
reads no value, named among the results not judged; a validity result judges nothing, named as not judged; each with
its length): 4 MB of either, 0.03 s at most. A result's flag sent in words (place `result_flag`: interpretation.text)
is capped as its value is (`Observation.flag_not_read`: the result reads no value, named among the results not judged).
A report's conclusion was read whole by its readers other than the clause reader (whether the test could be read: up
to 0.9 s a MB of a report with only a conclusion); they now read the part the clause reader reads
(`uds.conclusion_read`, named `uds-conclusions-cut`): 4 MB, 0.01 s; beside its results, 0.1-0.4 s flat (the clause
reader's 10,000 characters).
A test's name known by no LOINC (a ServiceRequest's code text) took up to 0.17 s a MB; one over that limit is read
as no test (named `test-names-not-read`): 4 MB, 0.01 s.
A drug result's lab comment (place `result_note`: note.text, read for "dilute", "substituted") took 0.08-0.09 s a
MB (0.36 s at 4 MB); it is now read to the part a conclusion is (named `uds-notes-cut`): 4 MB, 0.004 s. A reference
range's text is read at no cost that grows (0.001 s at 4 MB).
Run: .venv/bin/python bench/text_worst_case.py [--sizes 4000,20000,100000 | --large] [--give-up 5] [--patterns]
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import re
import sys
import time
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import guideline  # noqa: E402
from guideline.config import GuidelineConfig  # noqa: E402
from guideline.engine import HookContext, evaluate  # noqa: E402
from guideline.fhirdata import LOINC, RXNORM  # noqa: E402
from guideline.record import build_record, clear_read_caches  # noqa: E402
from guideline.terminology import load_terminology  # noqa: E402

TZ = ZoneInfo("America/New_York")
TODAY = date(2026, 6, 15)
NOW = datetime(2026, 6, 15, 12, tzinfo=TZ)
PATIENT = "bench-patient"
OXYCODONE = "1049621"
UDS_PANEL = "19295-5"  # Opiates [Presence] in Urine by Screen method
CREATININE = "2161-8"  # Creatinine [Mass/volume] in Urine
DEFAULT_SIZES = (4000, 20000, 100000)
LARGE_SIZES = (100_000, 1_000_000, 4_000_000)
CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"


def _repeat(unit: str, size: int) -> str:
    return (unit * (size // len(unit) + 1))[:size]


# Each adversarial text by name: the kinds of run a backtracking pattern is slow on.
TEXTS: dict[str, Callable[[int], str]] = {
    "one_word": lambda n: "a" * n,
    "carcinom_word": lambda n: _repeat("carcinom", n),
    "cancer_repeated": lambda n: _repeat("cancer ", n),
    "spaces": lambda n: " " * n,
    "commas": lambda n: "," * n,
    "digits": lambda n: "1" * n,
    "a_a_a": lambda n: _repeat("a ", n),
    "digits_spaced": lambda n: _repeat("1 ", n),
    "dose_like": lambda n: _repeat("5 mg ", n),
    "letters_digits": lambda n: _repeat("a1", n),
    "slashes": lambda n: _repeat("1/", n),
    "hyphens": lambda n: _repeat("a-", n),
    "brackets": lambda n: _repeat("(a ", n),
}
# A word the readers look for, then a long run of spaces before the text goes on: where a run of spaces handed back
# by one quantifier is retried by the next.
_BEFORE_SPACES = ("4", "every 4", "Normal", "Cutoff", "Sickle", "NOT morphine", "5 mg per", "5 a", "Positive for")
# A combination's name whose opioid has no strength of its own, then brackets never closed: each opening bracket was
# looked for a closing one to the end of the text.
_COMBINATION = "oxycodone / acetaminophen 5 mg "
TEXTS["unclosed_brackets"] = lambda n: _COMBINATION + "(" * (n - len(_COMBINATION))
TEXTS["unclosed_squares"] = lambda n: _COMBINATION + _repeat("[x ", n - len(_COMBINATION))
# A sig of many doses, each of which was checked for a limit ("max", "#") from the sig's start.
TEXTS["many_doses"] = lambda n: _repeat("1 tablet in the morning ( ", n)
# Dose-like and name-like runs: a sig's words repeated, a drug's name repeated, a name with no spaces.
TEXTS["tab_every"] = lambda n: _repeat("1 tab every ", n)
TEXTS["drug_words"] = lambda n: _repeat("oxycodone ", n)
TEXTS["no_spaces"] = lambda n: _repeat("oxycodone5mgtablet", n)
TEXTS.update({f"{word}+spaces": (lambda n, w=word: w + " " * (n - len(w) - 1) + "x") for word in _BEFORE_SPACES})


def _order(text: str | None = None, sig: str | None = None, draft: bool = False) -> dict[str, Any]:
    """An oxycodone order: by code, or by the medication text alone; with a structured or a text-only sig (its
    `structured` instruction's free text set by the places below)."""
    medication: dict[str, Any] = (
        {"text": text} if text is not None else {"coding": [{"system": RXNORM, "code": OXYCODONE}]}
    )
    dosage: dict[str, Any] = (
        {"text": sig}
        if sig is not None
        else {
            "text": "1 tablet every 6 hours as needed",
            "timing": {"repeat": {"frequency": 1, "period": 6, "periodUnit": "h"}},
            "doseAndRate": [{"doseQuantity": {"value": 1, "unit": "tablet"}}],
        }
    )
    return {
        "resourceType": "MedicationRequest",
        "id": "draft-1" if draft else "mr-1",
        "status": "draft" if draft else "active",
        "intent": "order",
        "subject": {"reference": f"Patient/{PATIENT}"},
        "authoredOn": TODAY.isoformat() if draft else (TODAY - timedelta(days=100)).isoformat(),
        "medicationCodeableConcept": medication,
        "dosageInstruction": [dosage],
        "dispenseRequest": {
            "quantity": {"value": 120, "unit": "tablet"},
            "expectedSupplyDuration": {"value": 30, "unit": "days"},
        },
    }


def _structured(field: str, text: str, draft: bool = True) -> dict[str, Any]:
    """An oxycodone order of a structured dose and frequency whose instruction's `field` holds `text`: the sig beside
    them ("text"), "patientInstruction", or the timing's own text ("timing")."""
    order = _order(draft=draft)
    [dosage] = order["dosageInstruction"]
    if field == "timing":
        dosage["timing"]["code"] = {"text": text}
    else:
        dosage[field] = text
    return order


def _noted(text: str) -> dict[str, Any]:
    """A draft oxycodone order with a note (MedicationRequest.note.text)."""
    return _order(draft=True) | {"note": [{"text": text}]}


def _fill(text: str) -> dict[str, Any]:
    """A fill of the current order, its sig `text` beside a structured dose (MedicationDispense.dosageInstruction)."""
    return {
        "resourceType": "MedicationDispense",
        "id": "md-1",
        "status": "completed",
        "subject": {"reference": f"Patient/{PATIENT}"},
        "authorizingPrescription": [{"reference": "MedicationRequest/mr-1"}],
        "medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": OXYCODONE}]},
        "quantity": {"value": 120, "unit": "tablet"},
        "daysSupply": {"value": 30, "unit": "days"},
        "whenHandedOver": (TODAY - timedelta(days=10)).isoformat(),
        "dosageInstruction": _structured("text", text)["dosageInstruction"],
    }


def _service_request(text: str) -> dict[str, Any]:
    """A urine drug test ordered by text alone (ServiceRequest.code.text), awaiting its result."""
    return {
        "resourceType": "ServiceRequest",
        "id": "sr-1",
        "status": "active",
        "intent": "order",
        "code": {"text": text},
        "subject": {"reference": f"Patient/{PATIENT}"},
        "authoredOn": (TODAY - timedelta(days=5)).isoformat(),
    }


def _condition(text: str) -> dict[str, Any]:
    return {
        "resourceType": "Condition",
        "id": "cond-1",
        "clinicalStatus": {"coding": [{"system": CLINICAL, "code": "active"}]},
        "category": [{"coding": [{"system": CATEGORY, "code": "problem-list-item"}]}],
        "code": {"text": text},
        "subject": {"reference": f"Patient/{PATIENT}"},
        "recordedDate": (TODAY - timedelta(days=200)).isoformat(),
    }


def _observation(text: str) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": "obs-1",
        "status": "final",
        "code": {"coding": [{"system": LOINC, "code": UDS_PANEL}]},
        "subject": {"reference": f"Patient/{PATIENT}"},
        "effectiveDateTime": (TODAY - timedelta(days=20)).isoformat(),
        "valueString": text,
    }


def _flagged(text: str) -> dict[str, Any]:
    """A urine drug screen read by its flag alone, sent in words (`interpretation.text`, as a lab interface sends a flag
    it has no HL7 code for)."""
    result = _observation("") | {"id": "obs-flagged", "interpretation": [{"text": text}]}
    del result["valueString"]
    return result


def _noted_result(text: str) -> dict[str, Any]:
    """A urine drug screen reading "Negative" with a lab comment (Observation.note.text), read for "dilute"."""
    return _observation("Negative") | {"id": "obs-noted", "note": [{"text": text}]}


def _range(text: str) -> dict[str, Any]:
    """A urine drug screen whose reference range is text ("Cutoff: 300 ng/mL")."""
    return _observation("Positive") | {"id": "obs-range", "referenceRange": [{"text": text}]}


def _validity(text: str) -> dict[str, Any]:
    """A urine creatinine the same day as the screen, its value as text ("12 mg/dL")."""
    return _observation(text) | {"id": "obs-creatinine", "code": {"coding": [{"system": LOINC, "code": CREATININE}]}}


def _report(text: str) -> dict[str, Any]:
    return {
        "resourceType": "DiagnosticReport",
        "id": "rep-1",
        "status": "final",
        "code": {"coding": [{"system": LOINC, "code": UDS_PANEL}]},
        "subject": {"reference": f"Patient/{PATIENT}"},
        "effectiveDateTime": (TODAY - timedelta(days=20)).isoformat(),
        "conclusion": text,
    }


def _linked_report(text: str) -> dict[str, Any]:
    """A report holding its result, whose conclusion is read with it (Beaker, v2 feeds)."""
    result = {"resourceType": "Observation", "id": "res", "status": "final", "valueString": "Positive"}
    result["code"] = {"coding": [{"system": LOINC, "code": UDS_PANEL}]}
    return _report(text) | {"contained": [result], "result": [{"reference": "#res"}]}


# Where the text is sent: (resources beside the patient, the draft order).
PLACES: dict[str, Callable[[str], tuple[list[dict[str, Any]], dict[str, Any]]]] = {
    "condition_text": lambda t: ([_order(), _condition(t)], _order(draft=True)),
    "medication_text": lambda t: ([_order()], _order(text=t, draft=True)),
    "dosage_text": lambda t: ([_order()], _order(sig=t, draft=True)),
    "sig_beside_dose": lambda t: ([_order()], _structured("text", t)),
    "timing_text": lambda t: ([_order()], _structured("timing", t)),
    "patient_instruction": lambda t: ([_order()], _structured("patientInstruction", t)),
    "order_note": lambda t: ([_order()], _noted(t)),
    "fill_sig": lambda t: ([_order(), _fill(t)], _order(draft=True)),
    "service_request": lambda t: ([_order(), _service_request(t)], _order(draft=True)),
    "observation_value": lambda t: ([_order(), _observation(t)], _order(draft=True)),
    "result_flag": lambda t: ([_order(), _flagged(t)], _order(draft=True)),
    "report_conclusion": lambda t: ([_order(), _report(t)], _order(draft=True)),
    "linked_conclusion": lambda t: ([_order(), _linked_report(t)], _order(draft=True)),
    "reference_range": lambda t: ([_order(), _range(t)], _order(draft=True)),
    "result_note": lambda t: ([_order(), _noted_result(t)], _order(draft=True)),
    "validity_value": lambda t: ([_order(), _observation("Negative"), _validity(t)], _order(draft=True)),
}


def one_call(place: str, text: str, config: GuidelineConfig) -> float:
    """Seconds of one order-sign call (record build + evaluate) with `text` in `place`, read caches cold."""
    resources, draft = PLACES[place](text)
    patient = {"resourceType": "Patient", "id": PATIENT, "birthDate": "1970-01-01", "gender": "female"}
    bundle = {"resourceType": "Bundle", "entry": [{"resource": draft}]}
    context = HookContext("order-sign", PATIENT, "Practitioner/bench")
    clear_read_caches()
    started = time.perf_counter()
    evaluate(build_record([patient, *resources], TZ, draft_orders=bundle), context, config, NOW)
    return time.perf_counter() - started


def entry_points(
    sizes: tuple[int, ...], give_up: float, config: GuidelineConfig, places: tuple[str, ...] = tuple(PLACES)
) -> float:
    """Print seconds per call for each place and text, each size's ratio to the one before and the seconds per MB
    of the largest size reached; return the slowest call."""
    print(f"{'place':19s} {'text':19s} " + " ".join(f"{size:>9d}" for size in sizes) + "   ratios   s/MB")
    slowest = 0.0
    for place in places:
        for name, make in TEXTS.items():
            seconds: list[float] = []
            for size in sizes:
                if seconds and seconds[-1] > give_up:
                    break
                seconds.append(one_call(place, make(size), config))
            slowest = max(slowest, *seconds)
            cells = [f"{s:9.3f}" for s in seconds] + ["     slow"] * (len(sizes) - len(seconds))
            ratios = [f"{b / a:5.1f}x" for a, b in zip(seconds, seconds[1:], strict=False) if a > 0]
            per_mb = seconds[-1] / (sizes[len(seconds) - 1] / 1_000_000)
            print(f"{place:19s} {name:19s} " + " ".join(cells) + "   " + " ".join(ratios) + f"  {per_mb:6.2f}")
    return slowest


def _patterns_in(value: Any, name: str, depth: int = 0) -> Iterator[tuple[str, re.Pattern[str]]]:
    """The compiled patterns a module holds, at top level or inside its tables."""
    if isinstance(value, re.Pattern):
        yield name, value
    elif depth < 3 and isinstance(value, dict):
        for key, item in value.items():
            yield from _patterns_in(item, f"{name}[{key!r}]", depth + 1)
    elif depth < 3 and isinstance(value, (tuple, list)):
        for index, item in enumerate(value):
            yield from _patterns_in(item, f"{name}[{index}]", depth + 1)


def all_patterns() -> dict[int, tuple[str, re.Pattern[str]]]:
    found: dict[int, tuple[str, re.Pattern[str]]] = {}
    for module in pkgutil.walk_packages(guideline.__path__, "guideline."):
        if ".data." in module.name:
            continue
        for key, value in vars(importlib.import_module(module.name)).items():
            for name, pattern in _patterns_in(value, f"{module.name}.{key}"):
                found.setdefault(id(pattern), (name, pattern))
    return found


# How a module applies a pattern, as its source calls it ("_SAME_DOSE.fullmatch("): timed so, as `.search` is harsher
# than a `.match` at one position.
_APPLIED = re.compile(r"\b(\w+)\.(search|match|fullmatch|sub|finditer|findall|split)\(")


def applied_as() -> dict[str, set[str]]:
    """Each pattern name's ways of being applied in `guideline`'s source."""
    ways: dict[str, set[str]] = {}
    for source in Path(guideline.__file__).parent.rglob("*.py"):
        for name, way in _APPLIED.findall(source.read_text(encoding="utf-8")):
            ways.setdefault(name, set()).add(way)
    return ways


def _seconds(pattern: re.Pattern[str], way: str, text: str) -> float:
    started = time.perf_counter()
    if way == "sub":
        pattern.sub("", text)
    else:
        result = getattr(pattern, way)(text)
        if way == "finditer":
            list(result)
    return time.perf_counter() - started


def patterns(small: int = 2000, floor: float = 0.002) -> None:
    """Each pattern's time, applied as its module applies it (`.search` when no call is found), on each text at
    `small` and 5× `small` characters, the super-linear first."""
    rows = []
    found, ways = all_patterns(), applied_as()
    for name, pattern in found.values():
        for way in ways.get(name.rsplit(".", 1)[1].split("[")[0], {"search"}):
            for text, make in TEXTS.items():
                first = _seconds(pattern, way, make(small))
                if first > floor:
                    rows.append((_seconds(pattern, way, make(small * 5)) / first, name, way, text, first))
    print(f"\n{len(found)} patterns; slower than {floor * 1000:g} ms at {small} characters, as applied:")
    for ratio, name, way, text, first in sorted(rows, reverse=True):
        print(f"{ratio:6.1f}x  {name:64s} {way:9s} {text:20s} {first:.3f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=",".join(map(str, DEFAULT_SIZES)))
    parser.add_argument("--large", action="store_true", help="100 kB, 1 MB and 4 MB (overrides --sizes)")
    parser.add_argument("--places", default=",".join(PLACES), help="the places to send the texts to")
    parser.add_argument("--give-up", type=float, default=5.0)
    parser.add_argument("--patterns", action="store_true")
    args = parser.parse_args()
    config = GuidelineConfig.from_mapping()
    load_terminology(config)
    sizes = LARGE_SIZES if args.large else tuple(int(size) for size in args.sizes.split(","))
    slowest = entry_points(sizes, args.give_up, config, tuple(args.places.split(",")))
    print(f"\nslowest call: {slowest:.3f} s")
    if args.patterns:
        patterns()


if __name__ == "__main__":
    main()
