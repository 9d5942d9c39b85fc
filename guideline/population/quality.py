"""Data-quality counts: what a run could not read or attribute, merged across patients, buckets and engines."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Quality:
    """Counts a run reports in data-quality.json; `merge` adds another's counts (one per bucket or worker)."""

    malformed_lines: int = 0
    # The malformed lines by the file they came from (its path inside the input folder): not JSON, not UTF-8 (a
    # Windows-1252 name), or longer than the engines read (an inline PDF of 64 MB).
    malformed_lines_by_file: Counter[str] = field(default_factory=Counter)
    # The first malformed lines of each file by number, as reading the file through found them, each "path line N:
    # why" (not UTF-8, longer than the engines read, not JSON): where to look. At most 10 a file; a line that looks
    # like a JSON object but is not one inside is counted above, by file, and not named here.
    malformed_lines_named: Counter[str] = field(default_factory=Counter)
    # Files in the input folder that were not read, or only in part, each "path: why" (a download cut off, a .bz2,
    # a file that is not NDJSON): the run still evaluates everything else, and exits with status 3.
    input_files_not_read: Counter[str] = field(default_factory=Counter)
    # What a Bulk Data server's error files said as warnings or information only, each "export error file N of M:
    # text" (an unsupported _typeFilter it ignored): nothing was lost, so the exit status is unaffected. An error or
    # fatal issue is input_files_not_read.
    export_warnings: Counter[str] = field(default_factory=Counter)
    # OperationOutcomes a server put among the data, by file (a searchset page's `search.mode = outcome` entry, "too
    # many results, truncated"; an OperationOutcome line): the server's words on its answer, graded as its error
    # files are, into input_files_not_read (an error, or an answer not all there) or export_warnings (a note).
    server_outcomes_by_file: Counter[str] = field(default_factory=Counter)
    resources_by_type: Counter[str] = field(default_factory=Counter)
    unexpected_resource_types: Counter[str] = field(default_factory=Counter)
    resources_without_patient: int = 0
    # Bundle entries whose resource states no id, given the one their fullUrl names (a `urn:`'s uuid: a transaction's
    # POST leaves the id to the server; an absolute RESTful URL's last segment after `Type/`), each "file: type" →
    # entries: the id in the patients table is PainPlan's (or the URL's), and the fills naming that fullUrl are that
    # member's. Nothing is lost, so the exit status is unaffected.
    ids_from_full_url: Counter[str] = field(default_factory=Counter)
    # Fills, orders and pharmacy claims whose patient no `Patient/id` reference names (a member id alone, a
    # `urn:uuid`): no patient can be given them, so each is a line not read (exit status 4), by file, and the first
    # 10 of each file named "path line N: MedicationDispense whose patient no Patient reference names".
    fills_without_patient_by_file: Counter[str] = field(default_factory=Counter)
    fills_without_patient_named: Counter[str] = field(default_factory=Counter)
    # The same of the other resources a measure reads (Condition, Observation, Procedure, Encounter, DiagnosticReport):
    # a cancer diagnosis that would exclude, a urine drug test AMO counts, a hospice visit. Lines not read (status 4).
    records_without_patient_by_file: Counter[str] = field(default_factory=Counter)
    records_without_patient_named: Counter[str] = field(default_factory=Counter)
    # The same of Coverage (a payer's member id alone as its beneficiary): joined to no member, it may be the Coverage
    # that fills a member's enrolment gap. Lines not read (status 4).
    coverage_without_patient_by_file: Counter[str] = field(default_factory=Counter)
    coverage_without_patient_named: Counter[str] = field(default_factory=Counter)
    # The same of every other resource of one patient (CarePlan, MedicationAdministration...): named where to look,
    # but no measure reads them, so the exit status is unaffected.
    other_resources_without_patient_by_file: Counter[str] = field(default_factory=Counter)
    other_resources_without_patient_named: Counter[str] = field(default_factory=Counter)
    # Patient resources in an export holding no MedicationDispense, MedicationRequest (or DSTU2 MedicationOrder) and
    # no ExplanationOfBenefit at all: every measure is empty because nothing was sent, not because no one was
    # prescribed opioids (a payer's export asked without claims, or a download that lost the fills).
    patients_without_medication_data: int = 0
    # The earliest day (ISO) of any fill, order or claim read: how far back the export's medicines go. Merged as the
    # earliest, not added; None when there is none.
    medication_data_from: str | None = None
    # The look-backs the measures need that reach before medication_data_from, each "measures: how far": an export
    # of the quarter alone makes every long-term patient a new start (IOP) and shortens AMO's 12 months.
    lookback_not_reached: Counter[str] = field(default_factory=Counter)
    unreadable_resources: int = 0
    fills_without_days_supply: int = 0
    # Benzodiazepine fills in the period with no days' supply, none derived from their prescription: each covers only
    # the day it was filled, so COB's overlap may be short (the patient's row marks COB partial).
    benzodiazepine_fills_without_days_supply: int = 0
    # Opioid fills in the period whose prescriber, or pharmacy, no reference names: they count towards no distinct
    # prescriber or pharmacy (the OMP measure), so a high number means OMP is undercounted.
    fills_without_prescriber: int = 0
    fills_without_pharmacy: int = 0
    fills_without_date: int = 0  # no date to the day: none, or a month or a year only ("2026-02", "2026")
    # Opioid fills in the period whose MME could not be calculated, by reason (guideline.fills, "no-quantity",
    # "no-strength", ...): left out of the average's numerator and divisor, the patient's result marked partial.
    fills_without_mme: Counter[str] = field(default_factory=Counter)
    # A fill of a medication that matters (not "not relevant") whose status is neither completed nor absent: status →
    # fills. Cancelled and entered-in-error fills rightly do not count; in-progress or unknown ones are a site's call.
    fills_not_counted_by_status: Counter[str] = field(default_factory=Counter)
    orders_without_date: int = 0
    # Orders of a medication that matters left out for their status (neither active nor completed): status → orders.
    orders_not_counted_by_status: Counter[str] = field(default_factory=Counter)
    # Active or completed orders of a medication that matters left out because they are no prescription: intent →
    # orders ("plan (reported as taken)" for a medication documented as taken, prescribed elsewhere).
    orders_not_counted_by_intent: Counter[str] = field(default_factory=Counter)
    unidentified_medications: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    unattributed_patients: int = 0
    attributed_to_prescriber: int = 0
    # Patients assigned to a practice (generalPractitioner an Organization) with no clinician named: the practice's.
    attributed_to_practice: int = 0
    patients_from_orders: int = 0
    patients_not_evaluated: int = 0
    evaluation_errors: Counter[str] = field(default_factory=Counter)  # error type → patients
    # Practitioners, roles or organisations sent in differing versions under one id (two export files, say): the
    # newest was read, so the name on a letter does not depend on the order the engine read the files in.
    directory_conflicts: int = 0
    # Claims (ExplanationOfBenefit) read as the fills, diagnoses and procedures they stand for, and those that stood
    # for none (no coded line or diagnosis, or cancelled).
    claims_read: int = 0
    claims_not_read: int = 0
    # Claims another claim in the export replaces (an adjustment naming it as prior, or it naming its replacement):
    # the replacing claim is read instead.
    claims_replaced: int = 0
    # Hospice claims carrying no day of care (no billablePeriod, no line service date, no stay in supportingInfo;
    # `created` is the day the claim was written): patient id → claims. Hospice care on no day excludes no one, so
    # each such patient is named, only while nothing else leaves them out of the measures.
    hospice_claims_undated: Counter[str] = field(default_factory=Counter)
    # Claims whose diagnoses carry no day of service (no billablePeriod, no line service date): patient id → claims.
    # Their diagnoses are not read (one in effect on no day would exclude whatever its day), so each such patient is
    # named, only while nothing else leaves them out of the measures.
    claim_diagnoses_undated: Counter[str] = field(default_factory=Counter)
    # {patient: records} of possible hospice care the exclusion did not count (guideline.exclusions.hospice_not_counted)
    hospice_not_counted: Counter[str] = field(default_factory=Counter)
    # Fills a reversal (a negative quantity) cancels, and reversals with no fill to cancel: none is read as a fill.
    fills_reversed: int = 0
    reversals_unmatched: int = 0
    # Fills sent twice (guideline.sent_twice), read once; each copy counted in one of the two. As two claim lines of
    # two claims (one fill billed twice):
    duplicate_claim_fills: int = 0
    # As two dispenses, or a dispense and a pharmacy claim, for the same fill:
    duplicate_fills: int = 0
    # Opioid and benzodiazepine fills counted as fills of their own only because their claim numbers differ: two
    # same-day claims of one payer alike in everything else (guideline.population.facts): patient id → fills. Two
    # part fills of one day, or one fill rebilled under a new number and never reversed (counted twice): ask the
    # payer. Named only for patients in the measures whom nothing else leaves out.
    claim_fills_told_apart_by_number: Counter[str] = field(default_factory=Counter)
    # Opioid and benzodiazepine fills read that may each be a copy of another read (guideline.sent_twice's
    # `possible_copies`, the cards' rule: alike in all but the prescriber, which only one of the two names as such),
    # both counted: kind of fill ("opioid", "benzodiazepine") → fills. Named only for patients in the measures whom
    # nothing else leaves out: another's pair is in no rate, so it can raise none.
    fills_possibly_sent_twice: Counter[str] = field(default_factory=Counter)
    # Fills of opioid cough and cold medicines (codeine, hydrocodone or dihydrocodeine with an antihistamine,
    # decongestant, expectorant or homatropine): no pain-opioid fill, as the PQA measures define them.
    cough_cold_opioid_fills: int = 0
    # Orders another source relayed under its own id (an HIE's copy of the EHR's order, marked by `meta.source`),
    # read once by the point of care's rule (guideline.population.relayed): read twice, 60 MME a day was 120.
    orders_relayed: int = 0
    # Fills another source relayed under its own id (an HIE's copy of the pharmacy's fill, marked by `meta.source`,
    # the same fill number, drug, day, quantity and days' supply), read once by the point of care's rule: read twice,
    # the copy queued as an early refill (twice the days' supply) and the first days counted twice the MME.
    fills_relayed: int = 0
    # Pairs of orders, each naming a source (meta.source) and none the export's own (no `population.own_sources`
    # names either), that the rule would read once were either the EHR's: both read (60 MME a day may be 120), by
    # their two sources ("https://ehr… and https://hie…") → pairs; each patient's evidence names the orders.
    orders_maybe_relayed: Counter[str] = field(default_factory=Counter)
    # Pairs of fills likewise (every fill naming another source; the same fill number, drug, day, quantity and days'
    # supply): both read (an early refill, twice the MME), by their two sources → pairs.
    fills_maybe_relayed: Counter[str] = field(default_factory=Counter)
    # A patient's resources sent in differing versions under one id (two export files): the newest was read.
    resource_conflicts: int = 0
    # Patients whose birth date (a year, or a year and month) cannot say whether they were 18 on the first day of
    # the period: left out of every denominator, as the measures count adults only.
    patients_age_unsettled: int = 0
    # Patient records another record replaces (Patient.link replaced-by / replaces, stated by either: an MPI merge,
    # a re-enrolment), one per old record: "old → new merged" when its resources were read as the surviving record's
    # (guideline.population.links), "old → new not merged (why)" when they were read apart. Built once per run.
    linked_patients: Counter[str] = field(default_factory=Counter)
    # Of those, the records read apart from their replacement: a continuing supply on the new id may read as a new
    # start, and a long-term user split across the two may be in neither OHD nor AMO.
    linked_patients_not_merged: int = 0
    # Replacement links (Patient.link replaced-by / replaces) no engine can file resources under, one per link as
    # "file: Patient id: type "reference": why" (no Patient id, an id holding a space or a "/", text that is not
    # UTF-8): not merged, so the person may be read as two patients. The rest of the export's links still merge.
    patient_links_not_read: Counter[str] = field(default_factory=Counter)
    # Members in the review whose Coverage leaves a gap in the measurement period (guideline.population.enrolment),
    # kept in the spec's denominators (population.enrolment = name): a PQA-certified vendor's rates leave them out.
    members_enrolled_part_of_period: int = 0
    # Under population.enrolment = continuous: members left out of every measure for more than one gap, or one
    # longer than enrolment_gap_days; and members kept in with the one gap the setting allows.
    members_not_continuously_enrolled: int = 0
    members_enrolment_gap_allowed: int = 0
    # Members in the review with no Coverage at all (denominators unchanged; one whose Coverage could not be read is
    # members_enrolment_unknown). Reported only when the export holds Coverage for someone: an export with none says
    # so in one summary line instead (enrolment.enrolment_not_checked; the review then sets this to 0).
    members_enrolment_not_stated: int = 0
    # Members in the review whose enrolment is unknown, {patient id: 1}: a Coverage of theirs could not be read, and
    # the Coverage read leaves a gap it may fill (or there is none read). Kept in the measures, every rate marked.
    members_enrolment_unknown: Counter[str] = field(default_factory=Counter)
    # Coverage that could not be read, each "Coverage/id: why" (a date that is no date, no period and no status, a
    # status FHIR does not define): its member's enrolment is read from their other Coverage, if any.
    coverage_not_read: Counter[str] = field(default_factory=Counter)
    # Patients with fills or orders whose Patient resource is not in the export: their age (and PCP) cannot be known,
    # and the measures count adults only, so they are left out of every measure as an unsettled age is.
    patients_without_patient_resource: int = 0
    # Patients whose birthDate is written but cannot be read ("01/15/2010", "2010-02-30"): an unknown age, as above.
    patients_birth_date_unreadable: int = 0
    # Patients whose generalPractitioner names a clinician (or role, or a number) the export's directory does not
    # hold, and no other clinician it does: where they were attributed instead ("practice", "prescriber", "none").
    # Left uncounted, they went to their main prescriber as if they had no PCP on record.
    pcp_not_in_directory: Counter[str] = field(default_factory=Counter)
    # Opioid orders standing in for fills (a patient with no fills) that have no days' supply, given or computable:
    # their MME per day counts on no day of the average, so the patient's result is partial.
    orders_without_days_supply: int = 0
    # Procedures (charted, or a claim's coded lines) in the review's year with no code under a system PainPlan reads
    # (SNOMED CT, CPT, HCPCS, LOINC, or a system the site's settings use): code system → procedures. A drug test billed
    # under a payer's own code is no drug test to the review.
    procedures_not_read_by_system: Counter[str] = field(default_factory=Counter)
    # Urine drug tests dated to the month or the year only ("2026", "2026-05") whose days fall partly inside the
    # review's 12 months and partly outside: whether the test was in them cannot be told, so it is not counted.
    drug_tests_dated_partly_in_year: int = 0
    # Drug tests and hospice care (charted, or a claim's lines) recorded as done with no date the record reads (none,
    # words, an age, "2026-02-30", an offset past 24 hours), of patients in the measures whom nothing else leaves
    # out: no window counts them, so AMO's numerator may miss the patient, or the hospice exclusion a patient.
    procedures_without_date: int = 0
    # Urine drug test results and lab reports (read as a test done: only a conclusion, or a document) the lab sent
    # with no date the record reads (none, "2026-02-30", an offset past 24 hours), of patients in the measures: no
    # window counts them, so AMO's numerator may miss them.
    results_without_date: int = 0
    # {patient: doses} of OUD medication on record that the standing review's `oud-treatment` finding ("OUD without
    # treatment") could not count (no date it can read, or given with a status it cannot tell), of members whose row
    # carries that finding, in the measures or not: each dose may be the treatment, so the finding may be wrong. The
    # row's evidence names each as the chart's data-incomplete card does (guideline.population.standing).
    oud_treatment_not_counted: Counter[str] = field(default_factory=Counter)
    # Counts this version has no field for, as from_json read them (a newer version's, or a Spark partition's that a
    # newer version wrote): key → a number, a {name: count} or a list of items each with a "count". Merged and
    # written back under their own keys, so none vanishes from a merged report; the summary and the dashboard name
    # them as counts this version does not know. Not itself a count: data-quality.json has no key of this name.
    unknown_counts: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def count_names(cls) -> tuple[str, ...]:
        """The fields data-quality.json writes, in their order: every field but unknown_counts."""
        return tuple(name for name in cls.__dataclass_fields__ if name != _UNKNOWN_FIELD)

    def merge(self, other: Quality) -> Quality:
        """Adds another's counts to these: a part of the run's (one per bucket, worker or Spark partition)."""
        for name in self.count_names():
            mine, theirs = getattr(self, name), getattr(other, name)
            if name in _EARLIEST:
                setattr(self, name, min((d for d in (mine, theirs) if d is not None), default=None))
            elif isinstance(mine, Counter):
                mine.update(theirs)
            else:
                setattr(self, name, mine + theirs)
        for key, theirs in other.unknown_counts.items():
            self.unknown_counts[key] = _added(key, self.unknown_counts.get(key), theirs)
        return self

    def to_json(self) -> dict[str, Any]:
        """data-quality.json's counts, one per field in the fields' order, so a count added to Quality is written:
        a {name: count} by name (`in_name_order`), unidentified_medications as a list (its key is three values).
        Then the counts this version does not know, under their own keys, as a newer version wrote them."""
        written = {name: self._written(name) for name in self.count_names()}
        written.update((key, _written_unknown(value)) for key, value in sorted(self.unknown_counts.items()))
        return written

    def _written(self, name: str) -> Any:
        """One field as data-quality.json writes it."""
        value = getattr(self, name)
        if name == "unidentified_medications":
            return [
                {"system": system, "code": code, "text": text, "count": count}
                for (system, code, text), count in sorted(value.items(), key=lambda item: (-item[1], item[0]))
            ]
        return in_name_order(value) if isinstance(value, Counter) else value

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Quality:
        """The counts a to_json wrote (a Spark partition's, say), every one of them: a count this version has no
        field for is kept in unknown_counts, never dropped. A value of no count's shape raises ValueError."""
        quality = cls()
        known = set(quality.count_names())
        for name, value in data.items():
            if name == "run":  # data-quality.json's description of the run, no count
                continue
            if name not in known:
                quality.unknown_counts[name] = _unknown_count(name, value)
            elif name in _EARLIEST:
                setattr(quality, name, value if isinstance(value, str) else None)
            elif name == "unidentified_medications":
                for item in _items(name, value):
                    quality.unidentified_medications[(item["system"], item["code"], item["text"])] += item["count"]
            elif isinstance(getattr(quality, name), Counter):
                getattr(quality, name).update(_counter(name, value))
            else:
                setattr(quality, name, _number(name, value))
        return quality

    def summary_lines(self) -> list[str]:
        """The end-of-run summary: every count that is not zero and says something about the data, in words."""
        return [line.text for line in quality_lines(self.to_json()) if line.count and line.kind != "census"]


