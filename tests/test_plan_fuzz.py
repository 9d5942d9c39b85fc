"""Fuzzing the plan page: a few hundred launches of the demo patients' charts, each with the EHR's FHIR answers
mutated by a seeded random mutator (wrong types, lists for strings, deleted fields, huge numbers, unicode, nulls,
nested Bundles, a search answered with something that is not a Bundle or with an OperationOutcome, an entry of the
wrong type, impossible dates, a Quantity whose value is text, a reference to itself, a contained Medication with no
code). Whatever arrives: the page answers 200 (or a clear error page), never a 5xx, never a traceback or exception
text; when a part of the page failed it says so on the data-completeness panel; and a resource the mutation made
unreadable is never dropped from a page that still looks complete."""

from __future__ import annotations

import copy
import json
import random
import re
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from html import escape
from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlsplit

import pytest
import responses
from fuzz_support import mutate_at, node_at, paths
from launch_support import PUBLIC_URL, make_app

FHIR = "https://ehr.example.org/fhir/r4"
TOKEN = "plan-fuzz-secret-token"
TODAY = date(2026, 3, 15)  # the demo data are shifted to this day
SEED = 20261206
CASES = 300

ODD_VALUES: tuple[Any, ...] = (
    None,
    True,
    0,
    -1,
    10**40,
    1.5e308,
    "",
    " ",
    "null",
    "ünïcødé ✓ 𝄞 مرحبا",
    "\u0000\u202e",
    "x" * 3000,
    "Patient/../../x",
    "http://snomed.info/sct|123",
    [],
    {},
    [None],
    [[["deep"]]],
    {"coding": {"code": 1}},
    {"reference": {"reference": "Medication/1"}},
    {"value": "ten", "unit": 5},
)
BAD_DATES = ("2026-02-30", "2026-13", "20260101", "2026-13-45T25:61:00Z", "yesterday")
# Answers to a whole search that are no searchset Bundle.
NOT_BUNDLES: tuple[Any, ...] = (
    [],
    "Bundle",
    None,
    {"resourceType": "Patient", "id": "stray"},
    {"entry": []},
    {"resourceType": "Bundle", "type": "searchset", "entry": {"resource": {}}},
    {"resourceType": "Bundle", "type": "searchset", "entry": [None, 5, "x"]},
)
OUTCOME = {
    "resourceType": "OperationOutcome",
    "issue": [{"severity": "error", "code": "processing", "diagnostics": "Search failed (fuzz)"}],
}
EXCEPTION_TEXT = re.compile(
    r"Traceback|File \"|\b(?:TypeError|KeyError|AttributeError|ValueError|IndexError|RecursionError|"
    r"InvalidOperation|OverflowError|ZeroDivisionError|UnicodeError)\b"
)


def demo_charts() -> dict[str, list[dict[str, Any]]]:
    """Each demo patient's resources as the demo FHIR server serves them on TODAY (dates shifted)."""
    from smart_app.demo_fhir import demo_index

    index = demo_index(TODAY)
    charts: dict[str, list[dict[str, Any]]] = {}
    for (patient_id, _kind), resources in sorted(index.by_patient.items()):
        charts.setdefault(patient_id, []).extend(copy.deepcopy(list(resources)))
    return charts


def _generic(rng: random.Random, resource: dict[str, Any]) -> str:
    """test_cds_fuzz.py's mutations, inside one resource (never its resourceType or id: those have their own)."""
    places = [p for p in paths(resource) if p[0] not in ("resourceType", "id")]
    if not places:
        return "nothing to mutate"
    path = rng.choice(places)
    kind = mutate_at(rng, node_at(resource, path[:-1]), path[-1], ODD_VALUES)
    return f"{kind} at {'/'.join(map(str, path))[:100]}"


