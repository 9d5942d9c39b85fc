"""A draft renewing a staggered series through a prescription the series has already handed over: Dr Adams's three
30-day oxycodone 10 mg every-6-hours prescriptions (60 MME a day each), written one day to be filled from day 0, 30
and 60. On day 35 the second is today's dose. A renewal whose priorPrescription names the first (the one the EHR's
renew action offered, already handed over) renews the series: it stands where the second stands, counted once with
it at the larger daily dose, not summed beside it (a false 120 MME/day, a critical card for a patient taking 60)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from builders import TODAY, card, run
from test_staggered_prescriptions import PCP, day, epic_oxycodone, expiring, medication, staggered

from guideline.config import GuidelineConfig
from guideline.plan.medications import mme_now
from guideline.terminology import load_terminology
from smart_app.mme_command import mme_report

DR_BAKER = {"reference": "Practitioner/eDrB", "display": "Baker, Bo, MD"}


def renewal(prior: str, requester: dict[str, str] = PCP, tablets: int = 1) -> dict[str, Any]:
    """A draft renewal (Epic's renew action sets priorPrescription) of `prior`, to be filled today."""
    draft = epic_oxycodone("eOxy.Renew", day(0), starts=day(0), prior=prior, tablets=tablets)
    draft["status"] = "draft"
    draft["requester"] = draft["recorder"] = requester
    return draft


def report(resources: list[dict[str, Any]], drafts: list[dict[str, Any]]) -> dict[str, Any]:
    """`painplan mme` of the order-sign request carrying these drafts and records."""
    config = GuidelineConfig.from_mapping()
    request = {
        "hook": "order-sign",
        "context": {
            "patientId": "p1",
            "draftOrders": {"resourceType": "Bundle", "entry": [{"resource": d} for d in drafts]},
        },
        "prefetch": {"medsActive": {"resourceType": "Bundle", "entry": [{"resource": r} for r in resources]}},
    }
    return mme_report(request, config, load_terminology(config), TODAY)


def series(with_expiry: bool) -> list[dict[str, Any]]:
    """Day 35 of the series: as Epic sends it (each prescription expiring 90 days after its fill date, so the first
    is current to its expiry but handed over), or with no expiry (the first simply ended on day 30)."""
    return [medication(), *(expiring(-35) if with_expiry else staggered(-35))]


def test_a_renewal_naming_the_handed_over_first_prescription_is_counted_once_with_the_second() -> None:
    for with_expiry in (True, False):
        for requester in (PCP, DR_BAKER):
            resources, drafts = series(with_expiry), [renewal("eOxy.1", requester)]
            evaluation = run("order-sign", drafts=drafts, resources=resources)
            which = (with_expiry, requester["reference"])
            assert evaluation.facts.mme.total == Decimal(60), which
            high = card(evaluation, "high-mme")
            assert high is not None and high.indicator == "warning", which
            assert "60.0 MME/day with this order" in high.summary, which
            # The second is listed, not silently dropped: its dose and why it is not counted beside the renewal.
            assert "eOxy.2" in high.detail or "oxyCODONE 10 mg tablet" in high.detail, which
            assert report(resources, drafts)["current_total_mme"] == 60.0, which
            # The patient now (before the draft) still takes the second: 60.
            assert mme_now(evaluation.facts).total == Decimal(60), which


def test_the_renewals_line_says_which_series_prescription_it_stands_for() -> None:
    evaluation = run("order-sign", drafts=[renewal("eOxy.1", DR_BAKER)], resources=series(True))
    line = next(r for r in evaluation.facts.mme.orders if r.order.id == "eOxy.Renew")
    assert (
        "it renews order eOxy.1 (priorPrescription), which order eOxy.2 (the same product and prescriber, begun "
        "later) has taken over: read as the renewal of order eOxy.2, counted once with it at the larger daily dose"
        in line.explanation
    )
    second = next(r for r in evaluation.facts.mme.orders if r.order.id == "eOxy.2")
    assert second.state == "excluded" and second.reason == "renewed"
    high = card(evaluation, "high-mme")
    assert (
        high is not None
        and "which order eOxy.2 (the same product and prescriber, begun later) has taken over" in high.detail
    )


def test_a_larger_renewal_of_the_series_counts_its_own_dose() -> None:
    # Two tablets every 6 hours (120 MME a day): the larger of the two counts, the increase is judged.
    evaluation = run("order-sign", drafts=[renewal("eOxy.1", tablets=2)], resources=series(True))
    assert evaluation.facts.mme.total == Decimal(120)
    assert card(evaluation, "high-mme").indicator == "critical"


def test_a_smaller_renewal_of_the_series_does_not_hide_todays_dose() -> None:
    # Read by inference (the draft names the first, not the second), so the larger dose counts, as an implied
    # renewal's does: half a tablet beside today's full tablet reads 60, not 30.
    draft = renewal("eOxy.1")
    draft["dosageInstruction"][0]["doseAndRate"][0]["doseQuantity"]["value"] = 0.5
    draft["dosageInstruction"][0]["text"] = "Take 0.5 tablet by mouth every 6 hours."
    evaluation = run("order-sign", drafts=[draft], resources=series(True))
    assert evaluation.facts.mme.total == Decimal(60)


def test_a_renewal_naming_the_current_second_prescription_still_reads_60() -> None:
    for requester in (PCP, DR_BAKER):
        resources, drafts = series(True), [renewal("eOxy.2", requester)]
        evaluation = run("order-sign", drafts=drafts, resources=resources)
        assert evaluation.facts.mme.total == Decimal(60), requester
        assert report(resources, drafts)["current_total_mme"] == 60.0, requester


def test_the_third_prescription_is_still_named_as_starting_later() -> None:
    # The renewal names the first, not the third: the third is still a signed prescription to be filled on day 60.
    evaluation = run("order-sign", drafts=[renewal("eOxy.1")], resources=series(True))
    assert [o.id for o in evaluation.facts.later_opioids] == ["eOxy.3"]


def test_another_prescribers_current_oxycodone_is_not_the_series_renewed() -> None:
    # Not the series: Dr Baker's own oxycodone begun on day 30 is another course. A renewal of Dr Adams's first
    # prescription (ended, no series of hers has taken over) stands beside it: both count, as before.
    first, second, _ = staggered(-35)
    second["requester"] = second["recorder"] = DR_BAKER
    evaluation = run("order-sign", drafts=[renewal("eOxy.1")], resources=[medication(), first, second])
    assert evaluation.facts.mme.total == Decimal(120)


def test_another_product_beside_the_series_still_adds() -> None:
    # The renewal renews oxycodone 10 mg; a current oxycodone 5 mg order of the same prescriber is another product.
    from builders import med_request
    from test_staggered_prescriptions import OXYCODONE_5

    five = med_request(OXYCODONE_5, id="eOxy5", authored=day(-5), dose=1, period=6)
    five["requester"] = PCP
    resources = [medication(), staggered(-35)[0], five]
    evaluation = run("order-sign", drafts=[renewal("eOxy.1")], resources=resources)
    assert evaluation.facts.mme.total == Decimal(90)
