"""An opioid whose name was only partly read ("ASA/CARISOPRO/CODEINE TAB 325-200-16MG": codeine and aspirin read, the
cut "CARISOPRO" not) may hold a sedative in the word not read: codeine is sold with butalbital (Fioricet and Fiorinal
with codeine) and carisoprodol (Soma compound with codeine). The opioid + sedative check cannot tell, and says so;
an opioid never sold with a sedative ("oxycodone / Foo 5 mg") is not named for it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import test_recognition_probes as probes
from builders import days_ago, med_request, patient, run
from cds_support import bundle, full_prefetch, hook_request, make_app
from werkzeug.datastructures import MultiDict

from guideline.config import GuidelineConfig
from guideline.fhirdata import NDC, Coding, Concept
from guideline.named_gaps import NAMED_GAPS
from guideline.recognition import recognise, sedatives_maybe_unread
from guideline.record import ResolvedMedication
from guideline.terminology import load_terminology
from smart_app.plan_view import PageInput, assemble, render_page

EPIC_MEDICATION = "urn:oid:1.2.840.114350.1.13.0.1.7.2.698288"  # an Epic site's own medication records (ERX)
AMOXICILLIN = "308191"  # amoxicillin 500 MG Oral Capsule: an order no opioid check reads
OXYCODONE = "1049621"  # oxycodone hydrochloride 5 MG Oral Tablet
KEY = "partly-read-opioids"
WHY = "the ingredient not recognised may be a sedative"

# As First Databank and Medi-Span cut them for a PBM's medication history (NDC and display only).
SOMA_CODEINE_CUT = "ASA/CARISOPRO/CODEINE TAB 325-200-16MG"
FIORICET_CODEINE_CUT = "CODEINE/BUTALBIT/APAP/CAFF CAP 30-50-300-40MG"
# Ascomp with Codeine (butalbital, aspirin, caffeine, codeine) as an Epic site's own medication record names it.
ASCOMP_CODEINE = "ASCOMP-CODEINE 30-50-325-40 MG CAP"


def terms(**config: Any):
    return load_terminology(GuidelineConfig.from_mapping(config))


def medication(display: str) -> ResolvedMedication:
    return ResolvedMedication(concept=Concept((Coding(NDC, "00406-0123-01", display),)))


def ndc_only(display: str) -> dict[str, Any]:
    return {"coding": [{"system": NDC, "code": "00406-0123-01", "display": display}]}


def epic_local(display: str) -> dict[str, Any]:
    return {"coding": [{"system": EPIC_MEDICATION, "code": "208771", "display": display}], "text": display}


def ordered(concept: dict[str, Any], *, draft: bool = False, id: str = "mr-cod") -> dict[str, Any]:
    request = med_request("0", draft=draft, id=id, authored=None if draft else days_ago(5))
    request["medicationCodeableConcept"] = concept
    return request


def gap():
    return next(g for g in NAMED_GAPS if g.key == KEY)


def answer(tmp_path: Path, hook: str, drafts: list[dict[str, Any]], meds: list[dict[str, Any]]) -> dict[str, Any]:
    body = hook_request(hook, drafts=drafts, prefetch=full_prefetch(hook, medsActive=bundle(*meds)))
    response = make_app(tmp_path).test_client().post(f"/cds-services/{hook}", json=body)
    assert response.status_code == 200
    return response.json


def detail_of(response: dict[str, Any], topic: str) -> str:
    found = next((c for c in response["cards"] if c["source"]["topic"]["code"] == topic), None)
    return found["detail"] if found else ""


@pytest.mark.parametrize(
    ("display", "sedatives"),
    [
        (SOMA_CODEINE_CUT, ("butalbital", "carisoprodol")),
        (FIORICET_CODEINE_CUT, ("butalbital", "carisoprodol")),
        (ASCOMP_CODEINE, ("butalbital", "carisoprodol")),
        ("codeine / Xyzzol 30 mg", ("butalbital", "carisoprodol")),
        ("oxycodone / Foo 5 mg", ()),  # no oxycodone product holds a sedative
        ("HYDROCODONE/HOMATROP TAB 5-1.5MG", ()),
        ("FIORICET W/ CODEINE CAP", ()),  # read whole: its butalbital is counted as the sedative it is
        ("CODEINE SULF TAB 30MG", ()),  # read whole
    ],
)
def test_the_sedatives_a_partly_read_opioid_may_hold(display: str, sedatives: tuple[str, ...]) -> None:
    assert sedatives_maybe_unread(recognise(medication(display), terms()), terms()) == sedatives


def test_with_barbiturates_left_out_only_carisoprodol_is_asked_after() -> None:
    site = terms(cns={"include_barbiturates": False})
    assert sedatives_maybe_unread(recognise(medication(FIORICET_CODEINE_CUT), site), site) == ("carisoprodol",)


@pytest.mark.parametrize("shape", [ndc_only, epic_local], ids=["ndc", "epic"])
def test_signing_a_partly_read_codeine_product_says_the_sedative_check_could_not_tell(tmp_path: Path, shape) -> None:
    # Before: only the dose card named it ("which strength is the opioid's could not be told"); the opioid +
    # sedative check was silent, though the word not read may be carisoprodol.
    response = answer(tmp_path, "order-sign", [ordered(shape(SOMA_CODEINE_CUT), draft=True, id="draft-cod")], [])
    assert detail_of(response, "opioid-benzodiazepine") == ""
    detail = detail_of(response, "data-incomplete")
    line = next((line for line in detail.splitlines() if SOMA_CODEINE_CUT in line), "")
    assert "(draft order draft-cod, read as aspirin and codeine;" in line
    assert "codeine is sold with butalbital or carisoprodol" in line
    assert WHY in line and "opioid + sedative check could not tell" in line


def test_signing_another_opioid_names_a_current_partly_read_codeine_product(tmp_path: Path) -> None:
    """The check pairs the new oxycodone with the sedatives on record: the current codeine product may be one."""
    drafts = [med_request(OXYCODONE, draft=True, id="draft-oxy")]
    response = answer(tmp_path, "order-sign", drafts, [ordered(ndc_only(FIORICET_CODEINE_CUT))])
    assert detail_of(response, "opioid-benzodiazepine") == ""
    line = f"- {FIORICET_CODEINE_CUT} (current order mr-cod, read as codeine, acetaminophen and caffeine;"
    assert line in detail_of(response, "data-incomplete")


def test_patient_view_names_a_current_partly_read_codeine_product(tmp_path: Path) -> None:
    response = answer(tmp_path, "patient-view", [], [ordered(epic_local(ASCOMP_CODEINE))])
    assert f"- {ASCOMP_CODEINE} (current order mr-cod, read as codeine;" in detail_of(response, "data-incomplete")


def test_a_partly_read_opioid_never_sold_with_a_sedative_is_not_named_for_it(tmp_path: Path) -> None:
    response = answer(tmp_path, "order-sign", [ordered(epic_local("oxycodone / Foo 5 mg"), draft=True)], [])
    assert WHY not in detail_of(response, "data-incomplete")


def test_signing_an_order_no_opioid_check_reads_does_not_name_it_on_the_card(tmp_path: Path) -> None:
    """The check judged nothing: named on every unrelated order it would be noise. The plan page names it."""
    drafts = [med_request(AMOXICILLIN, draft=True, id="draft-amox")]
    response = answer(tmp_path, "order-sign", drafts, [ordered(ndc_only(SOMA_CODEINE_CUT))])
    assert SOMA_CODEINE_CUT not in detail_of(response, "data-incomplete")


def test_where_the_check_counts_no_sedative_but_benzodiazepines_it_is_not_named_on_the_card() -> None:
    """No benzodiazepine is sold with an opioid: with the CNS depressant part of the check off, nothing is missed."""
    config = {"checks": {"opioid-benzodiazepine": {"cns_enabled": False}}}
    evaluation = run("order-sign", drafts=[ordered(ndc_only(SOMA_CODEINE_CUT), draft=True)], config=config)
    assert gap().card_named(evaluation.facts) == ()
    assert gap().items(evaluation.facts) != ()


def test_the_plan_page_panel_names_it(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    settings = app.config["PAINPLAN"]
    with app.test_request_context("/plan"):
        view = assemble(
            PageInput((patient(), ordered(ndc_only(SOMA_CODEINE_CUT))), (), ()),
            settings.guideline,
            "p1",
            settings.evaluation_now(),
            MultiDict(),
        )
        page = render_page(view, MultiDict(), lambda **_: "/plan", handle="H")
    panel = re.search(r'<section id="completeness".*?</section>', page, re.S)
    assert panel is not None and f'<ul id="{KEY}"><li>{SOMA_CODEINE_CUT} (current order mr-cod' in panel.group(0)


def probe_names() -> list[str]:
    """Every real drug name the recognition probes read (payers' cut names, Epic's, ordinary combinations)."""
    names: list[str] = list(probes.ORDINARY_COMBINATIONS)
    for test in vars(probes).values():
        for mark in getattr(test, "pytestmark", ()):
            if mark.name == "parametrize" and mark.args[0] in ("display", ("display", "mme_per_day")):
                names += [value if isinstance(value, str) else value[0] for value in mark.args[1]]
    return list(dict.fromkeys(names))


def test_the_probes_real_names_are_enough() -> None:
    assert len(probe_names()) >= 28


@pytest.mark.parametrize("display", probe_names())
def test_no_real_name_of_the_probes_is_named_for_it(display: str) -> None:
    """Drafted and beside a drafted opioid, on order-sign and patient-view: no new line on any card."""
    for hook, drafts, resources in (
        ("order-sign", [ordered(ndc_only(display), draft=True, id="d1")], []),
        ("order-sign", [med_request(OXYCODONE, draft=True, id="ox1")], [ordered(ndc_only(display))]),
        ("patient-view", [], [ordered(ndc_only(display))]),
    ):
        evaluation = run(hook, drafts=drafts, resources=resources)
        assert gap().items(evaluation.facts) == ()


# ---- one medicine, one line: a partly read codeine product whose dose is unknown too ----

MME_UNKNOWN = "its daily dose in MME could not be worked out"


def lines_naming(detail: str, name: str) -> list[str]:
    return [line for line in detail.splitlines() if line.startswith(f"- {name} (")]


def test_patient_view_names_a_partly_read_codeine_of_unknown_mme_in_one_line(tmp_path: Path) -> None:
    """Before: one line said it was partly read (a sedative may be in it), a second that its MME was unknown."""
    response = answer(tmp_path, "patient-view", [], [ordered(epic_local(ASCOMP_CODEINE))])
    lines = lines_naming(detail_of(response, "data-incomplete"), ASCOMP_CODEINE)
    assert len(lines) == 1, lines
    assert "(current order mr-cod, read as codeine;" in lines[0]
    assert WHY in lines[0] and MME_UNKNOWN in lines[0] and "high-dose check" in lines[0]


def test_patient_view_names_a_current_fill_of_it_in_one_line(tmp_path: Path) -> None:
    """A PBM's fill known by its NDC and cut name: named once, as a current fill, with both unknowns."""
    dispensed = probes.fill(ndc_only(SOMA_CODEINE_CUT), 60, 30, when=days_ago(5))
    body = hook_request("patient-view", prefetch=full_prefetch("patient-view", dispenses=bundle(dispensed)))
    response = make_app(tmp_path).test_client().post("/cds-services/patient-view", json=body).json
    lines = lines_naming(detail_of(response, "data-incomplete"), SOMA_CODEINE_CUT)
    assert len(lines) == 1, lines
    assert "(current fill f1, read as aspirin and codeine;" in lines[0]
    assert WHY in lines[0] and MME_UNKNOWN in lines[0]


def test_the_plan_page_names_it_once_too() -> None:
    from guideline.plan.alerts import incomplete_data

    evaluation = run("patient-view", resources=[ordered(epic_local(ASCOMP_CODEINE))])
    named = [(item, why) for item, why in incomplete_data(evaluation) if item.startswith(f"{ASCOMP_CODEINE} (")]
    assert len(named) == 1, named
    assert WHY in named[0][1] and MME_UNKNOWN in named[0][0]