def _bad_date(rng: random.Random, resource: dict[str, Any]) -> str:
    """A date or dateTime written as no calendar has it."""
    dated = [p for p in paths(resource) if isinstance(v := node_at(resource, p), str) and re.match(r"\d{4}-\d\d", v)]
    if not dated:
        return _generic(rng, resource)
    path, bad = rng.choice(dated), rng.choice(BAD_DATES)
    node_at(resource, path[:-1])[path[-1]] = bad
    return f"date {bad} at {'/'.join(map(str, path))}"


def _text_quantity(rng: random.Random, resource: dict[str, Any]) -> str:
    """A Quantity whose value is text ("10" or "ten")."""
    quantities = [p for p in paths(resource) if isinstance(v := node_at(resource, p), dict) and "value" in v]
    if not quantities:
        return _generic(rng, resource)
    path = rng.choice(quantities)
    node = node_at(resource, path)
    node["value"] = rng.choice((str(node["value"]), "ten", "1,5", ""))
    return f"text quantity {node['value']!r} at {'/'.join(map(str, path))}"


def _self_reference(rng: random.Random, resource: dict[str, Any]) -> str:
    """A reference that names the resource itself."""
    refs = [p for p in paths(resource) if p[-1] == "reference" and isinstance(node_at(resource, p), str)]
    me = f"{resource.get('resourceType')}/{resource.get('id')}"
    if not refs:
        resource["basedOn"] = [{"reference": me}]
        return "basedOn itself"
    path = rng.choice(refs)
    node_at(resource, path[:-1])["reference"] = me
    return f"self reference at {'/'.join(map(str, path))}"


def _contained_no_code(rng: random.Random, resource: dict[str, Any]) -> str:
    """The medicine as a contained Medication that has no code."""
    if "medicationCodeableConcept" not in resource and "medicationReference" not in resource:
        return _generic(rng, resource)
    resource.pop("medicationCodeableConcept", None)
    resource["medicationReference"] = {"reference": "#med-no-code"}
    resource["contained"] = [{"resourceType": "Medication", "id": "med-no-code", "status": "active"}]
    return "contained Medication with no code"


def _wrong_type(rng: random.Random, resource: dict[str, Any]) -> str:
    """The entry is a resource of another type (or has no readable type)."""
    new = rng.choice(("Patient", "Bundle", "Medication", "Binary", None, 7, ["MedicationRequest"]))
    if new is None:
        del resource["resourceType"]
    else:
        resource["resourceType"] = new
    return f"resourceType {new!r}"


RESOURCE_MUTATIONS: tuple[tuple[Callable[[random.Random, dict[str, Any]], str], int], ...] = (
    (_generic, 10),
    (_bad_date, 3),
    (_text_quantity, 2),
    (_self_reference, 1),
    (_contained_no_code, 2),
    (_wrong_type, 2),
)


@dataclass
class Case:
    """One launch: the patient, the mutated resource (by type and id) or the search type answered badly."""

    number: int
    patient_id: str
    resources: list[dict[str, Any]]
    target: tuple[str, str] | None = None
    replacement: dict[str, Any] | None = None
    bad_search: str | None = None  # resource type whose searches all answer `bad_answer`
    bad_answer: Any = None
    bad_status: int = 200
    what: str = ""
    requests: list[str] = field(default_factory=list)

    @property
    def resource_level(self) -> bool:
        return self.target is not None


def build_case(rng: random.Random, number: int, charts: dict[str, list[dict[str, Any]]]) -> Case:
    """One seeded case: a resource of the patient's chart mutated, or one search type answered badly."""
    patient_id = rng.choice(sorted(charts))
    resources = charts[patient_id]
    case = Case(number, patient_id, resources)
    kinds = sorted({r["resourceType"] for r in resources} | {"Goal", "Consent", "DocumentReference"})
    if rng.random() < 0.15:
        case.bad_search = rng.choice(kinds)
        pick = rng.choice(("not-bundle", "outcome", "outcome-500", "nested"))
        if pick == "not-bundle":
            case.bad_answer = copy.deepcopy(rng.choice(NOT_BUNDLES))
        elif pick == "outcome":
            case.bad_answer = OUTCOME
        elif pick == "outcome-500":
            case.bad_answer, case.bad_status = OUTCOME, 500
        else:
            case.bad_answer = "nested"
        case.what = f"{case.bad_search} searches answered {pick}: {json.dumps(case.bad_answer)[:60]}"
        return case
    resource = rng.choice([r for r in resources if r["resourceType"] != "Patient" or rng.random() < 0.3])
    replacement = copy.deepcopy(resource)
    mutations, weights = zip(*RESOURCE_MUTATIONS, strict=True)
    done = [rng.choices(mutations, weights)[0](rng, replacement) for _ in range(rng.randint(1, 2))]
    case.target = (resource["resourceType"], resource["id"])
    case.replacement = replacement
    case.what = f"{case.target[0]}/{case.target[1]}: {'; '.join(done)}"
    return case


