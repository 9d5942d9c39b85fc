"""The population review counts prescribers and pharmacies as the cards read them: a STU3 fill's pharmacy from its
performer's onBehalfOf (read by the record reader, so whatever the fill's id), and a PractitionerRole contained in
the fill as its practitioner."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from synthetic_export import dispense, patient
from test_population_measures import PERIOD, TODAY

from guideline.config import GuidelineConfig
from guideline.population import Directory, PatientOutcome, evaluate_patient

CONFIG = GuidelineConfig.from_mapping()
ZONE = ZoneInfo("America/New_York")
OXYCODONE_10 = ("1049683", "oxycodone hydrochloride 10 MG Oral Tablet")
DAYS = ("2026-01-05", "2026-01-20", "2026-02-04", "2026-02-19")


def _evaluate(resources: list[dict]) -> PatientOutcome:
    return evaluate_patient("A", [patient("A"), *resources], PERIOD, CONFIG, TODAY, Directory())


def _stu3_fill(day: str, prescriber: str, pharmacy: str) -> dict:
    """A STU3 fill as a STU3 server's export may carry it: the pharmacist as the actor and the pharmacy as
    performer.onBehalfOf, and no id (an entry of a transaction Bundle, identified by its fullUrl only)."""
    fill = dispense("unused", "A", OXYCODONE_10, day, 120, 30)
    del fill["id"]
    fill["performer"] = [
        {"actor": {"reference": f"Practitioner/{prescriber}"}, "onBehalfOf": {"reference": f"Organization/{pharmacy}"}}
    ]
    return fill


def test_a_stu3_fill_with_no_id_still_names_its_pharmacy() -> None:
    # The pharmacy was read from the raw resource looked up by id: a fill with none named no pharmacy.
    outcome = _evaluate([_stu3_fill(day, f"dr{n}", f"ph{n}") for n, day in enumerate(DAYS)])
    assert outcome.row is not None
    assert outcome.row["pharmacies"] == 4
    assert outcome.quality.fills_without_pharmacy == 0


def _with_contained_role(fill: dict, practitioner: str) -> dict:
    """The fill naming its prescriber by a PractitionerRole it contains (an Epic export's role for the clinic)."""
    role = {"resourceType": "PractitionerRole", "id": "role", "practitioner": {"reference": practitioner}}
    return {**fill, "contained": [role], "performer": [{"actor": {"reference": "#role"}}, *fill["performer"][1:]]}


def test_a_contained_role_is_its_practitioner_among_the_prescribers() -> None:
    # Two of drA's four fills name her by a contained role: one prescriber, and no fill without one (before, the
    # two were counted as naming no prescriber).
    fills = [dispense(f"f{n}", "A", OXYCODONE_10, day, 120, 30, "drA", f"ph{n}") for n, day in enumerate(DAYS)]
    fills[2:] = [_with_contained_role(fill, "Practitioner/drA") for fill in fills[2:]]
    outcome = _evaluate(fills)
    assert outcome.row is not None
    assert (outcome.row["prescribers"], outcome.row["pharmacies"]) == (1, 4)
    assert outcome.quality.fills_without_prescriber == 0


def test_a_contained_role_of_another_practitioner_is_another_prescriber() -> None:
    fills = [dispense(f"f{n}", "A", OXYCODONE_10, day, 120, 30, "drA", f"ph{n}") for n, day in enumerate(DAYS)]
    fills[2:] = [_with_contained_role(fill, f"Practitioner/dr{n}") for n, fill in enumerate(fills[2:])]
    outcome = _evaluate(fills)
    assert outcome.row is not None and outcome.row["prescribers"] == 3