_UNKNOWN_FIELD = "unknown_counts"


def _not_a_count(name: str, value: Any) -> ValueError:
    return ValueError(f"data-quality count {name!r} is not a count: {value!r}")


def _number(name: str, value: Any) -> int:
    """A count that is one number."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise _not_a_count(name, value)


def _counter(name: str, value: Any) -> Counter[str]:
    """A {name: count} count."""
    if isinstance(value, Mapping):
        return Counter({str(key): _number(name, count) for key, count in value.items()})
    raise _not_a_count(name, value)


def _items(name: str, value: Any) -> list[dict[str, Any]]:
    """A count written as a list of items, each an object with a "count" (copies, so merging changes no input)."""
    if isinstance(value, list) and all(isinstance(item, Mapping) for item in value):
        items = [dict(item) for item in value]
        for item in items:
            _number(name, item.get("count"))
        return items
    raise _not_a_count(name, value)


def _unknown_count(name: str, value: Any) -> int | Counter[str] | list[dict[str, Any]]:
    """A count this version has no field for, read by its shape: a number, a {name: count}, a list of items."""
    if isinstance(value, Mapping):
        return _counter(name, value)
    if isinstance(value, list):
        return _items(name, value)
    return _number(name, value)


def _added(name: str, mine: Any, theirs: Any) -> Any:
    """Two parts of a run's same unknown count added up: numbers summed, {name: count}s by name, items by all but
    their count. Parts that wrote it in different shapes cannot be added, and say so."""
    if mine is None:
        return _unknown_count(name, _written_unknown(theirs))  # a copy, so the other part's count stays its own
    if isinstance(mine, Counter) and isinstance(theirs, Counter):
        total = Counter(mine)  # update, not +, which would drop a count of zero
        total.update(theirs)
        return total
    if isinstance(mine, list) and isinstance(theirs, list):
        totals: dict[str, dict[str, Any]] = {}
        for item in [*mine, *theirs]:
            same = totals.setdefault(_item_key(item), {**item, "count": 0})
            same["count"] += item["count"]
        return list(totals.values())
    if isinstance(mine, int) and isinstance(theirs, int):
        return mine + theirs
    raise ValueError(
        f"data-quality count {name!r} is written in two shapes by two parts of the run: {mine!r}, {theirs!r}"
    )


_NUMBER = re.compile(r"\d{1,3}(?:,\d{3})+(?!\d)|\d+")


def in_order(name: Any) -> tuple[tuple[int, str, int], ...]:
    """A name's place in a listing: its text, with each number in it ("line 1,234") taken as the number, so lines
    named by number are listed in file order ("line 7" before "line 12")."""
    text = str(name)
    parts: list[tuple[int, str, int]] = []
    end = 0
    for match in _NUMBER.finditer(text):
        parts += [(0, text[end : match.start()], 0), (1, "", int(match.group().replace(",", "")))]
        end = match.end()
    return (*parts, (0, text[end:], 0))


def in_name_order(counts: Mapping[Any, int]) -> dict[Any, int]:
    """A {name: count} as data-quality.json lists it: by name, `in_order`."""
    return dict(sorted(counts.items(), key=lambda item: in_order(item[0])))


def _item_key(item: Mapping[str, Any]) -> str:
    """What an item counts: everything but its count."""
    return json.dumps({key: value for key, value in item.items() if key != "count"}, sort_keys=True, default=str)


def _written_unknown(value: Any) -> Any:
    """An unknown count as data-quality.json writes it: a {name: count} by name, items the most counted first."""
    if isinstance(value, Counter):
        return in_name_order(value)
    if isinstance(value, list):
        return [dict(item) for item in sorted(value, key=lambda item: (-item["count"], _item_key(item)))]
    return value


_EARLIEST = frozenset({"medication_data_from"})  # merged as the earliest of the two
EVERY = ("*",)  # every measure
# What a count may leave unchecked (Count.unchecked): members' enrolment, or patients no measure evaluated.
ENROLMENT, PATIENTS = "enrolment", "patients"


@dataclass(frozen=True)
class Count:
    """One count of data-quality.json and its words: the command's summary and the dashboard both read them here."""

    key: str
    words: str  # what is counted, after the number: "fills not counted for their status"
    # "problem": something not read, or left out; "note": how something was read (nothing lost); "census": what the
    # export held. The dashboard shows problems first and prominently.
    kind: str = "problem"
    # The measures whose denominator, or numerator, may be missing patients when the count is not zero ("*": every
    # measure): the dashboard says so beside those rates.
    denominators: tuple[str, ...] = ()
    numerators: tuple[str, ...] = ()
    # The measures whose rates may count patients their PQA definition leaves out when the count is not zero (EVERY:
    # every measure): the dashboard says so beside those rates, as it says what may be missing.
    includes: tuple[str, ...] = ()
    breakdown: str | None = None  # another key whose {name: count} is shown with this count (and not on its own)
    names_only: bool = False  # a {name: 1} listing: its names are shown without their counts ("a.ndjson: why")
    # Its names are patients (their ids: in a payer's export often member or beneficiary ids): the summary, which is
    # printed and logged, and the dashboard give the count alone; data-quality.json, in the output folder, names them.
    by_patient: bool = False
    # What a count that is not zero leaves unchecked, beyond the measures it names above: "enrolment" (members whose
    # enrolment was not read from Coverage) or "patients" (patients no measure evaluated). data-quality.json's `run`
    # lists each under it (guideline.population.unchecked).
    unchecked: str | None = None
    # For a {name: count} whose names each change other measures (a kind of fill): name → the measures it may
    # change, so a line names only those of the names counted. A name not listed (a newer version's) changes the
    # measures the count itself names above.
    by_name: tuple[tuple[str, Measures], ...] = ()
    # The words after a count of 1, where more than the leading nouns change ("fill not counted for its status");
    # otherwise `one_of(words)`.
    one: str = ""

    def words_for(self, count: int) -> str:
        """The words after the count: singular for 1, so no line says "1 fills"."""
        return (self.one or one_of(self.words)) if count == 1 else self.words