class FuzzFhir:
    """The demo FHIR server's answers for the case's patient, with the case's mutation applied."""

    def __init__(self, rsps: responses.RequestsMock) -> None:
        self.case: Case | None = None
        rsps.add_callback(responses.GET, re.compile(re.escape(FHIR) + r"/.*"), callback=self._answer)

    def _answer(self, request: Any) -> tuple[int, dict[str, str], str]:
        from smart_app.demo_fhir import demo_index, search_bundle
        from smart_app.demo_search import SearchError

        assert self.case is not None
        case = self.case
        url = urlsplit(request.url)
        path = url.path[len(urlsplit(FHIR).path) + 1 :]
        case.requests.append(request.url)
        kind = path.split("/")[0]
        index = demo_index(TODAY)
        if "/" in path:
            found = index.by_id.get(tuple(path.split("/", 1)))  # type: ignore[arg-type]
            if found is None:
                return 404, {}, json.dumps(OUTCOME)
            return 200, {}, json.dumps(self._swap(found))
        if kind == case.bad_search and case.bad_answer != "nested":
            return case.bad_status, {}, json.dumps(case.bad_answer)
        try:
            bundle = search_bundle(index, kind, parse_qsl(url.query), FHIR)
        except SearchError as error:
            return 400, {}, json.dumps({**OUTCOME, "issue": [{"severity": "error", "diagnostics": str(error)}]})
        assert bundle is not None
        bundle = copy.deepcopy(bundle)
        for entry in bundle["entry"]:
            entry["resource"] = self._swap(entry["resource"])
        if kind == case.bad_search:  # "nested": the page's entries inside a Bundle inside the searchset
            inner = {"resourceType": "Bundle", "type": "collection", "entry": bundle["entry"]}
            bundle["entry"] = [{"resource": inner}] if bundle["entry"] else []
        return 200, {}, json.dumps(bundle)

    def _swap(self, resource: dict[str, Any]) -> Any:
        case = self.case
        assert case is not None
        if case.target == (resource.get("resourceType"), resource.get("id")):
            return case.replacement
        return resource


@pytest.fixture(scope="module")
def fuzz_fhir() -> Iterator[FuzzFhir]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield FuzzFhir(rsps)


@pytest.fixture(scope="module")
def app(tmp_path_factory: Any) -> Any:
    from launch.session import begin_trusted_launch

    app = make_app(tmp_path_factory.mktemp("plan-fuzz"), [], today=TODAY)

    @app.get("/_ehr_opens_plan")
    def _opens() -> Any:
        from flask import request

        return begin_trusted_launch(iss=FHIR, patient_id=request.args["patient"], access_token=TOKEN, app_context={})

    return app


@dataclass
class Shown:
    """What one launch showed: the response and the view it was rendered from (and any other routes asked)."""

    status: int
    html: str
    view: Any
    also: tuple[Shown, ...] = ()


# The other routes that read the same data: the plan printed in full, and the patient's handout.
ROUTES = {"print": ("/plan", {"print": "full"}), "handout": ("/plan/handout", {"schedule": "1"})}


