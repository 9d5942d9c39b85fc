"""An unidentified name ("BUTALB/APAP/CAFF/XYLOPRIN": butalbital read, the unread part may be an opioid) joins the
sedative sets by what it read, never a set that stands for a class (opioid, long-acting, rescue, treatment for
opioid use disorder). Which sets those are is read from the tables that decide a class, so one added later is kept
out of reach without anyone remembering to list it."""

from __future__ import annotations

import pytest

from guideline.fhirdata import RXNORM
from guideline.recognition import Recognition, classify, in_set
from guideline.terminology import BENZO, CNS_DEPRESSANT

# As recognition leaves "BUTALB/APAP/CAFF/XYLOPRIN CAP 50-300-40-30MG": unidentified, its butalbital read.
FIORICET_PARTLY_READ = Recognition(
    "unidentified",
    "none",
    "BUTALB/APAP/CAFF/XYLOPRIN CAP 50-300-40-30MG",
    ingredients=("butalbital", "acetaminophen", "caffeine"),
    unread_ingredient=True,
)


class EverySetHoldsButalbital:
    """Code sets in which every set, whatever it stands for, lists butalbital tablets: only the class rules then
    keep a name that read butalbital out of a set."""

    def codes(self, set_name: str) -> frozenset[tuple[str, str]]:
        return frozenset({(RXNORM, "1")})

    def display(self, system: str, code: str) -> str:
        return "butalbital 50 MG Oral Tablet"


def class_deciding_sets() -> set[str]:
    return {name for name, _ in (*classify._CLASS_SETS_FIRST, *classify._CLASS_SETS_AFTER)}


@pytest.mark.parametrize("set_name", [BENZO, CNS_DEPRESSANT])
def test_the_sedative_read_joins_the_sedative_sets(set_name: str) -> None:
    assert in_set(FIORICET_PARTLY_READ, set_name, EverySetHoldsButalbital())


@pytest.mark.parametrize(
    "set_name", sorted(class_deciding_sets() - {BENZO, CNS_DEPRESSANT} | set(classify._CLASS_RULES))
)
def test_no_set_that_decides_a_class_takes_an_unidentified_name(set_name: str) -> None:
    assert not in_set(FIORICET_PARTLY_READ, set_name, EverySetHoldsButalbital())


def test_a_class_set_added_later_is_kept_out_of_reach(monkeypatch: pytest.MonkeyPatch) -> None:
    # Before: the sets out of reach were a hand-written list, and a rescue set added to the class tables without
    # joining it took "BUTALB/APAP/CAFF/COD" (then unidentified) as a naloxone rescue product.
    monkeypatch.setattr(classify, "_CLASS_SETS_FIRST", (("NALMEFENE_RESCUE", "naloxone"), *classify._CLASS_SETS_FIRST))
    assert not in_set(FIORICET_PARTLY_READ, "NALMEFENE_RESCUE", EverySetHoldsButalbital())


def test_a_set_given_a_class_rule_later_is_kept_out_of_reach(monkeypatch: pytest.MonkeyPatch) -> None:
    rules = {**classify._CLASS_RULES, "XR_BUPRENORPHINE": lambda r: r.kind == "moud" and r.extended_release}
    monkeypatch.setattr(classify, "_CLASS_RULES", rules)
    assert not in_set(FIORICET_PARTLY_READ, "XR_BUPRENORPHINE", EverySetHoldsButalbital())


def test_every_set_that_decides_a_class_other_than_a_sedative_has_a_rule_for_names() -> None:
    """A medication read from its name joins the set its class stands for: a class-deciding set with no rule would
    leave a naloxone read from its name out of a new rescue set."""
    sedative_sets = {name for name, kind in classify._CLASS_SETS_AFTER if kind in ("benzodiazepine", "sedative")}
    assert class_deciding_sets() - sedative_sets <= set(classify._CLASS_RULES)
