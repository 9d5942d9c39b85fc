"""General exclusions G1–G5 (guideline 7): under 18, sickle cell, active cancer, terminal illness, hospice."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from guideline.clinical import (
    condition_name,
    is_active,
    is_encounter_diagnosis_only,
    performed_within,
    procedure_counts,
)
from guideline.config import GuidelineConfig
from guideline.fhirdata import (
    DISCHARGE_DISPOSITION,
    ICD10CM,
    Concept,
    is_absolute_url,
    local_reference,
    path_on_server,
    text,
)
from guideline.memo import MISSING, IdentityMemo, IdentityTables
from guideline.recognition.hospice import names_hospice_care
from guideline.record import Condition, Encounter, Observation, PatientRecord, Procedure
from guideline.record.model import Place
from guideline.record.pool import ON_ANOTHER_SERVER, absolute_on_source
from guideline.record.readers import dated_in, location_types, read_encounter
from guideline.terminology import (
    HOSPICE_DISPOSITION,
    HOSPICE_FINDING,
    HOSPICE_PROCEDURE,
    POINT_OF_CARE_CANCER,
    SICKLE_CELL,
    TERMINAL,
    Terminology,
    icd10cm_dotted,
)
from guideline.timeutil import in_last_days, in_last_months, local_date, months_before, period_in_last_days
from guideline.words import first_listed

if TYPE_CHECKING:
    from guideline.facts import Facts

CLOSED_ENCOUNTER = frozenset({"planned", "cancelled", "entered-in-error"})
VOID_ENCOUNTER = frozenset({"cancelled", "entered-in-error"})


@dataclass(frozen=True)
class ExclusionFinding:
    """One general exclusion that applies, with the evidence a clinician can check."""

    name: str
    label: str
    evidence: str


def age_in_years(birth_date: date, today: date) -> int:
    return today.year - birth_date.year - ((today.month, today.day) < (birth_date.month, birth_date.day))


def _under_18(record: PatientRecord, today: date) -> str | None:
    birth = record.patient.birth_date if record.patient else None
    if birth is None:
        return None  # unknown age never excludes; the plan view says "age unknown"
    age = age_in_years(birth, today)
    return f"age {age}" if age < 18 else None


def _sickle_cell(sickle_cell: Sequence[Condition], terms: Terminology, config: GuidelineConfig) -> str | None:
    """`sickle_cell`: the visible conditions coded as sickle cell disease. A lifelong disease: by default any diagnosis
    excludes whatever its status, a payer claim's of no date of service too (its day would change nothing)."""
    require_active = config["exclusions"]["sickle_cell"]["require_active"]
    for condition in sickle_cell:
        if not require_active or is_current_diagnosis(condition):
            return _evidence(condition, SICKLE_CELL, terms)
    return None


def undated_claim(condition: Condition) -> bool:
    """A diagnosis read from a payer claim that states no first day of service: on the record, the review's rule
    (guideline.population.claims.undated_diagnosis), since the claim's first day is the diagnosis's recorded date."""
    return condition.claim is not None and condition.recorded_date is None


def is_current_diagnosis(condition: Condition) -> bool:
    """Active (`is_active`), and not only billed on a payer claim of no date of service. A claim's diagnosis is in
    effect on the days it bills; one billing no day has no clinical status and no end, which reads as active, so a
    claim of any year would count as a diagnosis of today: it is no evidence that the diagnosis is current, and an
    exclusion that asks for a current diagnosis is not applied on it (`undated_claim_diagnoses` names it instead)."""
    return is_active(condition) and not undated_claim(condition)


def _evidence(condition: Condition, set_name: str, terms: Terminology) -> str:
    """The condition's name; one read by its words, having no code PainPlan reads, says so for the clinician to
    check."""
    name = condition_name(condition, terms)
    return name if terms.contains(set_name, condition.code) else f"{name} (read from its words: no code)"


def _encounter_cancer_links(
    encounter: Encounter, cancer_refs: set[str], cancer_by_encounter: set[str], terms: Terminology
) -> bool:
    if cancer_refs and any(local_reference(ref) in cancer_refs for ref in encounter.diagnosis_conditions):
        return True
    if cancer_by_encounter and encounter.ref and encounter.ref in cancer_by_encounter:
        return True
    return any(terms.contains(POINT_OF_CARE_CANCER, reason) for reason in encounter.reason_codes)