def open_plan(app: Any, patient_id: str, monkeypatch: Any, also: tuple[str, ...] = (), **params: str) -> Shown:
    """Launch the plan page for the patient and capture the PlanView it rendered; `also` names ROUTES to ask too."""
    import smart_app.plan_view as plan_view

    seen: list[Any] = []
    real = plan_view.render_page

    def capture(view: Any, *args: Any, **kwargs: Any) -> str:
        seen.append(view)
        return real(view, *args, **kwargs)

    client = app.test_client()
    launched = client.get("/_ehr_opens_plan", query_string={"patient": patient_id}, base_url=PUBLIC_URL)
    assert launched.status_code == 303
    handle = parse_qs(urlsplit(launched.headers["Location"]).query)["s"][0]
    with monkeypatch.context() as patch:
        patch.setattr(plan_view, "render_page", capture)
        first = _get(client, "/plan", {"s": handle, **params})
        others = tuple(_get(client, ROUTES[name][0], {"s": handle, **ROUTES[name][1]}) for name in also)
    return Shown(first.status, first.html, seen[0] if seen and first.status == 200 else None, others)


def _get(client: Any, path: str, query: dict[str, str]) -> Shown:
    """One GET; an exception (the app is in testing mode, so it would have been a 500) as a 500 saying where."""
    try:
        response = client.get(path, query_string=query, base_url=PUBLIC_URL)
    except Exception as error:  # noqa: BLE001
        frame = traceback.extract_tb(error.__traceback__)[-1]
        return Shown(500, f"{type(error).__name__}: {error} at {frame.filename}:{frame.lineno}", None)
    return Shown(response.status_code, response.get_data(as_text=True), None)


def named(view: Any) -> set[str]:
    """Everything the page names as not read or not built: failed or cut-off searches, unreadable resources, named
    gaps and sections that could not be built."""
    out = {f"search {q.key} {q.ok} {q.error} {q.truncated}" for q in view.completeness if not q.ok or q.truncated}
    out |= {f"unreadable {item}" for item in view.unreadable}
    out |= {f"gap {key} {item}" for key, items in view.named.items() for item in items}
    out |= {f"section {s.key}: {s.error}" for s in (*view.sections, view.banner) if s.error}
    return out


def shown_items(view: Any) -> set[str]:
    """What the page shows of the chart, item by item: the opioids and their total, drug tests, scores, risk factors,
    tiles, steps and cards (a mutation that makes one of them vanish must make something else named)."""
    out: set[str] = set()
    content = {s.key: s.content for s in view.sections if s.content is not None}
    if (meds := content.get("medications")) is not None:
        out.add(f"total {meds.total_mme}")
        out |= {f"opioid {r.name} {r.mme}" for r in (*meds.opioids, *meds.not_counted, *meds.fills)}
        out |= {f"medicine {name}" for name in (*meds.sedatives, *meds.naloxone)}
    if (uds := content.get("uds")) is not None:
        out |= {f"uds {r.day} {r.test}" for r in uds.rows}
    if (scores := content.get("scores")) is not None:
        out |= {f"score {p.day} {p.value}" for p in (*scores.peg, *scores.pain)}
    if (risks := content.get("risks")) is not None:
        out |= {f"risk {r.label}" for r in risks.present}
    out |= {f"task {t.key} {t.state} {t.last_done}" for t in content.get("tasks") or ()}
    if (steps := content.get("steps")) is not None:
        out |= {f"step {s.key} {s.status}" for s in steps.steps}
    if (alerts := content.get("alerts")) is not None:
        out |= {f"card {c.summary}" for c in alerts.cards}
    return out


def completeness_panel(html: str) -> str:
    match = re.search(r'<section id="completeness".*?</section>', html, re.S)
    assert match, "no data-completeness panel"
    return match.group(0)


# A mutation that makes the resource itself unreadable, or a search's answer no searchset: whatever it costs the
# page must be named. Other mutations may change what the page shows legitimately (a date moved, a code changed to
# one PainPlan does not know); those that change it with nothing named are printed, and the ones found so far to be
# real gaps are the tests below (an entry turned into a Bundle, an impossible date or a status that is a list on a
# review, an older order whose contained Medication has no code), each now named.
MUST_BE_NAMED = re.compile(r"resourceType (?!'Bundle')|searches answered")


