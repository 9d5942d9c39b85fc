"""The FHIR models a hook call validates its suggestions with are loaded before the workers fork, the STU3 ones an
STU3 EHR's suggestions need included: loaded lazily, each worker's first such call paid tenths of a second."""

from __future__ import annotations

import subprocess
import sys

from cds_hooks.ehr_release import RELEASES
from cds_hooks.stu3_resources import stu3_type
from guideline.cards import ADDRESSING
from smart_app.warmup import FHIR_MODELS, MODELS_BY_RELEASE, STU3_SUGGESTION_MODELS


def test_every_type_a_suggestion_is_written_as_is_preloaded() -> None:
    # Every type PainPlan writes, a site's template's too (the warm-up reads no site's templates), in R4 and as STU3
    # names it.
    assert set(ADDRESSING) <= set(FHIR_MODELS)
    assert {stu3_type(kind) for kind in ADDRESSING} <= set(STU3_SUGGESTION_MODELS)


def test_the_stu3_models_are_the_written_types_as_stu3_names_them() -> None:
    # Read from guideline.cards.ADDRESSING, not kept beside it: the same nine models as the hand-kept list loaded.
    assert sorted(STU3_SUGGESTION_MODELS) == [
        "CarePlan",
        "Communication",
        "CommunicationRequest",
        "DeviceRequest",
        "MedicationRequest",
        "Observation",
        "Procedure",
        "ProcedureRequest",
        "Task",
    ]


def test_the_warm_up_loads_models_for_every_release_the_table_writes_in() -> None:
    assert set(MODELS_BY_RELEASE) == {release.name for release in RELEASES.values() if release.writes}


def test_load_fhir_models_imports_the_stu3_suggestion_models() -> None:
    # A fresh interpreter: this test process may have imported the models already for other tests.
    probe = (
        "import sys; from smart_app.warmup import load_fhir_models; load_fhir_models(); "
        "print(' '.join(sorted(m for m in sys.modules if m.startswith('fhir.resources.STU3.'))))"
    )
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.split()
    assert {"fhir.resources.STU3.procedurerequest", "fhir.resources.STU3.medicationrequest"} <= set(loaded)