# G3 is the CDC's rule at the point of care: a cancer on the problem list, or this many visits linked to a cancer
# diagnosis in the last CANCER_VISIT_MONTHS (one visit with a cancer diagnosis is no active cancer treatment). The
# population review reads PQA's measure specs instead, where one diagnosis in the period excludes, a claim's as a
# chart's (guideline.population.exclusions.exclusion_reason): the faces differ there on purpose, by the specs.
CANCER_VISITS_NEEDED = 2
CANCER_VISIT_MONTHS = 12


def _active_cancer(record: PatientRecord, cancers: Sequence[Condition], terms: Terminology, today: date) -> str | None:
    """`cancers`: the visible conditions coded as a malignant cancer, as the point of care reads the set (no C44 skin
    cancer: valueset-corrections.json)."""
    for condition in cancers:
        if is_current_diagnosis(condition) and not is_encounter_diagnosis_only(condition):
            return f"active {_evidence(condition, POINT_OF_CARE_CANCER, terms)}"
    visits, billed_visits, claims = cancer_visits(record, cancers, terms, today)
    if visits < CANCER_VISITS_NEEDED:
        return None
    billed = _billed(visits, billed_visits, claims)
    return f"{visits} cancer-related visits in the last {CANCER_VISIT_MONTHS} months{billed}"


def _billed(visits: int, billed_visits: int, claims: tuple[str, ...]) -> str:
    """ " (billed on payer claims: ExplanationOfBenefit a, b)", " (1 of them billed on a payer claim: …)" when the
    record's own visits are among them: it read as if the claim had billed both."""
    if not claims:
        return ""
    on = "a payer claim" if len(claims) == 1 else "payer claims"
    which = "" if billed_visits == visits else f"{billed_visits} of them "
    return f" ({which}billed on {on}: ExplanationOfBenefit {', '.join(first_listed(claims))})"


def cancer_visits(
    record: PatientRecord, cancers: Sequence[Condition], terms: Terminology, today: date
) -> tuple[int, int, tuple[str, ...]]:
    """How many visits of the last 12 months are linked to a cancer diagnosis (G3), how many of them are known from
    payer claims, and those claims. A visit of the record counts when it lists the diagnosis or the diagnosis names
    it; a payer claim billing the diagnosis is a visit on its day of service (guideline.population.claims reads its
    diagnoses so), unless a visit of the record linked to cancer was on that day: the EHR's visit and the payer's
    claim for it, or two claims for one day (the physician's and the hospital's), are one visit."""
    cancer_refs = {c.ref for c in cancers if c.ref}
    cancer_by_encounter = {r for r in (local_reference(c.encounter) for c in cancers) if r}
    since = months_before(today, CANCER_VISIT_MONTHS)  # its window worked out once rather than once per visit
    linked: dict[str, date] = {}
    for index, e in enumerate(record.encounters):
        if (
            e.status not in CLOSED_ENCOUNTER
            and (day := local_date(e.period_start)) is not None
            and since <= day <= today
            and _encounter_cancer_links(e, cancer_refs, cancer_by_encounter, terms)
        ):
            linked[e.id or str(index)] = day
    billed = _claim_days(cancers, since, today, set(linked.values()))
    claims = tuple(dict.fromkeys(claim for day in sorted(billed) for claim in billed[day]))
    return len(linked) + len(billed), len(billed), claims


def _claim_days(cancers: Sequence[Condition], since: date, today: date, visit_days: set[date]) -> dict[date, list[str]]:
    """The days of service from `since` to `today` of the payer claims billing a cancer diagnosis, none of them a
    day in `visit_days`, each with the claims billing it."""
    days: dict[date, list[str]] = {}
    for condition in cancers:
        if condition.claim is None:
            continue  # the usual diagnosis: the chart's own
        day = local_date(condition.recorded_date)  # the claim's first day (guideline.population.claims)
        if day is not None and since <= day <= today and day not in visit_days:
            days.setdefault(day, []).append(condition.claim)
    return days