# The plural nouns the counts' words begin with, in the singular; the words that may stand before them or between
# them ("opioid fills", "fills, orders and pharmacy claims") pass. The first other word ends the nouns a count of 1
# makes singular ("fills possibly sent twice": "fill possibly sent twice").
_SINGULAR = {
    "files": "file",
    "warnings": "warning",
    "OperationOutcomes": "OperationOutcome",
    "lines": "line",
    "patients": "patient",
    "look-backs": "look-back",
    "resources": "resource",
    "fills": "fill",
    "orders": "order",
    "claims": "claim",
    "diagnoses": "diagnosis",
    "results": "result",
    "procedures": "procedure",
    "visits": "visit",
    "reports": "report",
    "medications": "medication",
    "tests": "test",
    "reversals": "reversal",
    "records": "record",
    "links": "link",
    "members": "member",
    "practitioners": "practitioner",
    "roles": "role",
    "organisations": "organisation",
}
_BEFORE_NOUNS = frozenset(
    {"input", "export", "malformed", "patient", "opioid", "benzodiazepine", "pharmacy", "hospice", "claim", "urine"}
    | {"drug", "same-day", "other", "replacement", "Coverage", "and", "or"}
)


def one_of(words: str) -> str:
    """A count's words for one item: its leading plural nouns in the singular, a list of them joined by "or".
    Not `words.number_of`: that adds an "s" to one singular noun, while a count's words are written plural, may
    lead with several nouns and adjectives ("fills, orders and pharmacy claims") and hold "diagnoses"."""
    said = words.split(" ")
    for place, word in enumerate(said):
        bare, comma = word.rstrip(","), "," if word.endswith(",") else ""
        if bare in _SINGULAR:
            said[place] = _SINGULAR[bare] + comma
        elif bare == "and":
            said[place] = "or"
        elif bare not in _BEFORE_NOUNS:
            break
    return " ".join(said)