def _inject(rng: random.Random, patch: Any) -> str:
    """Break one part of the page (a section's builder) or one guideline check, so the naming rule is exercised."""
    from guideline.checks import CHECKS

    if rng.random() < 0.5:
        builder = rng.choice(sorted(PARTS))
        patch.setattr(f"guideline.plan.assembly.{builder}", _broken)
        return f"failing part {builder}"
    check = rng.choice(sorted(CHECKS))
    patch.setattr(CHECKS[check], "evaluate", _broken)
    return f"failing check {check}"


def _unnamed_failures(view: Any, html: str) -> list[str]:
    """Parts not built and checks not run that the data-completeness panel does not name."""
    panel = completeness_panel(html)
    missing = [f"part {title}" for title, _ in view.not_built if f"<li>{escape(title)}: " not in panel]
    missing += [f"check {check}" for check in view.checks_not_run if f"<li>{check}</li>" not in panel]
    return missing


def test_mutated_fhir_answers_never_crash_the_plan_page_or_drop_data_silently(
    app: Any, fuzz_fhir: FuzzFhir, monkeypatch: Any
) -> None:
    rng = random.Random(SEED)
    charts = demo_charts()
    baseline: dict[str, tuple[set[str], set[str]]] = {}
    for patient_id in sorted(charts):
        fuzz_fhir.case = Case(-1, patient_id, charts[patient_id])
        shown = open_plan(app, patient_id, monkeypatch)
        assert shown.status == 200 and shown.view is not None and not shown.view.not_built
        baseline[patient_id] = named(shown.view), shown_items(shown.view)
    failures: list[str] = []
    unnamed_changes: list[str] = []  # value-level mutations that changed the page with nothing new named
    counts = {"cases": 0, "named": 0, "injected": 0, "extra routes": 0}
    for number in range(CASES):
        case = build_case(rng, number, charts)
        fuzz_fhir.case = case
        counts["cases"] += 1
        with monkeypatch.context() as patch:
            injected = _inject(rng, patch) if number % 10 == 0 else ""
            # The printed plan and the handout read the same data: every seventh case asks for them too.
            also = ("print", "handout") if number % 7 == 0 else ()
            shown = open_plan(app, case.patient_id, monkeypatch, also=also)
        where = f"case {number} ({case.patient_id}) {case.what} {injected}"
        counts["extra routes"] += len(also)
        for page in (shown, *shown.also):
            if page.status >= 500 or page.status == 200 and EXCEPTION_TEXT.search(page.html):
                said = page.html[:300] if page.view is None else EXCEPTION_TEXT.search(page.html)
                failures.append(f"{where}: HTTP {page.status}, {said}")
        if shown.view is None:
            continue
        view = shown.view
        failures += [f"{where}: not named on the panel: {m}" for m in _unnamed_failures(view, shown.html)]
        crashed = [(t, e) for t, e in view.not_built if e.startswith("This section could not be built")]
        if crashed and not injected:
            failures.append(f"{where}: a section crashed: {crashed}")
        counts["injected"] += bool(view.not_built or view.checks_not_run) and bool(injected)
        before_named, before_items = baseline[case.patient_id]
        lost = before_items - shown_items(view)
        newly_named = named(view) - before_named
        counts["named"] += bool(newly_named)
        if lost and not newly_named:
            if MUST_BE_NAMED.search(case.what):
                failures.append(f"{where}: silently lost {sorted(lost)[:4]}")
            else:
                unnamed_changes.append(f"{where}: {sorted(lost)[:2]}")
    print(f"plan fuzz: {counts}; value-level changes with nothing named: {len(unnamed_changes)}")
    print("\n".join(unnamed_changes))
    assert not failures, "\n".join(failures)
    # The mutator must exercise both: pages that name what they could not read, and parts that failed.
    assert counts["named"] > CASES // 5 and counts["injected"] > 0, counts