def undated_claim_diagnoses(facts: Facts) -> tuple[str, ...]:
    """Payer claims that give no date of service and bill a diagnosis of an exclusion that did not apply (cancer,
    sickle cell, terminal illness, palliative care Z51.5), each named ("Payer claim e-1 bills C50911"): a claim
    counts as a visit on its day of service (`cancer_visits`), so one on no day counted as none, and its diagnosis is
    no current one (`is_current_diagnosis`), so the patient was read as if the claim had not been sent. Only where the
    exclusion is enabled: elsewhere the diagnosis changes nothing."""
    if not any(undated_claim(c) for c in facts.record.conditions):
        return ()  # the usual chart: no payer claim, or every claim dated
    config = facts.config
    applied = {finding.name for finding in facts.exclusions}

    def matters(name: str) -> bool:
        return config.exclusion_enabled(name) and name not in applied

    billed: list[Condition] = []
    if matters("active_cancer"):
        billed += facts.conditions_in(POINT_OF_CARE_CANCER)
    if matters("sickle_cell"):
        billed += facts.conditions_in(SICKLE_CELL)
    if matters("terminal_condition"):
        billed += facts.conditions_in(TERMINAL)
    if matters("hospice_palliative") and config["exclusions"]["hospice_palliative"]["include_z51_5"]:
        billed += (c for c in facts.visible_conditions if is_z515(c.code))
    named = (f"Payer claim {c.claim} bills {_billed_code(c, facts.terms)}" for c in billed if undated_claim(c))
    return tuple(dict.fromkeys(named))


def _billed_code(condition: Condition, terms: Terminology) -> str:
    """The diagnosis code as the claim bills it ("C50911"), else the condition's name."""
    codes = [coding.code for coding in condition.code.codings if coding.code] if condition.code else []
    return codes[0] if codes else condition_name(condition, terms)


def _terminal(terminal: Sequence[Condition], terms: Terminology) -> str | None:
    """`terminal`: the visible conditions coded as terminal or limiting life expectancy."""
    for condition in terminal:
        if is_current_diagnosis(condition):
            return _evidence(condition, TERMINAL, terms)
    return None


def is_z515(concept: Concept | None) -> bool:
    """The ICD-10-CM palliative care encounter code Z51.5 (dotted or not, in any case)."""
    if concept is None:
        return False
    # Asked of every diagnosis and visit reason on every call; the reader shares one object per distinct concept,
    # across calls too, so each is read once (reading its codings cost more than the rest of the hospice rule).
    table = _Z515.tables.get(None)
    entry = table.get(id(concept)) if table is not None else None
    if entry is not None:
        return entry[1]  # type: ignore[return-value]
    answer = any(c.system == ICD10CM and c.code and icd10cm_dotted(c.code) == "Z51.5" for c in concept.codings)
    _Z515.put(None, concept, answer)
    return answer


_Z515 = IdentityTables(limit=8192)


def ongoing_care(status: str | None, start: datetime | None, end: datetime | None, today: date) -> bool:
    """Care in progress over a period that began by today and has no end: it is going on now, however long ago it
    began (an open end alone is not read so, since a completed record often omits it)."""
    began = local_date(start)
    return status in ONGOING_STATUSES and end is None and began is not None and began <= today


# In progress; R4's "onleave" is a stay the patient is briefly away from, still going on.
ONGOING_STATUSES = frozenset({"in-progress", "onleave"})


def _care_ongoing(procedure: Procedure, today: date) -> bool:
    return ongoing_care(procedure.status, procedure.performed_start, procedure.performed_end, today)


def care_within(procedure: Procedure, days: int, today: date) -> bool:
    """Care performed in the last `days` days (on a day in them, or over a period starting, ending in or spanning
    them), or still in progress however long ago it began. The population review reads hospice care by it too."""
    return performed_within(procedure, days, today) or _care_ongoing(procedure, today)


# Hospice care counts as given when completed or in progress (6.3), at the point of care and in the population review
# alike. These statuses leave open whether care was given (unknown, none stated), or say it began and was then held or
# stopped: such care dated in the window is not counted, so no unsure record switches the safety checks off, and it is
# named, so the patient is never read as "no hospice care" in silence. A stay in preparation has not begun.
HOSPICE_STATUS_UNSURE: dict[str | None, str] = {
    "unknown": "status unknown",
    None: "no status",
    "on-hold": "on hold",
    "stopped": "stopped",
}