@dataclass(frozen=True)
class Measures:
    """The measures one name of a count may change, as a Count names them: missing from their `denominators` or
    `numerators`, or counting patients their PQA definition leaves out (`includes`)."""

    denominators: tuple[str, ...] = ()
    numerators: tuple[str, ...] = ()
    includes: tuple[str, ...] = ()


# What a fill possibly sent twice (`fills_possibly_sent_twice`), both counted, may change. An opioid copy may put a
# patient in OHD's, OMP's and COB's denominators (15 days' supply), AMO's (90 days), OHD's numerator, OMP's (a
# pharmacist read as a prescriber), COB's (more overlap), IOP-HD's and IOP-LD's (the first days' MME and supply
# doubled) and NAL's denominator through OHD and COB; queued into the 90 days before a later fill, it leaves that fill
# no new start (IOP's denominators), and its days may lower an average (OHD's numerator, NAL's denominator).
_OPIOID_COPY = Measures(
    denominators=("IOP-HD", "IOP-LD", "IOP-LA", "NAL"),
    numerators=("OHD", "OHDMP"),
    includes=("OHD", "OMP", "OHDMP", "COB", "IOP-HD", "IOP-LD", "AMO", "NAL"),
)
# A benzodiazepine copy may only add days of overlap: COB, and NAL through it.
_BENZODIAZEPINE_COPY = Measures(includes=("COB", "NAL"))

