"""Benchmark: cold load of the terminology data and the cost of one membership lookup (prints figures only)."""

from __future__ import annotations

import subprocess
import sys
import time
import timeit

from guideline.config import GuidelineConfig
from guideline.fhirdata import ICD10CM, LOINC, RXNORM, Coding, Concept
from guideline.record import ResolvedMedication

COLD_LOAD = (
    "import time; t = time.perf_counter(); "
    "from guideline.config import GuidelineConfig; from guideline.terminology import load_terminology; "
    "load_terminology(GuidelineConfig()); print(time.perf_counter() - t)"
)


def cold_load_seconds(runs: int = 5) -> list[float]:
    """Import + load in a fresh interpreter each time, as a new server worker process would."""
    return [float(subprocess.check_output([sys.executable, "-c", COLD_LOAD], text=True)) for _ in range(runs)]


def main() -> None:
    from guideline import terminology as t

    cold = [seconds * 1000 for seconds in sorted(cold_load_seconds())]
    print(f"cold import+load: median {cold[len(cold) // 2]:.1f} ms (min {cold[0]:.1f}, max {cold[-1]:.1f})")

    started = time.perf_counter()
    term = t.load_terminology(GuidelineConfig())
    print(f"first load in this process: {(time.perf_counter() - started) * 1000:.1f} ms")
    started = time.perf_counter()
    t.load_terminology(GuidelineConfig.from_mapping({"naloxone": {"extra_rescue_codes": ["2183570"]}}))
    print(f"second configuration (derive only): {(time.perf_counter() - started) * 1000:.1f} ms")

    local_then_rxnorm = Concept((Coding("urn:oid:1.2.840.114350.1.13", "12345"), Coding(RXNORM, "1049621")))
    poisoning = Concept((Coding(ICD10CM, "T40.2X1A"),))
    test_code = Concept((Coding(LOINC, "10998-3"),))
    medication = ResolvedMedication(concept=local_then_rxnorm)
    cases = {
        "contains(OPIOID, 2 codings)": lambda: term.contains(t.OPIOID, local_then_rxnorm),
        "contains(OPIOID_POISONING, ICD rule)": lambda: term.contains(t.OPIOID_POISONING, poisoning),
        "medication_in(NALTREXONE, miss)": lambda: term.medication_in(t.NALTREXONE, medication),
        "drug_rows(1049621)": lambda: term.drug_rows("1049621"),
        "substances_for_test(oxycodone)": lambda: term.substances_for_test(test_code),
        "medication_name": lambda: term.medication_name(medication),
    }
    for label, call in cases.items():
        number = 100_000
        seconds = min(timeit.repeat(call, number=number, repeat=3))
        print(f"{label:40s} {seconds / number * 1e9:8.0f} ns/call")


if __name__ == "__main__":
    main()