def hospice_care_given(procedure: Procedure, terms: Terminology, days: int, today: date) -> bool:
    """Hospice or end-of-life care given in the last `days` days: coded so, completed or in progress, and dated in
    them or going on (`care_within`). The one rule both the point of care and the population review read it by."""
    return (
        procedure_counts(procedure)
        and terms.contains(HOSPICE_PROCEDURE, procedure.code)
        and care_within(procedure, days, today)
    )


def hospice_care_unsure(procedure: Procedure, terms: Terminology, days: int, today: date) -> str | None:
    """Why hospice or end-of-life care dated in the last `days` days was not counted as given
    (`HOSPICE_STATUS_UNSURE`: "status unknown", "on hold", ...), or None."""
    why = HOSPICE_STATUS_UNSURE.get(procedure.status)
    if why is None or not performed_within(procedure, days, today):
        return None
    return why if terms.contains(HOSPICE_PROCEDURE, procedure.code) else None


def hospice_not_counted(record: PatientRecord, terms: Terminology, days: int, today: date) -> tuple[str, ...]:
    """Possible hospice care of the last `days` days that the hospice exclusion did not count, each named as the card
    names an item ("Hospice care (procedure p-1, status unknown)"). Both faces name these: the card and plan page
    (`hospice_not_counted_for`), the population review (`hospice_not_counted` in its data quality)."""
    named = []
    for procedure in record.procedures:
        why = hospice_care_unsure(procedure, terms, days, today)
        if why is not None:
            shown = _care_shown(procedure)
            named.append(f"{shown} ({_as_item('procedure', procedure.id)}, {why})")
    for encounter in record.encounters:
        if not encounter.places:
            continue  # the usual visit, its place not sent: no further work
        name = possible_hospice_place(encounter)
        if name is not None and visit_within(encounter, days, today) and not hospice_visit(encounter, terms):
            named.append(f"Stay at {name} ({_as_item('visit', encounter.id)}, hospice by the place's name only)")
    return tuple(dict.fromkeys(named))


def _care_shown(procedure: Procedure) -> str:
    """A hospice procedure as named where it is counted and where it is not: its code's display, or what it is."""
    return (procedure.code.display() if procedure.code else None) or "hospice or end-of-life care"


def _as_item(kind: str, ident: str | None) -> str:
    return f"{kind} {ident}" if ident else kind


def hospice_not_counted_for(facts: Facts) -> tuple[str, ...]:
    """`hospice_not_counted` over the hospice exclusion's days, where it is enabled and nothing else applied it: with
    the patient excluded as in hospice already, a record more or less changes nothing."""
    config = facts.config
    if not config.exclusion_enabled("hospice_palliative"):
        return ()
    days = config["exclusions"]["hospice_palliative"]["procedure_days"]
    named = hospice_not_counted(facts.record, facts.terms, days, facts.today)
    if named and hospice_applied(facts):
        return ()
    return named


def hospice_applied(facts: Facts) -> bool:
    """The patient is excluded as in hospice or palliative care: what more a record (possible hospice care not
    counted) or a place not read (`unread_places_matter`) could say changes nothing."""
    return any(finding.name == "hospice_palliative" for finding in facts.exclusions)


def unread_places_matter(facts: Facts) -> bool:
    """Whether the Locations of recent visits that could not be read are named (card and plan page): only where the
    hospice exclusion did not already apply, since all such a Location could do is apply it. Where the exclusions
    could not be worked out, nothing says they applied: the places stay named (never silent)."""
    try:
        return not hospice_applied(facts)
    except Exception:  # noqa: BLE001 - the failure itself is named by the check that applies the exclusions
        return True


def visit_within(encounter: Encounter, days: int, today: date) -> bool:
    """A visit or stay that happened (not planned, cancelled or in error) in the last `days` days: starting or ending
    in them or spanning them, or still in progress with no end, however long ago it began (`ongoing_care`). The
    population review reads visits by it too, over its history window: a patient in hospice since before the window
    is in it now, and read by a start or end in the window alone they got every opioid card."""
    if encounter.status in CLOSED_ENCOUNTER:
        return False
    start, end = encounter.period_start, encounter.period_end
    return period_in_last_days(start, end, days, today) or ongoing_care(encounter.status, start, end, today)