# -- Reduced cases the fuzzer found, each a small deterministic test ------------------------------------------------


def _one_case(patient_id: str, target: str, change: Callable[[dict[str, Any]], None]) -> Case:
    """A case whose only mutation is `change` applied to the demo patient's resource `target` ("Type/id")."""
    resources = demo_charts()[patient_id]
    kind, _, resource_id = target.partition("/")
    replacement = copy.deepcopy(next(r for r in resources if (r["resourceType"], r["id"]) == (kind, resource_id)))
    change(replacement)
    return Case(0, patient_id, resources, (kind, resource_id), replacement, what=target)


def _without_type(resource: dict[str, Any]) -> None:
    del resource["resourceType"]


def _as_patient(resource: dict[str, Any]) -> None:
    resource["resourceType"] = "Patient"


@pytest.mark.parametrize(("change", "why"), [(_without_type, "no resourceType"), (_as_patient, "a Patient")])
def test_an_order_answered_without_its_type_is_named_never_dropped_from_the_total(
    app: Any, fuzz_fhir: FuzzFhir, monkeypatch: Any, change: Callable[[dict[str, Any]], None], why: str
) -> None:
    # Eleanor's current morphine order (90 MME/day of her 150) comes back in the order search as an entry with no
    # resourceType, or as a Patient: the page used to drop it and show 60 MME/day with a complete panel.
    fuzz_fhir.case = _one_case("eleanor-fitzgerald", "MedicationRequest/eleanor-fitzgerald-morphine", change)
    shown = open_plan(app, "eleanor-fitzgerald", monkeypatch)
    panel = completeness_panel(shown.html)
    assert 'id="unreadable-resources"' in panel, why
    listed = re.search(r'<ul id="unreadable-resources">(.*?)</ul>', panel, re.S).group(1)
    assert "Medication orders" in listed and "MedicationRequest" in listed, listed
    assert "eleanor-fitzgerald-morphine" in listed or why == "a Patient", listed  # another patient's id: never shown
    assert "Records that could not be read" in shown.view.note


def test_an_entry_whose_type_is_a_list_does_not_crash_the_page(app: Any, fuzz_fhir: FuzzFhir, monkeypatch: Any) -> None:
    def listed(resource: dict[str, Any]) -> None:
        resource["resourceType"] = ["Condition"]

    fuzz_fhir.case = _one_case("kevin-obrien", "Condition/kevin-obrien-condition-1", listed)
    shown = open_plan(app, "kevin-obrien", monkeypatch)
    assert shown.status == 200, shown.html[:300]
    assert "kevin-obrien-condition-1" in completeness_panel(shown.html)


# Each part of the page by the builder guideline.plan.assembly calls for it, and the title the page gives it.
PARTS: dict[str, str] = {
    "build_banner": "Patient",
    "build_alerts": "Alerts from the guideline checks",
    "build_medications": "Current opioids and MME",
    "build_mme_history": "MME over the past 12 months",
    "build_tasks": "Plan status",
    "build_scores": "Pain and function scores",
    "build_risks": "Overdose risk factors",
    "build_uds": "Urine drug tests",
    "build_nonopioid": "Non-opioid therapies",
    "build_oud": "Opioid use disorder",
    "build_taper": "Tapering calculator",
    "build_steps": "Treatment planning steps",
}


def _broken(*_args: Any, **_kwargs: Any) -> None:
    raise RuntimeError("injected failure")