# Every count a run writes, in the order the summary gives them. A count added to Quality without its words here is
# still shown, under its key (quality_lines); a test asks for the words.
COUNTS: tuple[Count, ...] = (
    Count(
        "input_files_not_read",
        "input files not read, or read only in part",
        denominators=EVERY,
        names_only=True,
    ),
    Count(
        "export_warnings",
        "export warnings the server listed in its error files (nothing lost)",
        kind="note",
        names_only=True,
    ),
    Count(
        "server_outcomes_by_file",
        "OperationOutcomes the server sent among the data, graded as its error files are, by file",
        kind="note",
    ),
    Count("malformed_lines", "malformed lines skipped", denominators=EVERY, breakdown="malformed_lines_by_file"),
    Count("malformed_lines_by_file", "malformed lines skipped, by file"),
    Count(
        "malformed_lines_named",
        "malformed lines named by file and line (the first 10 of each file)",
        kind="note",
        names_only=True,
    ),
    Count(
        "patients_without_medication_data",
        "patients in an export holding no fills, orders or pharmacy claims at all (no MedicationDispense, "
        "MedicationRequest or ExplanationOfBenefit): no measure can count anyone",
        denominators=EVERY,
    ),
    Count("medication_data_from", "the earliest fill, order or claim in the export", kind="census"),
    # A long-term patient whose earlier fills the export lacks is read as a new start: IOP's rates gain patients
    # (none can be missing from its denominators: a true new start is one with less history too), and its first
    # fills may be taken for the start, so a numerator may miss one; AMO's denominator loses them.
    Count(
        "lookback_not_reached",
        "look-backs reaching before the export's first fill, order or claim",
        denominators=("AMO",),
        numerators=("IOP-HD", "IOP-LD", "IOP-LA"),
        includes=("IOP-HD", "IOP-LD", "IOP-LA"),
        names_only=True,
    ),
    Count("resources_by_type", "resources read", kind="census"),
    Count(
        "unexpected_resource_types",
        "resources of types the review does not read, ignored",
        one="resource of a type the review does not read, ignored",
    ),
    Count(
        "ids_from_full_url",
        "resources with no id given the id their Bundle entry's fullUrl names (a urn:uuid, or a RESTful URL's "
        "Type/id), by file and type",
        kind="note",
        one="resource with no id given the id its Bundle entry's fullUrl names (a urn:uuid, or a "
        "RESTful URL's Type/id), by file and type",
    ),
    Count("resources_without_patient", "patient resources without a patient reference", denominators=EVERY),
    Count(
        "fills_without_patient_by_file",
        "fills, orders and pharmacy claims no Patient reference names (lines not read), by file",
        denominators=EVERY,
    ),
    Count(
        "fills_without_patient_named",
        "fills, orders and pharmacy claims no Patient reference names, by file and line (the first 10 of each file)",
        kind="note",
        names_only=True,
    ),
    Count(
        "records_without_patient_by_file",
        "diagnoses, results, procedures, visits and reports no Patient reference names (lines not read), by file",
        denominators=EVERY,
        numerators=EVERY,
    ),
    Count(
        "records_without_patient_named",
        "diagnoses, results, procedures, visits and reports no Patient reference names, by file and line (the first "
        "10 of each file)",
        kind="note",
        names_only=True,
    ),
    # Under population.enrolment = continuous a member whose gap such a Coverage fills is left out of every measure.
    Count(
        "coverage_without_patient_by_file",
        "Coverage no Patient reference names (lines not read: enrolment read without it), by file",
        denominators=EVERY,
    ),
    Count(
        "coverage_without_patient_named",
        "Coverage no Patient reference names, by file and line (the first 10 of each file)",
        kind="note",
        names_only=True,
    ),
    Count(
        "other_resources_without_patient_by_file",
        "other patient resources no Patient reference names (no measure reads them), by file",
        kind="note",
        one="other patient resource no Patient reference names (no measure reads it), by file",
    ),
    Count(
        "other_resources_without_patient_named",
        "other patient resources no Patient reference names, by file and line (the first 10 of each file)",
        kind="note",
        names_only=True,
    ),
    Count("unreadable_resources", "resources that could not be read", denominators=EVERY),
    Count(
        "fills_without_days_supply",
        "opioid fills without days' supply (left out of MME)",
        denominators=EVERY,
        numerators=("OHD", "OHDMP", "IOP-HD", "IOP-LD"),
    ),
    Count(
        "benzodiazepine_fills_without_days_supply",
        "benzodiazepine fills without days' supply (each counted as its fill day only: COB may be undercounted)",
        denominators=("NAL",),
        numerators=("COB",),
    ),
    Count(
        "fills_without_prescriber",
        "opioid fills naming no prescriber (OMP may be undercounted)",
        numerators=("OMP", "OHDMP"),
    ),
    Count(
        "fills_without_pharmacy",
        "opioid fills naming no pharmacy (OMP may be undercounted)",
        numerators=("OMP", "OHDMP"),
    ),
    Count("fills_without_date", "fills without a date to the day (none, or a month or year only)", denominators=EVERY),
    # Left out of the average, which may be higher or lower for it: OHD (and NAL's "OHD numerator" denominator) and
    # the initial dose, each patient's `partial` column saying where.
    Count(
        "fills_without_mme",
        "opioid fills whose MME could not be calculated, left out of the average",
        denominators=("NAL",),
        numerators=("OHD", "OHDMP", "IOP-HD"),
    ),
    Count(
        "fills_not_counted_by_status",
        "fills not counted for their status",
        denominators=EVERY,
        one="fill not counted for its status",
    ),
    Count(
        "orders_without_days_supply",
        "opioid orders without days' supply (patients with no fills; left out of MME)",
        denominators=EVERY,
        numerators=("OHD", "OHDMP", "IOP-HD", "IOP-LD"),
    ),
    Count("orders_without_date", "orders without a start date (left out)", denominators=EVERY),
    Count(
        "orders_not_counted_by_status",
        "orders not counted for their status",
        denominators=EVERY,
        one="order not counted for its status",
    ),
    # Left out by the measures' definition (they count prescriptions), so no rate is lowered by them.
    Count(
        "orders_not_counted_by_intent",
        "orders not counted for their intent",
        kind="note",
        one="order not counted for its intent",
    ),
    Count(
        "claims_read",
        "claims read as the fills, diagnoses and procedures they stand for",
        kind="note",
        one="claim read as the fills, diagnoses and procedures it stands for",
    ),
    Count(
        "claims_not_read",
        "claims with no drug line, diagnosis or procedure to read, or cancelled (left out)",
        denominators=EVERY,
    ),
    # Read as no hospice care: the patient stays in the denominators (never fewer patients, perhaps more).
    Count(
        "hospice_claims_undated",
        "hospice claims with no day of care to date them by, so no exclusion (patients still in the measures)",
        includes=EVERY,
        one="hospice claim with no day of care to date it by, so no exclusion (patient still in the measures)",
    ),
    # Read as no diagnosis: the patient stays in the denominators (never fewer patients, perhaps more).
    Count(
        "claim_diagnoses_undated",
        "claims with no day of service to date their diagnoses by, so no exclusion (patients still in the measures)",
        includes=EVERY,
        one="claim with no day of service to date its diagnoses by, so no exclusion (patient still in the measures)",
    ),
    Count(
        "hospice_not_counted",
        (
            "possible hospice care not counted (status unknown, on hold or stopped, or a place named hospice only; "
            "patients still in the measures)"
        ),
        includes=EVERY,
        by_patient=True,
    ),
    Count("claims_replaced", "claims replaced by a later claim in the export (the later one was read)", kind="note"),
    Count("fills_reversed", "fills cancelled by a reversal (neither counted)", kind="note"),
    # A reversal whose fill was not found may leave that fill counted: no rate misses patients, some may gain them.
    Count("reversals_unmatched", "reversals with no fill to cancel (left out)", includes=EVERY),
    Count("duplicate_claim_fills", "claim lines billed twice under another claim number (counted once)", kind="note"),
    Count(
        "duplicate_fills",
        "fills sent twice, as two dispenses or as a dispense and a pharmacy claim (counted once)",
        kind="note",
    ),
    # Counted as fills, so no rate misses a patient; a fill rebilled under a new number may add one (a false high
    # dose or overlap), so it is a problem to check, by patient.
    Count(
        "claim_fills_told_apart_by_number",
        "same-day pharmacy claims alike but for their claim numbers, counted as separate fills (ask the payer "
        "whether one rebills the other)",
        by_patient=True,
        one="same-day pharmacy claim alike to another but for its claim number, counted as a separate fill "
        "(ask the payer whether one rebills the other)",
    ),
    # Both counted, as the cards count them: a copy adds its dose, or queues as an early refill and adds its days.
    Count(
        "fills_possibly_sent_twice",
        "fills possibly sent twice, both counted: alike in day, drug, quantity, days' supply and pharmacy, but only "
        "one of the two names its prescriber (ask the pharmacy whether each was filled once)",
        # A kind a later version counts too: read as an opioid's, the widest.
        denominators=_OPIOID_COPY.denominators,
        numerators=_OPIOID_COPY.numerators,
        includes=_OPIOID_COPY.includes,
        by_name=(("opioid", _OPIOID_COPY), ("benzodiazepine", _BENZODIAZEPINE_COPY)),
    ),
    # Left out by the measures' definition (PQA counts no opioid cough and cold product), so no rate is lowered.
    Count(
        "cough_cold_opioid_fills",
        "fills of opioid cough and cold medicines (no pain-opioid fill)",
        kind="note",
        one="fill of an opioid cough and cold medicine (no pain-opioid fill)",
    ),
    Count("unidentified_medications", "medications not identified", denominators=EVERY),
    # A drug test coded so is not seen (AMO's numerator); a hospice procedure so excludes no one (more patients in
    # the denominators, never fewer).
    Count(
        "procedures_not_read_by_system",
        "procedures or claim lines coded only under systems the review does not read",
        numerators=("AMO",),
    ),
    # Not counted as the year's test, AMO's numerator may miss the patient; none is counted that was not done.
    Count(
        "drug_tests_dated_partly_in_year",
        "urine drug tests dated to a month or year only that may fall outside the 12 months (not counted)",
        numerators=("AMO",),
    ),
    # No window counts them: AMO's test not met (a numerator may miss the patient), and hospice care read as none,
    # so the patient stays in the denominators (never fewer patients, perhaps more).
    Count(
        "procedures_without_date",
        "drug tests and hospice care with no date (none, words, or a date that is no date: not counted)",
        numerators=("AMO",),
        includes=EVERY,
    ),
    # No window counts them: AMO's test not met, so its numerator may miss the patient.
    Count(
        "results_without_date",
        "urine drug test results and lab reports with no date (none, or a date that is no date: not counted)",
        numerators=("AMO",),
    ),
    # No measure reads a dose given (the measures count fills), so no rate changes: a standing-risk finding, on the
    # member's row and in their letter, may be wrong.
    Count(
        "oud_treatment_not_counted",
        "OUD medication doses, fills and orders not counted as treatment (no date, status unknown, or dated after "
        "the review's end) beside an oud-treatment finding, which may be wrong",
        by_patient=True,
        one="OUD medication dose, fill or order not counted as treatment (no date, status unknown, or dated after the "
        "review's end) beside an oud-treatment finding, which may be wrong",
    ),
    Count("unattributed_patients", "patients attributed to no clinician", kind="note"),
    Count("attributed_to_prescriber", "patients without a PCP attributed to their main prescriber", kind="note"),
    Count(
        "attributed_to_practice",
        "patients assigned to a practice with no clinician named (the practice's)",
        kind="note",
    ),
    # Attributed elsewhere, so a PCP's and a practice's rates may miss them; no overall rate changes.
    Count("pcp_not_in_directory", "patients whose named PCP is not in the export's directory, attributed elsewhere"),
    Count("patients_from_orders", "patients whose numbers come from orders, not fills", kind="note"),
    Count(
        "patients_age_unsettled",
        "patients whose birth date cannot settle whether they were 18 (left out of every measure)",
        denominators=EVERY,
        unchecked=PATIENTS,
    ),
    Count(
        "linked_patients",
        "patient records replaced by another record",
        kind="note",
        names_only=True,
        by_patient=True,
    ),
    # Read apart, the pair may be missing from OHD or AMO and the new id counted as a new start (IOP).
    Count(
        "linked_patients_not_merged",
        "patient records replaced by another record but not merged (read as separate patients)",
        denominators=EVERY,
        numerators=EVERY,
    ),
    Count(
        "patient_links_not_read",
        "replacement links between Patient records that could not be read (not merged)",
        denominators=EVERY,
        numerators=EVERY,
        names_only=True,
        by_patient=True,
    ),
    # Kept in the spec's denominators, which PQA's continuous-enrolment rule would leave them out of: every rate may
    # count members a PQA-certified vendor's rates do not (population.enrolment = continuous leaves them out). None
    # is missing, so the dashboard marks the rates as counting more, not fewer.
    Count(
        "members_enrolled_part_of_period",
        "members whose Coverage leaves a gap in the period, still in the measures (population.enrolment = name)",
        includes=EVERY,
    ),
    Count(
        "members_not_continuously_enrolled",
        "members not continuously enrolled, left out of every measure (population.enrolment = continuous)",
        kind="note",
    ),
    Count(
        "members_enrolment_gap_allowed",
        "members with the one enrolment gap population.enrolment_gap_days allows, kept in the measures",
        kind="note",
    ),
    Count(
        "members_enrolment_not_stated",
        "members with no Coverage in the export (enrolment not stated; still in the measures)",
        unchecked=ENROLMENT,
    ),
    # Kept in, where PQA's rule may leave them out: every rate may count members a PQA-certified vendor's do not.
    Count(
        "members_enrolment_unknown",
        "members whose enrolment is unknown: a Coverage of theirs could not be read (kept in the measures)",
        includes=EVERY,
        names_only=True,
        by_patient=True,
        unchecked=ENROLMENT,
    ),
    Count(
        "coverage_not_read",
        "Coverage resources that could not be read (no enrolment read from them)",
        names_only=True,
        by_patient=True,
        one="Coverage resource that could not be read (no enrolment read from it)",
    ),
    Count(
        "patients_without_patient_resource",
        "patients with fills or orders but no Patient resource in the export (age not known: left out of every "
        "measure)",
        denominators=EVERY,
        unchecked=PATIENTS,
    ),
    Count(
        "patients_birth_date_unreadable",
        "patients whose birth date cannot be read (age not known: left out of every measure)",
        denominators=EVERY,
        unchecked=PATIENTS,
    ),
    Count(
        "patients_not_evaluated",
        "patients the engine could not evaluate, left out of every measure",
        denominators=EVERY,
        breakdown="evaluation_errors",
        unchecked=PATIENTS,
    ),
    Count("evaluation_errors", "patients not evaluated, by error"),
    Count(
        "orders_relayed",
        "orders another source relayed under its own id (meta.source), read once as the order they copy",
        kind="note",
        one="order another source relayed under its own id (meta.source), read once as the order it copies",
    ),
    Count(
        "fills_relayed",
        "fills another source relayed under its own id (meta.source; same fill number, drug, day, quantity and days' "
        "supply), read once as the fill they copy",
        kind="note",
        one="fill another source relayed under its own id (meta.source; same fill number, drug, day, quantity "
        "and days' supply), read once as the fill it copies",
    ),
    # Both orders read: a patient may gain a high dose (OHD, NAL's denominator), never lose one, so no rate is
    # named as missing patients; the pair is a problem to settle (set population.own_sources).
    Count(
        "orders_maybe_relayed",
        "orders two sources both sent (same order number, drug and day; meta.source naming neither as the export's "
        "own), both read: set population.own_sources to read the copy once",
    ),
    Count(
        "fills_maybe_relayed",
        "fills two sources both sent (same fill number, drug, day, quantity and days' supply; meta.source naming "
        "neither as the export's own), both read: set population.own_sources to read the copy once",
    ),
    Count("resource_conflicts", "resources sent in differing versions under one id (the newest was read)", kind="note"),
    Count(
        "directory_conflicts",
        "practitioners, roles or organisations sent in differing versions under one id (the newest was read)",
        kind="note",
    ),
)
_BY_KEY = {count.key: count for count in COUNTS}
_PLACE = {key: place for place, key in enumerate(_BY_KEY)}  # a count's place in the summary
_SHOWN_WITH = {count.breakdown: count.key for count in COUNTS if count.breakdown}