# The NUBC patient discharge status codes for hospice (UB-04 form locator 17), under the names systems give them.
NUBC_DISCHARGE_SYSTEMS = frozenset(
    {
        "http://www.nubc.org/patient-discharge",
        "https://www.nubc.org/patient-discharge",
        "https://www.nubc.org/CodeSystem/PatDischargeStatus",
        "http://www.nubc.org/CodeSystem/PatDischargeStatus",
        "urn:oid:2.16.840.1.113883.6.301.5",
    }
)
NUBC_HOSPICE = frozenset({"50", "51"})  # hospice: home; hospice: medical facility


def names_hospice(concept: Concept) -> bool:
    """A concept whose text or a coding's display names hospice care: a site's own code ("Hospice - Home"), not a
    referral, evaluation or end of it ("Hospice Referral", "Hospice Revocation"): `recognition.hospice`'s words."""
    return any(names_hospice_care(words) for words in (concept.text, *(coding.display for coding in concept.codings)))


# The UB-04 type of bill (form locator 4) under the names systems give it: 81x is hospice (non-hospital based), 82x
# hospice (hospital based), written with or without the leading zero and with any frequency digit.
NUBC_BILL_SYSTEMS = frozenset(
    {"https://www.nubc.org/CodeSystem/TypeOfBill", "http://www.nubc.org/CodeSystem/TypeOfBill"}
)
HOSPICE_TYPE_OF_BILL = ("81", "82")


def is_hospice_bill_type(code: str | None) -> bool:
    """A UB-04 type of bill for hospice care (81x, 82x), with or without its leading zero."""
    return (code or "").strip().lstrip("0").startswith(HOSPICE_TYPE_OF_BILL)


def _hospice_bill(concept: Concept) -> bool:
    return any(coding.system in NUBC_BILL_SYSTEMS and is_hospice_bill_type(coding.code) for coding in concept.codings)


def hospice_visit_kind(encounter: Encounter, terms: Terminology) -> Concept | None:
    """The visit's type, service type or class that says hospice or end-of-life care: a hospice or end-of-life
    procedure code (SNOMED "Admission to hospice", "Hospice care"), a UB-04 hospice type of bill, or a site's own
    department or visit type named hospice."""
    for kind in encounter.kinds:
        if terms.contains(HOSPICE_PROCEDURE, kind) or _hospice_bill(kind) or names_hospice(kind):
            return kind
    return None


# The place of service code systems (CMS's, and Blue Button's line place of service) and hospice's code in them: a
# payer's claim line and a Location's type say hospice so alike.
PLACE_OF_SERVICE_SYSTEMS = frozenset(
    {
        "https://www.cms.gov/Medicare/Coding/place-of-service-codes/Place_of_Service_Code_Set",
        "https://bluebutton.cms.gov/resources/variables/line_place_of_srvc_cd",
    }
)
HOSPICE_PLACE_OF_SERVICE = "34"
# A Location's type coded as a hospice: CMS place of service 34, SNOMED CT's hospice environment, or the NUCC
# provider taxonomy's hospice codes (inpatient hospice; community based hospice care). HL7's v3 RoleCode (the FHIR
# location type codes) has no hospice code, so a site types its hospice by one of these or by its own code.
HOSPICE_PLACE_CODES = frozenset(
    {
        *((system, HOSPICE_PLACE_OF_SERVICE) for system in PLACE_OF_SERVICE_SYSTEMS),
        ("http://snomed.info/sct", "284546000"),
        ("http://nucc.org/provider-taxonomy", "315D00000X"),
        ("http://nucc.org/provider-taxonomy", "251G00000X"),
    }
)
# A place the visit only planned or reserved is no stay there.
UNSTAYED_PLACES = frozenset({"planned", "reserved"})


def _hospice_place_type(place: Place) -> Concept | None:
    """The place's Location type that says hospice: coded so (`HOSPICE_PLACE_CODES`), or a site's own type named
    hospice, as a visit type or department named hospice is (`names_hospice`)."""
    for kind in place.types:
        if any((c.system, (c.code or "").strip()) in HOSPICE_PLACE_CODES for c in kind.codings) or names_hospice(kind):
            return kind
    return None


def _stayed_places(encounter: Encounter) -> Iterator[Place]:
    """The places the visit took place at (`UNSTAYED_PLACES` aside)."""
    return (place for place in encounter.places if place.status not in UNSTAYED_PLACES)


