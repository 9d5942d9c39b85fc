"""A dose given in clinic of a medicine PainPlan could not identify (a MedicationAdministration named "SUBOX 8MG-2MG
FLM", no code) was named nowhere: orders and fills not identified are named on the data-incomplete card and the plan
page, and listed on the "OUD without treatment" card, but a dose given was passed over. It may have been
buprenorphine, methadone or naltrexone given in clinic, so it is named now, as the unidentified orders are."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from builders import PATIENT_ID, days_ago, run
from cds_support import bundle, data_incomplete_detail, plan_page
from test_oud_unidentified import UNIDENTIFIED
from test_oud_unknown_status import oud_diagnosis

from guideline.checks.oud_treatment import CHECK_ID as OUD_CHECK
from guideline.named_gaps import NAMED_GAPS

KEY = "unidentified-administrations"


def subox_given(ago: int = 10, status: str = "completed", ident: str = "eMA.subox") -> dict[str, Any]:
    """A dose recorded as given in clinic `ago` days ago, named as a claims-style feed abbreviates it, with no code."""
    return {
        "resourceType": "MedicationAdministration",
        "id": ident,
        "status": status,
        "medicationCodeableConcept": {"text": "SUBOX 8MG-2MG FLM"},
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
        "effectiveDateTime": f"{days_ago(ago)}T10:15:00-05:00",
    }


def _kind() -> Any:
    return next(k for k in NAMED_GAPS if k.key == KEY)


def _item(ago: int = 10, ident: str = "eMA.subox") -> str:
    return f"SUBOX 8MG-2MG FLM (administration {ident}, given {days_ago(ago)})"


def test_the_order_sign_data_incomplete_card_names_it(tmp_path: Path) -> None:
    detail = data_incomplete_detail(tmp_path, extra=bundle(subox_given()))
    assert f"- {_item()}: {_kind().card.why}" in detail


def test_the_plan_pages_data_completeness_panel_names_it(tmp_path: Path) -> None:
    page = plan_page(tmp_path, subox_given()).replace("&#39;", "'")
    assert _kind().page.one in page
    assert f"{_item()}</li>" in page


def test_the_oud_card_lists_it_as_not_counted_and_does_not_deny_it() -> None:
    evaluation = run("patient-view", resources=[oud_diagnosis(), subox_given()])
    detail = next(c for c in evaluation.cards if c.check_id == OUD_CHECK).detail
    assert f"{UNIDENTIFIED} (if one is buprenorphine, methadone or naltrexone, the patient is on treatment):" in detail
    assert f"- {_item()}" in detail
    assert "was found in the last 90 days: no order, pharmacy fill or draft" not in detail


def test_one_before_the_90_days_or_not_given_is_not_named() -> None:
    facts = run("patient-view", resources=[subox_given(120, ident="eMA.old"), subox_given(5, "not-done")]).facts
    assert _kind().items(facts) == ()


def test_one_with_no_date_is_named_so() -> None:
    undated = subox_given(ident="eMA.undated")
    del undated["effectiveDateTime"]
    facts = run("patient-view", resources=[undated]).facts
    assert _kind().items(facts) == ("SUBOX 8MG-2MG FLM (administration eMA.undated, no date)",)


def test_one_of_unknown_status_says_so() -> None:
    facts = run("patient-view", resources=[subox_given(status="unknown")]).facts
    assert _kind().items(facts) == (
        f"SUBOX 8MG-2MG FLM (administration eMA.subox, status unknown, given {days_ago(10)})",
    )