@dataclass(frozen=True)
class QualityLine:
    """One count of a run as the summary and the dashboard show it."""

    key: str
    keys: tuple[str, ...]  # the data-quality.json keys shown in this line (a count and its breakdown)
    count: int
    text: str  # "12 fills not counted for their status (in-progress 12)"
    kind: str
    denominators: tuple[str, ...]
    numerators: tuple[str, ...]
    includes: tuple[str, ...] = ()
    unchecked: str | None = None  # Count.unchecked

    def widens(self, measure_id: str) -> bool:
        """Whether, not being zero, this count may put patients in the measure its PQA definition leaves out."""
        return bool(self.count) and _names(self.includes, measure_id)

    def lowers(self, measure_id: str, part: str) -> bool:
        """Whether, not being zero, this count may leave patients out of the measure's "denominators" or
        "numerators"."""
        measures = self.denominators if part == "denominators" else self.numerators
        return bool(self.count) and _names(measures, measure_id)


def _names(measures: tuple[str, ...], measure_id: str) -> bool:
    """Whether a Count's tuple of measures (`denominators`, `numerators`, `includes`) names this one (EVERY: all)."""
    return measures == EVERY or measure_id in measures


def quality_lines(report: Mapping[str, Any]) -> list[QualityLine]:
    """Every count in a data-quality report (data-quality.json, or Quality.to_json()) in words, known counts in
    COUNTS's order, then any other in the report's own (a newer run's, say) under its key: none is left out."""
    counts = [key for key in report if key != "run" and _is_count(report[key]) and _SHOWN_WITH.get(key) not in report]
    counts.sort(key=lambda key: _PLACE.get(key, len(_PLACE)))
    return [_line(key, report) for key in counts]