def hospice_place(encounter: Encounter) -> str | None:
    """Why the visit was a stay in a hospice, or None: a place it took place at (not only planned or reserved) whose
    Location's type says hospice. One rule for the point of care and the population review (`hospice_visit`)."""
    for place in _stayed_places(encounter):
        if _hospice_place_type(place) is not None:
            return "stay at a hospice" + (f" ({place.name})" if place.name else "")
    return None


def possible_hospice_place(encounter: Encounter) -> str | None:
    """The name of a place the visit took place at that is named hospice while nothing (no Location type) says the
    place is one, or None. A name is not counted as hospice care: "Connecticut Hospice, Branford" is the name of a
    hospice, but a name alone (a foundation's building, a hospital named for a hospice charity) is not the place's
    type, and read as hospice care it would switch every safety check off. It is named instead
    (`hospice_not_counted`)."""
    if hospice_place(encounter) is not None:
        return None
    for place in _stayed_places(encounter):
        if place.name and names_hospice_care(place.name):
            return place.name
    return None


def location_may_say_hospice(location: Mapping[str, Any]) -> bool:
    """Whether a Location, joined to a visit that took place there, could make it a hospice stay or name it as a
    possible one: its type says hospice (`hospice_place`) or its name does (`possible_hospice_place`). Any other
    Location changes no hospice rule, so the population review keeps only these of an export's Locations."""
    place = Place.make(None, text(location.get("name")), None, location_types(location))
    return _hospice_place_type(place) is not None or bool(place.name and names_hospice_care(place.name))


def hospice_place_days(config: GuidelineConfig) -> int | None:
    """The days back a visit's place may show a hospice stay (the hospice exclusion's `procedure_days`), or None
    where the exclusion is off: the hook reads the Locations of those visits' places and no others."""
    if not config.exclusion_enabled("hospice_palliative"):
        return None
    return int(config["exclusions"]["hospice_palliative"]["procedure_days"])


def places_to_read(encounter: Encounter, days: int, today: date) -> tuple[str, ...]:
    """The references of the Locations a visit of the last `days` days took place at (`visit_within`, not only
    planned or reserved) whose type the visit does not hold (`Place.types`, from a contained Location or one sent
    beside it): only such a Location's type can say the stay was at a hospice (`hospice_place`)."""
    if not encounter.places or not visit_within(encounter, days, today):
        return ()
    return tuple(
        place.reference
        for place in _stayed_places(encounter)
        if place.reference and not place.types and not place.reference.startswith("#")
    )


# The places of recent visits whose Locations the faces read, as the card and the page name them when not read: one
# wording for both, "places of recent visits (…): 1 not read; Location/…: why" (`places_not_read_words`), the page's
# with a capital, as its searches are labelled.
HOSPICE_PLACES = "places of recent visits (whether a stay was at a hospice)"
# Locations read per call or page: 90 days of visits name a handful of departments; a Location is a read of 1-2 kB, so
# 20 are two batches of the parallel reads (12 at a time), far inside the deadline and memory budget.
MAX_PLACE_READS = 20
# Only plain reads of a Location by FHIR id: a reference is EHR data, and "Location/../Patient/1" would otherwise send
# the bearer token elsewhere than a Location.
_LOCATION_READ = re.compile(r"Location/[A-Za-z0-9.\-]{1,64}")
_UTC = ZoneInfo("UTC")


def visit_place_reads(
    visit: Mapping[str, Any], server: str, days: int, today: date, read: Encounter | None = None
) -> tuple[list[str], dict[str, str]]:
    """A visit resource's Locations to read on the EHR's `server` (`Location/<id>`, `places_to_read`), and those not
    to read with why (on another server, no Location id). One day more than the window: visits are dated in UTC.
    `read` is the visit as the record reads it (in the site's zone) when the caller has it: only its period is read
    again, in UTC, not the whole visit a second time."""
    try:
        encounter = read_encounter(visit, _UTC) if read is None else dated_in(read, visit, _UTC)
        refs = places_to_read(encounter, days + 1, today)
    except Exception:  # noqa: BLE001 - an unreadable visit is named where the record is read
        return [], {}
    wanted: list[str] = []
    skipped: dict[str, str] = {}
    for written in refs:
        ref = absolute_on_source(written, visit)  # an HIE visit's "Location/l1" is the HIE's l1, not the EHR's
        path = path_on_server(ref, server) if is_absolute_url(ref) else ref
        local = local_reference(path) if path is not None else None
        if path is None:
            skipped.setdefault(ref[:200], ON_ANOTHER_SERVER)
        elif local is None or not _LOCATION_READ.fullmatch(local) or local.split("/")[1] in (".", ".."):
            skipped.setdefault(ref[:200], "not a Location id")
        else:
            wanted.append(local)
    return wanted, skipped


