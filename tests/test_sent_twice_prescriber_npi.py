"""One fill sent twice, its prescriber named two ways: the EHR's dispense names Dr Okafor through the prescription it
fills (authorizingPrescription -> MedicationRequest.requester -> Practitioner/p1), and an HIE's copy, or the payer's
CARIN claim, names her by NPI alone. When the data holds the Practitioner the EHR names and it carries that NPI (sent
with the chart, contained in the order, or in the population export's directory), the two name one prescriber and
the fill is read once, at the point of care and in the population review alike. Without it, nothing is guessed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cds_support import full_prefetch, hook_request, make_app, oxycodone_draft
from synthetic_export import OXYCODONE_10, dispense, order, organization, practitioner
from test_fills_sent_twice import NCPDP, NPI, carin_claim
from test_fills_sent_twice import epic_dispense as claimed_fill
from test_population_enrolment import high_dose
from test_population_possible_copies import _population
from test_sent_twice_prescriber import epic_dispense, epic_order, hie_copy, total

OKAFOR_NPI = "1467586115"
OTHER_NPI = "1902000012"
EPIC_INTERNAL = "urn:oid:1.2.840.114350.1.13.0.1.7.2.697780"  # an Epic instance's own provider ids


def okafor(npi: str = OKAFOR_NPI, ident: str = "p1") -> dict[str, Any]:
    """Dr Okafor as Epic sends her (`_include=MedicationRequest:requester`): her NPI beside Epic's own provider id."""
    return {
        "resourceType": "Practitioner",
        "id": ident,
        "identifier": [
            {"use": "usual", "type": {"text": "NPI"}, "system": NPI, "value": npi},
            {"use": "usual", "type": {"text": "INTERNAL"}, "system": EPIC_INTERNAL, "value": "  E1027"},
        ],
        "active": True,
        "name": [{"use": "usual", "text": "Grace Okafor, MD", "family": "Okafor", "given": ["Grace"]}],
    }


def with_included(*matches: dict[str, Any], included: tuple[dict[str, Any], ...] = ()) -> dict[str, Any]:
    """A searchset Bundle of the matches and, after them, the resources an `_include` brought (search.mode include)."""
    entries = [{"resource": r, "search": {"mode": "match"}} for r in matches]
    entries += [{"resource": r, "search": {"mode": "include"}} for r in included]
    return {"resourceType": "Bundle", "type": "searchset", "entry": entries}


def by_npi(npi: str = OKAFOR_NPI) -> dict[str, Any]:
    """The HIE's copy's prescriber: her NPI alone, no type and no reference, as a gateway writes it."""
    return {"actor": {"identifier": {"system": NPI, "value": npi}, "display": "OKAFOR, GRACE"}}


def npi_copy(fill: dict[str, Any], npi: str = OKAFOR_NPI) -> dict[str, Any]:
    """An HIE's copy of the EHR's fill: its own id and number, no order named, the prescriber by NPI alone."""
    return hie_copy(fill, prescriber=None, performer=[by_npi(npi), {"actor": {"reference": "Organization/ph1"}}])


def contained_prescriber(npi: str = OKAFOR_NPI) -> dict[str, Any]:
    """The prescription with its prescriber contained in it (a prescriber the EHR's directory does not hold)."""
    return {**epic_order(), "contained": [{**okafor(npi), "id": "pr"}], "requester": {"reference": "#pr"}}