def _is_count(value: Any) -> bool:
    return isinstance(value, (int, dict, list)) and not isinstance(value, bool)


# Where a count kept by patient names them (see Count.by_patient).
BY_PATIENT = "by patient in data-quality.json"
# After a count no entry of COUNTS knows (a newer version's): its key is all this version can say of it.
UNKNOWN_WORDS = "a count this version of PainPlan does not know"


def _line(key: str, report: Mapping[str, Any]) -> QualityLine:
    known = _BY_KEY.get(key) or Count(key, key.replace("_", " "))
    value = report[key]
    count, detail = _total(value)
    keys: tuple[str, ...] = (key,)
    if known.breakdown and isinstance(report.get(known.breakdown), dict):
        detail, keys = _by_count(report[known.breakdown]), (key, known.breakdown)
    if known.names_only and isinstance(value, dict):
        detail = "; ".join(sorted((str(name) for name in value), key=in_order))
    if known.by_patient:
        detail = ""
    words = known.words_for(count)
    if key == "lookback_not_reached" and "medication_data_from" in report:
        keys = (key, "medication_data_from")  # a day, no count: shown with the count it dates
        if isinstance(report["medication_data_from"], str):
            words = f"{words} (dated {report['medication_data_from']})"
    text = f"{count} {words}" + (f": {detail}" if count and detail and known.names_only else "")
    text += f" ({detail})" if count and detail and not known.names_only else ""
    if known.by_patient and count:
        text += f" ({BY_PATIENT})"
    if key not in _BY_KEY:
        text += f" — {UNKNOWN_WORDS}"
    measures = _measures_counted(known, value)
    return QualityLine(
        key,
        keys,
        count,
        text,
        known.kind,
        measures.denominators,
        measures.numerators,
        measures.includes,
        known.unchecked,
    )