def places_not_read_words(not_read: Mapping[str, str], over_cap: bool) -> str:
    """How the places not read are named (card and page): how many, the cap if it left some, then each with why
    (the first few by reference, the rest counted)."""
    why = [f"only the first {MAX_PLACE_READS} are read per call"] if over_cap else []
    failed = [f"{ref}: {reason}" for ref, reason in not_read.items() if reason]
    why.extend(first_listed(failed))
    return f"{len(not_read)} not read; " + "; ".join(why)


def hospice_visit(encounter: Encounter, terms: Terminology) -> str | None:
    """Why the visit is hospice or end-of-life care, or None: its reason is such care, as a hospice procedure is, it
    is a visit of the hospice service, known by its type, service type or class (`hospice_visit_kind`), or a stay at
    a place whose type says hospice (`hospice_place`)."""
    return _hospice_visit_by_kind(encounter, terms) or hospice_place(encounter)


def _hospice_visit_by_kind(encounter: Encounter, terms: Terminology) -> str | None:
    """`hospice_visit` by the visit's reasons and kinds alone (all `_remembered_hospice_visit` remembers it by)."""
    if any(terms.contains(HOSPICE_PROCEDURE, r) for r in encounter.reason_codes):
        return "visit for hospice or end-of-life care"
    kind = hospice_visit_kind(encounter, terms)
    if kind is None:
        return None
    named = kind.display()
    return "hospice or end-of-life care visit" + (f" ({named})" if named else "")


def discharged_to_hospice(disposition: Concept | None, terms: Terminology) -> bool:
    """A discharge disposition to hospice: the value set, the HL7 discharge-disposition code `hosp`, NUBC's hospice
    discharge statuses (50, 51), or a site's own disposition named hospice ("Hospice - Home"): Epic sends its own
    codes, and a hospice patient read as discharged home got cards asking to reconsider their opioids."""
    if disposition is None:
        return False
    if terms.contains(HOSPICE_DISPOSITION, disposition) or disposition.has(DISCHARGE_DISPOSITION, "hosp"):
        return True
    return names_hospice(disposition) or any(
        coding.system in NUBC_DISCHARGE_SYSTEMS and (coding.code or "").strip() in NUBC_HOSPICE
        for coding in disposition.codings
    )


# Keyed by the visit's reasons and kinds: the reader shares one tuple per distinct concept array, so a chart's (and
# the next call's) visits of one type are judged once.
_HOSPICE_VISITS = IdentityMemo(limit=8192)


def _remembered_hospice_visit(encounter: Encounter, terms: Terminology) -> str | None:
    """`hospice_visit`, remembered per terminology and the visit's reason codes and kinds (its places read apart)."""
    found = _HOSPICE_VISITS.get(None, terms, encounter.reason_codes, encounter.kinds)
    if found is MISSING:
        found = _hospice_visit_by_kind(encounter, terms)
        _HOSPICE_VISITS.put(None, terms, encounter.reason_codes, encounter.kinds, answer=found)
    # Where it took place is read apart, as nearly no visit names one PainPlan reads as hospice.
    return found or (hospice_place(encounter) if encounter.places else None)  # type: ignore[return-value]


# A suggestion nobody acted on: another tool's proposal, or one option among several. A care team's plan to refer
# to hospice (intent plan) is their decision, and counts.
UNSIGNED_INTENTS = frozenset({"proposal", "option"})