@pytest.mark.parametrize("builder", ["build_risks", "build_banner", "build_steps"])
def test_a_part_of_the_page_that_failed_is_named_on_the_data_completeness_panel(
    app: Any, fuzz_fhir: FuzzFhir, monkeypatch: Any, builder: str
) -> None:
    # The section said so in place, but the panel a clinician checks for what the page could not do said nothing.
    fuzz_fhir.case = Case(0, "walter-brooks", demo_charts()["walter-brooks"])
    monkeypatch.setattr(f"guideline.plan.assembly.{builder}", _broken)
    shown = open_plan(app, "walter-brooks", monkeypatch)
    panel = completeness_panel(shown.html)
    assert 'class="section has-failures"' in panel
    listed = re.search(r'<ul id="parts-not-built">(.*?)</ul>', panel, re.S)
    assert listed and f"<li>{PARTS[builder]}:" in listed.group(1), panel[-600:]
    assert "RuntimeError" in listed.group(1) and "injected failure" not in shown.html
    # The copied note names it too (it named failed sections but not the patient banner).
    line = next(line for line in shown.view.note.split("\n") if line.startswith("Sections that could not be built"))
    assert PARTS[builder] in line, line


def test_a_check_that_could_not_run_is_named_on_the_data_completeness_panel(
    app: Any, fuzz_fhir: FuzzFhir, monkeypatch: Any
) -> None:
    from guideline.checks import CHECKS

    fuzz_fhir.case = Case(0, "walter-brooks", demo_charts()["walter-brooks"])
    monkeypatch.setattr(CHECKS["naloxone"], "evaluate", _broken)
    panel = completeness_panel(open_plan(app, "walter-brooks", monkeypatch).html)
    listed = re.search(r'<ul id="checks-not-run">(.*?)</ul>', panel, re.S)
    assert listed and "naloxone" in listed.group(1), panel[-600:]


# -- Gaps the fuzzer found outside the plan page's own code (cds_hooks.fhir_client, guideline.record and
# guideline.named_gaps, which the hooks share): each reduced to one resource, and named since it was fixed there.


def _page_names_something_new(app: Any, fuzz_fhir: FuzzFhir, monkeypatch: Any, case: Case) -> tuple[set, set]:
    """(what the mutated page names that the unmutated one did not, what it no longer shows)."""
    fuzz_fhir.case = Case(-1, case.patient_id, case.resources)
    before = open_plan(app, case.patient_id, monkeypatch).view
    fuzz_fhir.case = case
    after = open_plan(app, case.patient_id, monkeypatch).view
    return named(after) - named(before), shown_items(before) - shown_items(after)


def _set(field_name: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(resource: dict[str, Any]) -> None:
        resource[field_name] = value

    return change


def _contained(resource: dict[str, Any]) -> None:
    _contained_no_code(random.Random(0), resource)


GAPS = [
    pytest.param(
        "eleanor-fitzgerald",
        "MedicationRequest/eleanor-fitzgerald-morphine",
        _set("resourceType", "Bundle"),
        id="order-entry-typed-Bundle",
    ),
    pytest.param(
        "kevin-obrien",
        "Observation/kevin-obrien-observation-3",
        _set("effectiveDateTime", "2026-02-30"),
        id="pdmp-review-dated-2026-02-30",
    ),
    pytest.param(
        "tanya-greene",
        "Procedure/tanya-greene-procedure-16",
        _set("status", ["completed"]),
        id="review-procedure-status-list",
    ),
    pytest.param(
        "marcus-webb",
        "MedicationRequest/marcus-webb-medicationrequest-16",
        _contained,
        id="completed-order-contained-medication-no-code",
    ),
]


@pytest.mark.parametrize(("patient_id", "target", "change"), GAPS)
def test_a_resource_made_unreadable_is_named_when_the_page_loses_it(
    app: Any, fuzz_fhir: FuzzFhir, monkeypatch: Any, patient_id: str, target: str, change: Any
) -> None:
    newly_named, lost = _page_names_something_new(app, fuzz_fhir, monkeypatch, _one_case(patient_id, target, change))
    assert lost  # the mutation does change the page
    assert newly_named, lost


def test_the_cases_are_the_same_every_run() -> None:
    def run_once() -> list[str]:
        rng = random.Random(SEED)
        charts = demo_charts()
        return [build_case(rng, number, charts).what for number in range(40)]

    assert run_once() == run_once()