def _measures_counted(known: Count, value: Any) -> Measures:
    """The measures a count may change: those its names counted change (`Count.by_name`), else its own."""
    own = Measures(known.denominators, known.numerators, known.includes)
    if not known.by_name or not isinstance(value, dict):
        return own
    by_name = dict(known.by_name)
    counted = [by_name.get(str(name), own) for name, number in value.items() if number]
    return Measures(
        *(_joined([getattr(m, part) for m in counted]) for part in ("denominators", "numerators", "includes"))
    )


def _joined(parts: list[tuple[str, ...]]) -> tuple[str, ...]:
    """Measures named by any of the parts, in their first order (EVERY if any part names every measure)."""
    if EVERY in parts:
        return EVERY
    return tuple(dict.fromkeys(measure for part in parts for measure in part))


def _total(value: Any) -> tuple[int, str]:
    """A count's number, and its breakdown in words: a {name: count} by name, a list of medications by how many."""
    if isinstance(value, dict):
        return sum(v for v in value.values() if isinstance(v, int)), _by_count(value)
    if isinstance(value, list):
        counts = [item.get("count") for item in value if isinstance(item, dict)]
        total = sum(count for count in counts if isinstance(count, int))
        return total, f"{len(value)} distinct"
    return int(value), ""


def _by_count(counts: Mapping[str, Any]) -> str:
    """ "in-progress 3, on-hold 1": the most frequent first, ties by name."""
    items = [(str(name), count) for name, count in counts.items() if isinstance(count, int)]
    return ", ".join(f"{name} {count}" for name, count in sorted(items, key=lambda i: (-i[1], i[0])))