def _hospice(
    record: PatientRecord,
    conditions: Sequence[Condition],
    hospice_findings: Sequence[Observation],
    terms: Terminology,
    config: GuidelineConfig,
    today: date,
) -> str | None:
    """`hospice_findings`: the observations coded as a hospice care finding."""
    rules = config["exclusions"]["hospice_palliative"]
    for encounter in record.encounters:
        if (
            discharged_to_hospice(encounter.discharge_disposition, terms)
            and encounter.status not in VOID_ENCOUNTER
            and (
                in_last_months(encounter.period_start, rules["encounter_months"], today)
                or in_last_months(encounter.period_end, rules["encounter_months"], today)
            )
        ):
            return "discharged to hospice care"
    for encounter in record.encounters:
        # What the visit was is asked first, and remembered: nearly no visit is hospice care, so its dates are then
        # never read.
        visit = _remembered_hospice_visit(encounter, terms)
        if visit and visit_within(encounter, rules["procedure_days"], today):
            return visit
    for procedure in record.procedures:
        if hospice_care_given(procedure, terms, rules["procedure_days"], today):
            return _care_shown(procedure)
    for request in record.service_requests:
        if (
            request.status in ("active", "completed")
            and request.intent not in UNSIGNED_INTENTS
            and terms.contains(HOSPICE_PROCEDURE, request.code)
            and (
                in_last_days(request.authored_on, rules["servicerequest_days"], today)
                or in_last_days(request.occurrence, rules["servicerequest_days"], today)
                or period_in_last_days(
                    request.occurrence_start, request.occurrence_end, rules["servicerequest_days"], today
                )
            )
        ):
            return "hospice or end-of-life care ordered"
    if rules["include_z51_5"]:
        for condition in conditions:
            if is_z515(condition.code) and (
                is_current_diagnosis(condition) or in_last_days(condition.recorded_date, 90, today)
            ):
                return "palliative care encounter (Z51.5)"
        for encounter in record.encounters:
            # A palliative-care visit is billed Z51.5 and may carry it only as its reason, with no diagnosis of its own.
            reasons = encounter.reason_codes  # most visits state none: no generator made for them
            if reasons and any(is_z515(r) for r in reasons) and visit_within(encounter, 90, today):
                return "palliative care encounter (Z51.5)"
    if rules["include_hospice_finding"]:
        for observation in hospice_findings:
            if in_last_months(observation.result_time, 12, today):
                return "hospice care finding"
    return None


# A diagnosis under work-up ("rule out", a working diagnosis) is no reason to switch the safety checks off. It is still
# visible elsewhere: as a risk factor (naloxone) or an opioid use disorder it asks for more care, not less.
TENTATIVE_VERIFICATION = frozenset({"unconfirmed", "provisional", "differential"})


def _established(conditions: Sequence[Condition]) -> tuple[Condition, ...]:
    """The conditions not recorded as tentative (unconfirmed, provisional, differential)."""
    return tuple(c for c in conditions if c.verification_status not in TENTATIVE_VERIFICATION)


def general_exclusions(
    record: PatientRecord,
    terms: Terminology,
    config: GuidelineConfig,
    today: date,
    visible: Sequence[Condition],
    conditions_in: Callable[[str], Sequence[Condition]],
    observations_in: Callable[[str], Sequence[Observation]],
) -> tuple[ExclusionFinding, ...]:
    """Every enabled general exclusion that applies to this patient, with its evidence. `visible` are the record's
    visible conditions (6.1), `conditions_in` those of them and `observations_in` the record's observations coded in
    a set, in record order (Facts holds them, and looks each distinct code up once). A tentative diagnosis excludes
    no one."""

    def established_in(set_name: str) -> tuple[Condition, ...]:
        return _established(conditions_in(set_name))

    rules: tuple[tuple[str, str, Callable[[], str | None]], ...] = (
        ("age_under_18", "Under 18", lambda: _under_18(record, today)),
        ("sickle_cell", "Sickle cell disease", lambda: _sickle_cell(established_in(SICKLE_CELL), terms, config)),
        (
            "active_cancer",
            "Active cancer treatment",
            lambda: _active_cancer(record, established_in(POINT_OF_CARE_CANCER), terms, today),
        ),
        (
            "terminal_condition",
            "Terminal or limited-life-expectancy condition",
            lambda: _terminal(established_in(TERMINAL), terms),
        ),
        (
            "hospice_palliative",
            "Hospice or palliative care",
            lambda: _hospice(record, _established(visible), observations_in(HOSPICE_FINDING), terms, config, today),
        ),
    )
    findings = []
    for name, label, rule in rules:
        if not config.exclusion_enabled(name):
            continue
        evidence = rule()
        if evidence:
            findings.append(ExclusionFinding(name, label, evidence))
    return tuple(findings)
