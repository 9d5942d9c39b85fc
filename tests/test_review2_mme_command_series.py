"""Review (session 22): `painplan mme` marks `current` what the card counts today. A staggered series being signed
is counted once (guideline.later_starts): its later prescriptions are listed with why, and are not current, so the
current lines add up to `current_total_mme` (they were all `current`: 180 MME/day of lines beside a total of 60)."""

from __future__ import annotations

from test_staggered_prescriptions import TODAY, draft_oxycodone, medication

from guideline.config import GuidelineConfig
from guideline.terminology import load_terminology
from smart_app.mme_command import mme_report

CONFIG = GuidelineConfig.from_mapping()


def test_the_later_prescriptions_of_a_series_being_signed_are_not_current() -> None:
    drafts = [draft_oxycodone(1, 0), draft_oxycodone(2, 30), draft_oxycodone(3, 60)]
    request = {
        "hook": "order-sign",
        "context": {
            "patientId": "p1",
            "draftOrders": {"resourceType": "Bundle", "entry": [{"resource": d} for d in drafts]},
        },
        "prefetch": {"medsActive": {"resourceType": "Bundle", "entry": [{"resource": medication()}]}},
    }
    report = mme_report(request, CONFIG, load_terminology(CONFIG), TODAY)
    current = {line["id"]: line["current"] for line in report["orders"]}
    assert current == {"eOxy.Draft1": True, "eOxy.Draft2": False, "eOxy.Draft3": False}
    counted = sum(line["mme_per_day"] for line in report["orders"] if line["current"])
    assert counted == report["current_total_mme"] == 60.0
