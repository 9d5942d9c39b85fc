"""Attribution: a patient assigned to a practice (generalPractitioner an Organization, as Medicaid and FQHC panels
record it) belongs to that practice, not to whoever prescribed; the case is counted."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from synthetic_export import OXYCODONE_10, dispense, organization, patient, practitioner, role
from test_population_measures import PERIOD, TODAY

from guideline.config import GuidelineConfig
from guideline.population import Directory, evaluate_patient
from guideline.population.attribution import attribute
from guideline.population.model import OpioidFill

# drE works in the hospital's emergency department; drA is a family physician at the health centre.
DIRECTORY = Directory(
    roles={"roleE": ("drE", "orgHospital"), "roleFQHC": (None, "orgFQHC"), "roleA": ("drA", "orgFQHC")},
    practitioner_orgs={"drE": "orgHospital", "drA": "orgFQHC"},
    names={"Organization/orgFQHC": "Fair Haven Community Health Center", "Organization/orgHospital": "Yale New Haven"},
    conflicts=0,
)


def fill(ref: str, prescriber: str, filled: date) -> OpioidFill:
    """A 30-day oxycodone fill at 90 MME/day."""
    return OpioidFill(ref=ref, filled=filled, start=filled, end=filled + timedelta(days=29), days=Decimal(30),
                      mme=Decimal(90), mme_text="90 MME/day", name="oxycodone", er_la=False, prescriber=prescriber,
                      pharmacy="Organization/ph1")  # fmt: skip


ED_FILLS = (fill("f1", "Practitioner/drE", date(2026, 1, 5)), fill("f2", "Practitioner/drE", date(2026, 2, 4)))


def assigned(*references: str) -> dict:
    return {"resourceType": "Patient", "id": "p", "generalPractitioner": [{"reference": r} for r in references]}


def test_a_patient_assigned_to_a_practice_belongs_to_it_not_to_their_prescriber():
    # Before: the practice was read, then dropped; the patient went to drE, as "no PCP", under the hospital.
    found = attribute(assigned("Organization/orgFQHC"), ED_FILLS, DIRECTORY)
    assert (found.kind, found.clinician_id, found.practice_id) == ("practice", None, "orgFQHC")


def test_a_role_naming_only_the_practice_assigns_the_practice():
    found = attribute(assigned("PractitionerRole/roleFQHC"), ED_FILLS, DIRECTORY)
    assert (found.kind, found.clinician_id, found.practice_id) == ("practice", None, "orgFQHC")


def test_a_named_clinician_still_comes_first_and_the_listed_practice_fills_in_their_own():
    # The practice listed before the clinician does not hide the clinician.
    found = attribute(assigned("Organization/orgFQHC", "Practitioner/drA"), ED_FILLS, DIRECTORY)
    assert (found.kind, found.clinician_id, found.practice_id) == ("pcp", "drA", "orgFQHC")
    # A clinician the export places in no organisation: the practice listed beside them is theirs.
    found = attribute(assigned("Practitioner/drZ", "Organization/orgFQHC"), ED_FILLS, DIRECTORY)
    assert (found.kind, found.clinician_id, found.practice_id) == ("pcp", "drZ", "orgFQHC")


def test_no_assignment_at_all_still_goes_to_the_main_prescriber():
    found = attribute(assigned(), ED_FILLS, DIRECTORY)
    assert (found.kind, found.clinician_id, found.practice_id) == ("prescriber", "drE", "orgHospital")


def test_the_row_and_the_counts_say_practice():
    resources = [
        patient("p", "1970-01-01", "Organization/orgFQHC", "Rivera"),
        dispense("f1", "p", OXYCODONE_10, "2026-01-05", 180, 30, "drE", "ph1"),
        dispense("f2", "p", OXYCODONE_10, "2026-02-04", 180, 30, "drE", "ph1"),
    ]
    outcome = evaluate_patient("p", resources, PERIOD, GuidelineConfig.from_mapping(), TODAY, DIRECTORY)
    row = outcome.row
    assert (row["attribution"], row["pcp_id"], row["pcp_name"]) == ("practice", None, None)
    assert (row["practice_id"], row["practice_name"]) == ("orgFQHC", "Fair Haven Community Health Center")
    # Before: counted among the patients "without a PCP attributed to their main prescriber".
    assert (outcome.quality.attributed_to_practice, outcome.quality.attributed_to_prescriber) == (1, 0)
    assert outcome.quality.unattributed_patients == 0


def export() -> list[dict]:
    """Rivera, assigned to the health centre, filled by drE in the ED; Soto, drA's patient at the same centre."""
    return [
        practitioner("drE", "Dr. Eve Evans"),
        practitioner("drA", "Dr. Ana Alvarez"),
        organization("orgFQHC", "Fair Haven Community Health Center"),
        organization("orgHospital", "Yale New Haven Hospital"),
        role("roleE", "drE", "orgHospital"),
        role("roleA", "drA", "orgFQHC"),
        patient("p-fqhc", "1970-01-01", "Organization/orgFQHC", "Rivera"),
        dispense("r1", "p-fqhc", OXYCODONE_10, "2026-01-05", 180, 30, "drE", "ph1"),
        dispense("r2", "p-fqhc", OXYCODONE_10, "2026-02-04", 180, 30, "drE", "ph1"),
        patient("p-soto", "1970-01-01", "Practitioner/drA", "Soto"),
        dispense("s1", "p-soto", OXYCODONE_10, "2026-01-05", 180, 30, "drA", "ph1"),
        dispense("s2", "p-soto", OXYCODONE_10, "2026-02-04", 180, 30, "drA", "ph1"),
    ]


# ---- One list of attribution kinds, which the letters read ---------------------------------------------------------

# Each kind attribute() can give, with a patient that gets it: their generalPractitioner references, and whether
# they had opioid fills in the period.
EVERY_KIND = {
    "pcp": (("Practitioner/drA",), ED_FILLS),
    "practice": (("Organization/orgFQHC",), ED_FILLS),
    "practice-pcp-not-in-directory": (("PractitionerRole/gone", "Organization/orgFQHC"), ED_FILLS),
    "prescriber": ((), ED_FILLS),
    "prescriber-pcp-not-in-directory": (("PractitionerRole/gone",), ED_FILLS),
    "prescriber-no-patient-resource": (None, ED_FILLS),  # no Patient resource at all
    "none": ((), ()),
}


def test_attribute_gives_every_kind_of_the_list_and_no_other():
    from guideline.population.attribution import ATTRIBUTION_KINDS

    found = {
        kind: attribute(None if refs is None else assigned(*refs), fills, DIRECTORY).kind
        for kind, (refs, fills) in EVERY_KIND.items()
    }
    assert found == {kind: kind for kind in EVERY_KIND}
    assert [kind.name for kind in ATTRIBUTION_KINDS] == list(EVERY_KIND)


def test_a_kind_outside_the_list_is_refused_where_it_is_made():
    # Before: any text was a kind; one the letters did not list was filtered out of every letter with nothing said.
    from guideline.population.attribution import Attribution

    with pytest.raises(ValueError, match="prescriber-of-record"):
        Attribution("prescriber-of-record", "drE", "orgHospital")
