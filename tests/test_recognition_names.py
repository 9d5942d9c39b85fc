"""Reading medication names stays linear in the name's length, whatever the text (a hostile or corrupt chart)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from guideline.recognition.names import read_name

ROOT = Path(__file__).resolve().parent.parent


def test_a_name_of_sixty_thousand_digits_is_read_at_once():
    # Found by feeding every text field of a chart long pathological strings: the strength patterns tried every split
    # of a digit run at every start inside it, so one medication text of 60,000 digits held a hook call for ~4
    # minutes (now ~1 ms). Run apart with a generous limit: a hang fails the test instead of the suite.
    code = "from guideline.recognition.names import read_name; read_name('1' * 60000); read_name('0' * 60000 + ' mg')"
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, timeout=30)


def test_strengths_are_still_read_from_ordinary_names():
    combo = read_name("oxycodone 5 mg / acetaminophen 325 mg oral tablet")
    assert [(s.ingredient, s.mg) for s in combo.strengths] == [("oxycodone", 5), ("acetaminophen", 325)]
    pair = read_name("hydrocodone-acetaminophen 10-325 mg tablet")
    assert [s.shown for s in pair.strengths] == ["10-325 mg", "10-325 mg"]
    patch = read_name("fentanyl 0.075 mg/hr transdermal patch")
    assert [(s.mg, s.per) for s in patch.strengths] == [(read_name("fentanyl 75 mcg/hr patch").strengths[0].mg, "hour")]


def test_a_combination_liquid_reads_both_strengths_per_ml():
    # Epic names the oral solution "HYDROcodone-acetaminophen 7.5-325 mg/15 mL": the pair was not read, so 15 mL
    # every 6 hours had no MME ("the dose unit cannot be combined with the product strength").
    from decimal import Decimal

    liquid = read_name("HYDROcodone-acetaminophen 7.5-325 mg/15 mL solution")
    assert [(s.ingredient, s.mg, s.per) for s in liquid.strengths] == [
        ("hydrocodone", Decimal("7.5") / 15, "ml"),
        ("acetaminophen", Decimal("325") / 15, "ml"),
    ]
    codeine = read_name("acetaminophen-codeine 120-12 mg per 5 mL oral solution")
    assert [(s.ingredient, s.mg, s.per) for s in codeine.strengths][1] == ("codeine", Decimal("12") / 5, "ml")
    tablet = read_name("oxyCODONE-acetaminophen (PERCOCET) 10-325 mg per tablet")  # not a volume: per unit, as before
    assert [(s.mg, s.per) for s in tablet.strengths] == [(Decimal("10"), "unit"), (Decimal("325"), "unit")]
