"""Which results of urine drug test reports a FHIR client reads one by one, and why each one not read was not."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from guideline.fhirdata import (
    as_dict,
    as_list,
    code_text,
    concept,
    is_absolute_url,
    path_on_server,
    reference,
    text,
    unversioned,
)
from guideline.record import result_id, unresolved_references
from guideline.record.pool import absolute_on_source
from guideline.record.readers import result_key
from guideline.terminology import Terminology
from guideline.uds import NO_RESULT_STATUSES, is_drug_test_code

# Reads per hook call or plan page, newest report first and whole reports only. A reference lab's pain management
# panel files 10 to 15 results, so 40 covers the three or four newest reports of the year the checks judge; each read
# is one small resource (a few KB of the call's memory budget), and 40 reads take four rounds of the client's 12
# parallel requests, which still fits the hook's time budget after the searches. The Medication reads' cap is 40 too.
RESULT_READ_CAP = 40

# Only plain reads of an Observation by FHIR id (Epic's run past 64 characters): a reference is EHR data, and
# "Observation/../x" would otherwise send the bearer token somewhere other than an Observation.
OBSERVATION_READ = re.compile(r"Observation/[A-Za-z0-9.\-]{1,256}")

# The results not read, as the data-incomplete card and the plan page name them (the page's label with a capital):
# "results of urine drug test reports: 2 not read; why" (`not_read_words`), one wording for both faces.
REPORT_RESULTS = "results of urine drug test reports"

OTHER_SERVER = "they are on another FHIR server, which PainPlan does not read"
NOT_AN_ID = "they are named by references that are no Observation ids PainPlan can read"
NO_OBSERVATION = "the FHIR server answered with no Observation"


def over_cap(cap: int) -> str:
    """Why the results of a report the cap left out were not read."""
    return f"not read, more than {cap} report results to read at once (the newest reports are read first)"


def read_failed(error: str) -> str:
    """Why the results of a report whose read failed (HTTP 404 or 401, timed out, the memory budget) are missing."""
    return f"reading them from the FHIR server failed ({error})"


@dataclass(frozen=True)
class ResultReads:
    """What to read: `reads` as `Observation/<id>`, newest report first; `not_read` each result left unread (by the
    id the record knows it by) and why; `capped` how many of those the cap left."""

    reads: tuple[str, ...] = ()
    not_read: tuple[tuple[str, str], ...] = ()
    capped: int = 0


def plan_result_reads(payloads: Iterable[Any], terms: Terminology, server: str) -> ResultReads:
    """The results that urine drug test reports among the payloads name and no payload holds (a lab's own codes,
    or no laboratory category, kept them out of the Observation searches): those on `server` to read, up to
    RESULT_READ_CAP, whole reports newest first; the others named with why. Other reports' results are never read."""
    reports: list[Mapping[str, Any]] = []

    def results_of(report: Mapping[str, Any]) -> list[Any]:
        if not _may_have_results(report, terms):
            return []
        reports.append(report)
        return as_list(report.get("result"))

    missing = set(unresolved_references(payloads, "Observation", ("DiagnosticReport",), results_of, server))
    if not missing:
        return ResultReads()
    reads: dict[str, None] = {}
    not_read: list[tuple[str, str]] = []
    capped = 0
    for report in sorted(reports, key=_report_day, reverse=True):
        readable = _on_server(report, missing, server, not_read)
        fresh = [path for path in readable if path not in reads]  # a result two reports name is read once
        if len(reads) + len(fresh) > RESULT_READ_CAP:
            not_read.extend((result_id(path), over_cap(RESULT_READ_CAP)) for path in fresh)
            capped += len(fresh)
            continue
        reads.update(dict.fromkeys(fresh))
    return ResultReads(tuple(reads), tuple(not_read), capped)


def _on_server(report: Mapping[str, Any], missing: set[str], server: str, not_read: list[tuple[str, str]]) -> list:
    """The `Observation/<id>` reads of a report's missing results on `server`; the others go to `not_read` (a
    relative one in another server's report is on that server: `absolute_on_source`, as `missing` names it)."""
    readable = []
    for written in dict.fromkeys(filter(None, map(reference, as_list(report.get("result"))))):
        ref = absolute_on_source(written, report)
        if ref in missing:
            path, why = _server_read(ref, server)
            if path is None:
                not_read.append((result_key(written, report, server), why))  # as the record keys it
            else:
                readable.append(path)
    return readable


def _may_have_results(report: Mapping[str, Any], terms: Terminology) -> bool:
    """A urine drug test report whose status does not say there is no result (as `unread_drug_test_reports`
    reads one)."""
    return code_text(report.get("status")) not in NO_RESULT_STATUSES and is_drug_test_code(
        concept(report.get("code")), terms
    )


def _report_day(report: Mapping[str, Any]) -> str:
    """The report's day as written (specimen taken, else issued), for newest first; undated ones sort last."""
    period = as_dict(report.get("effectivePeriod"))
    for value in (report.get("effectiveDateTime"), period.get("start"), period.get("end"), report.get("issued")):
        written = text(value)
        if written:
            return written[:10]
    return ""


def _server_read(ref: str, server: str) -> tuple[str | None, str]:
    """`Observation/<id>` to read for a relative reference or an absolute one on `server` (the same rule as a
    Medication's: `path_on_server`); else None and why not."""
    if is_absolute_url(ref):
        path = path_on_server(ref, server)
        if path is None:
            return None, OTHER_SERVER  # the bearer token is for the EHR's own server only
        ref = path
    ref = "/".join(unversioned(ref.split("/")))  # a versioned reference: its result, read as its current version
    if OBSERVATION_READ.fullmatch(ref) and ref.split("/", 1)[1] not in (".", ".."):
        return ref, ""
    return None, NOT_AN_ID


def none_read(plan: ResultReads, why: str) -> tuple[tuple[str, str], ...]:
    """Each result of `plan` when none can be read (no FHIR server, the offline check): those it would read and those
    the cap left named with `why`; the others keep their own (on another server, no Observation id)."""
    capped = over_cap(RESULT_READ_CAP)
    sought = tuple((result_id(path), why) for path in plan.reads)
    return sought + tuple((ref, why if said == capped else said) for ref, said in plan.not_read)


def read_outcome(path: str, resources: Sequence[Mapping[str, Any]], error: str | None) -> tuple[list[Any], list]:
    """What one read of `path` gave: its Observations, and (result id, why) when none came."""
    found = [r for r in resources if r.get("resourceType") == "Observation"]
    if error is not None:
        return found, [(result_id(path), read_failed(error))]
    return found, ([] if found else [(result_id(path), NO_OBSERVATION)])


def each_result(not_received: Iterable[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    """Each result not received once, by its id, with the last why given for it."""
    return tuple(dict(not_received).items())


def reasons(not_received: Iterable[tuple[str, str]]) -> str:
    """The distinct whys of the results not received, in the order first given."""
    return "; ".join(dict.fromkeys(why for _, why in not_received))


def not_read_words(not_received: Sequence[tuple[str, str]]) -> str:
    """What the faces say after REPORT_RESULTS of the results not received: "2 not read; why; why" (each result
    counted once, each why said once)."""
    return f"{len(each_result(not_received))} not read; {reasons(not_received)}"