def cards(tmp_path: Path, meds: dict[str, Any], fills: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The cards of an order-sign of oxycodone 5 mg 2 tablets every 4 h (90 MME/day) with this chart."""
    prefetch = full_prefetch("order-sign", medsRecent=meds, dispenses=with_included(*fills))
    body = hook_request(drafts=[oxycodone_draft()], prefetch=prefetch)
    return make_app(tmp_path).test_client().post("/cds-services/order-sign", json=body).json["cards"]


def verdict(found: list[dict[str, Any]]) -> tuple[str, bool]:
    """The high-dose card's MME/day, and whether a card names a fill as possibly the same as another."""
    high = next(c for c in found if c["source"]["topic"]["code"] == "high-mme")
    return total(high), "possibly the same fill" in str(found)


# The fill was handed over on 2026-05-06 and ran out on 2026-06-04: read once, today's total is the draft's 90
# MME/day; its copy read as a second fill queues as an early refill and keeps the supply current (180 MME/day).
ENDED = "2026-05-06T15:32:00Z"


def test_the_practitioner_sent_with_the_order_joins_her_reference_and_her_npi(tmp_path: Path) -> None:
    fill = epic_dispense(ENDED)
    meds = with_included(epic_order(), included=(okafor(),))
    assert verdict(cards(tmp_path, meds, [fill, npi_copy(fill)])) == ("90", False)


def test_the_practitioner_contained_in_the_order_joins_her_npi(tmp_path: Path) -> None:
    # The order names its prescriber as the Practitioner it contains, who carries the NPI the HIE's copy gives with
    # no type. Before, the copy's NPI was read as no prescriber (it might have been a pharmacy's), so the pair was
    # named as possibly one fill sent twice and both were counted: 180 MME/day for 90.
    fill = epic_dispense(ENDED)
    assert verdict(cards(tmp_path, with_included(contained_prescriber()), [fill, npi_copy(fill)])) == ("90", False)


def test_an_order_naming_its_prescriber_by_npi_as_a_practitioner_joins_the_copys_npi(tmp_path: Path) -> None:
    # The order states whose the NPI is (`"type": "Practitioner"`); the copy gives the same NPI with no type.
    requester = {"type": "Practitioner", "identifier": {"system": NPI, "value": OKAFOR_NPI}, "display": "Okafor, G"}
    fill = epic_dispense(ENDED)
    meds = with_included({**epic_order(), "requester": requester})
    assert verdict(cards(tmp_path, meds, [fill, npi_copy(fill)])) == ("90", False)


def test_a_prescribing_member_by_npi_is_joined_so_too(tmp_path: Path) -> None:
    # A copy converted from a claim names the NPI as its prescribing performer (no type either).
    fill = epic_dispense(ENDED)
    copy = npi_copy(fill)
    copy["performer"][0]["function"] = {"coding": [{"code": "prescribing"}]}
    assert verdict(cards(tmp_path, with_included(contained_prescriber()), [fill, copy])) == ("90", False)


def test_another_npi_or_none_in_the_data_leaves_the_pair_counted_and_named(tmp_path: Path) -> None:
    # Nothing in the data says the NPI is Dr Okafor's: perhaps one fill, perhaps two; both counted, the copy named.
    fill = epic_dispense(ENDED)
    for meds in (
        with_included(epic_order()),
        with_included(epic_order(), included=(okafor(OTHER_NPI),)),
        with_included(contained_prescriber(OTHER_NPI)),
    ):
        assert verdict(cards(tmp_path, meds, [fill, npi_copy(fill)])) == ("180", True), meds


def test_a_copy_naming_another_npi_than_the_orders_prescriber_stays_apart(tmp_path: Path) -> None:
    # The order's contained Practitioner carries Dr Okafor's NPI; the copy names another NPI, of no type: nothing
    # says whose it is (a pharmacy's?), so both are counted and the copy is named, as before.
    fill = epic_dispense(ENDED)
    meds = with_included(contained_prescriber())
    assert verdict(cards(tmp_path, meds, [fill, npi_copy(fill, OTHER_NPI)])) == ("180", True)


def test_the_payers_claim_is_one_with_the_epic_fill_when_the_practitioner_is_sent(tmp_path: Path) -> None:
    # The CARIN claim names the prescriber by NPI (its prescribing care-team member) and the pharmacy by NCPDP
    # number; the Epic fill names the same pharmacy and its prescriber only through its order.
    fill = claimed_fill(authorizingPrescription=[{"reference": "MedicationRequest/eRx7Lq2Wm"}])
    fill["performer"] = [{"actor": {"type": "Organization", "identifier": {"system": NCPDP, "value": "3349217"}}}]
    meds = with_included(epic_order(), included=(okafor(),))
    assert verdict(cards(tmp_path, meds, [fill, carin_claim()])) == ("90", False)


def test_the_payers_claim_beside_a_prescriber_named_by_reference_alone_is_counted_and_named(tmp_path: Path) -> None:
    # Without her Practitioner nothing joins the order's `Practitioner/p1` and the claim's NPI: one by reference and
    # one by number are no evidence of two prescribers (`identifiers.comparable`), and alike in all else the pair may
    # be one fill. Both are counted, as when unsure, and the claim is named. Before, they were read as two named
    # prescribers: 180 MME/day and nothing said.
    fill = claimed_fill(authorizingPrescription=[{"reference": "MedicationRequest/eRx7Lq2Wm"}])
    fill["performer"] = [{"actor": {"type": "Organization", "identifier": {"system": NCPDP, "value": "3349217"}}}]
    assert verdict(cards(tmp_path, with_included(epic_order()), [fill, carin_claim()])) == ("180", True)


def test_two_prescribers_each_named_by_npi_stay_two_fills(tmp_path: Path) -> None:
    # The order names its prescriber by another NPI (typed Practitioner), the claim by Dr Okafor's: two NPIs are two
    # people, so both fills are counted and nothing is named as possibly sent twice.
    requester = {"type": "Practitioner", "identifier": {"system": NPI, "value": OTHER_NPI}}
    fill = claimed_fill(authorizingPrescription=[{"reference": "MedicationRequest/eRx7Lq2Wm"}])
    fill["performer"] = [{"actor": {"type": "Organization", "identifier": {"system": NCPDP, "value": "3349217"}}}]
    meds = with_included({**epic_order(), "requester": requester})
    assert verdict(cards(tmp_path, meds, [fill, carin_claim()])) == ("180", False)


# ---------------------------------------------------------------------------------------------------------------
# The population review: the same pairs, read by the same rule


def _review_pair(pid: str, requester: dict[str, Any], npi: str = OKAFOR_NPI) -> list[dict[str, Any]]:
    """The EHR's order and fill (its prescriber through the order) and the HIE's copy naming the prescriber by NPI."""
    rx = order(f"{pid}-rx", pid, OXYCODONE_10, "2026-01-05", per_day=6, days=30, status="completed")
    rx.update(requester)
    ehr = dispense(f"{pid}-ehr", pid, OXYCODONE_10, "2026-01-05", 180, 30, None, "ph1", order=f"{pid}-rx")
    copy = dispense(f"hie-{pid}-7781", pid, OXYCODONE_10, "2026-01-05", 180, 30, None, "ph1")
    copy["performer"].insert(0, by_npi(npi))
    return [*high_dose(pid)[:1], rx, ehr, copy, organization("ph1")]


def test_the_review_joins_the_npi_of_the_practitioner_contained_in_the_order(tmp_path, capsys) -> None:
    contained = {"contained": [{**okafor(), "id": "pr"}], "requester": {"reference": "#pr"}}
    quality, _ = _population(tmp_path, _review_pair("c1", contained), capsys)
    assert quality["duplicate_fills"] == 1
    assert quality["fills_possibly_sent_twice"] == {}


def test_the_review_joins_the_npi_through_its_directory(tmp_path, capsys) -> None:
    requester = {"requester": {"reference": "Practitioner/drA"}}
    dr_a = {**practitioner("drA"), "identifier": [{"system": NPI, "value": OKAFOR_NPI}]}
    quality, _ = _population(tmp_path / "one", [*_review_pair("c1", requester), dr_a], capsys)
    assert (quality["duplicate_fills"], quality["fills_possibly_sent_twice"]) == (1, {})
    # Another NPI in the directory, or a contained prescriber with another: both counted, and named.
    other = {**dr_a, "identifier": [{"system": NPI, "value": OTHER_NPI}]}
    quality, _ = _population(tmp_path / "two", [*_review_pair("c1", requester), other], capsys)
    assert (quality["duplicate_fills"], quality["fills_possibly_sent_twice"]) == (0, {"opioid": 1})
    contained = {"contained": [{**okafor(OTHER_NPI), "id": "pr"}], "requester": {"reference": "#pr"}}
    quality, _ = _population(tmp_path / "three", _review_pair("c1", contained), capsys)
    assert (quality["duplicate_fills"], quality["fills_possibly_sent_twice"]) == (0, {"opioid": 1})


def test_the_review_names_a_prescriber_by_reference_and_one_by_npi_it_cannot_join(tmp_path, capsys) -> None:
    # The claim's prescribing member is typed Practitioner and given by NPI; the order names `Practitioner/drA`, whom
    # the directory does not hold: not known to be one prescriber, nor two. Both counted, and named.
    requester = {"requester": {"reference": "Practitioner/drA"}}
    resources = _review_pair("c1", requester)
    resources[3]["performer"][0] = {
        "actor": {"type": "Practitioner", "identifier": {"system": NPI, "value": OKAFOR_NPI}},
        "function": {"coding": [{"code": "prescribing"}]},
    }
    quality, _ = _population(tmp_path / "one", resources, capsys)
    assert (quality["duplicate_fills"], quality["fills_possibly_sent_twice"]) == (0, {"opioid": 1})
    # The directory holds Dr A with that NPI: one prescriber, one fill.
    dr_a = {**practitioner("drA"), "identifier": [{"system": NPI, "value": OKAFOR_NPI}]}
    quality, _ = _population(tmp_path / "two", [*resources, dr_a], capsys)
    assert (quality["duplicate_fills"], quality["fills_possibly_sent_twice"]) == (1, {})


# ---------------------------------------------------------------------------------------------------------------
# A copy that contains its own Practitioner (C-CDA converted to FHIR): her NPI, and the one sent with the chart


def c_cda_copy(fill: dict[str, Any], prescribing: bool = True) -> dict[str, Any]:
    """An HIE's copy converted from a C-CDA document: the prescriber a Practitioner it contains, with her NPI."""
    prescriber: dict[str, Any] = {"actor": {"reference": "#pr", "display": "Grace Okafor, MD"}}
    if prescribing:
        prescriber["function"] = {"coding": [{"code": "prescribing"}]}
    contained = {"resourceType": "Practitioner", "id": "pr", "identifier": [{"system": NPI, "value": OKAFOR_NPI}]}
    return hie_copy(fill, prescriber=None, performer=[prescriber, {"actor": {"reference": "Organization/ph1"}}],
                    contained=[contained])  # fmt: skip


def test_a_copys_contained_practitioner_is_the_one_sent_with_the_chart_that_carries_her_npi(tmp_path: Path) -> None:
    # Practitioner/p1, sent with the order, carries the NPI the copy's contained Practitioner carries: one prescriber,
    # so one fill. Before, the contained one was read as her NPI and never looked up among the chart's resources:
    # the cards counted both fills (180 MME/day for 90) while the population review, which looks it up, joined them.
    fill = epic_dispense(ENDED)
    meds = with_included(epic_order(), included=(okafor(),))
    for prescribing in (True, False):
        assert verdict(cards(tmp_path, meds, [fill, c_cda_copy(fill, prescribing)])) == ("90", False), prescribing
    # Practitioner/p1 carrying another NPI: nothing joins them, so both are counted and the copy is named (that p1
    # carries another NPI is not read as evidence of two people: named, as when unsure).
    other = with_included(epic_order(), included=(okafor(OTHER_NPI),))
    assert verdict(cards(tmp_path, other, [fill, c_cda_copy(fill)])) == ("180", True)


def test_the_review_reads_the_copys_contained_practitioner_through_its_directory(tmp_path, capsys) -> None:
    # The same pair in the population review: the contained Practitioner's NPI is Dr A's in the export's directory.
    resources = _review_pair("c1", {"requester": {"reference": "Practitioner/drA"}})
    resources[3]["contained"] = [{"resourceType": "Practitioner", "id": "pr", "identifier": [{"system": NPI,
                                  "value": OKAFOR_NPI}]}]  # fmt: skip
    resources[3]["performer"][0] = {"actor": {"reference": "#pr"}, "function": {"coding": [{"code": "prescribing"}]}}
    dr_a = {**practitioner("drA"), "identifier": [{"system": NPI, "value": OKAFOR_NPI}]}
    quality, _ = _population(tmp_path, [*resources, dr_a], capsys)
    assert (quality["duplicate_fills"], quality["fills_possibly_sent_twice"]) == (1, {})
