"""`pdmp-review` (guideline 10.9, CDC 2022 Recommendation 9): prescription monitoring data not reviewed recently."""

from __future__ import annotations

from datetime import date
from typing import Any

from guideline.cards import Card, Link, Suggestion
from guideline.checks.common import (
    addressed_to_context,
    based_on,
    bullet_list,
    dated_after_today,
    first_fitting,
    guideline_link,
    named_not_counted,
    override_reasons,
    unread_of,
)
from guideline.clinical import (
    UNSTATED_STATUSES,
    dated_after,
    dated_ahead,
    last_performed,
    unstated_in_window,
)
from guideline.config import CheckSettings
from guideline.data_absent import ABSENT_NOT_PERFORMED, absent_words
from guideline.facts import Facts
from guideline.fhirdata import SNOMED
from guideline.record import MedOrder, Observation, Procedure
from guideline.terminology import BENZO, PDMP_REVIEW
from guideline.timeutil import local_date
from guideline.unread_data import PDMP_REVIEWS, PROCEDURES, Source
from guideline.words import and_list

CHECK_ID = "pdmp-review"
# The hooks this check can judge: it is about a new order, so patient-view has nothing for it to judge.
HOOKS = frozenset({"order-select", "order-sign"})
TITLE = "PDMP not reviewed recently"

# A review is documented as a finding or flowsheet row, or as a procedure.
REVIEWS_READ = (PDMP_REVIEWS, PROCEDURES)
REVIEWED_OBSERVATION_STATUSES = frozenset({"final", "amended", "corrected"})
# A review row or finding answered "no": SNOMED's No, and No in the v2 yes/no tables.
_NO_CODES = frozenset(
    {
        (SNOMED, "373067005"),
        ("http://terminology.hl7.org/CodeSystem/v2-0136", "N"),
        ("http://terminology.hl7.org/CodeSystem/v2-0532", "N"),
        # ...under their STU3/DSTU2 names, as older interfaces still send them
        ("http://hl7.org/fhir/v2/0136", "N"),
        ("http://hl7.org/fhir/v2/0532", "N"),
    }
)
_NO_WORDS = frozenset({"no", "n", "false", "not reviewed", "not done", "declined", "n/a", "na"})
# "No concerns" is an answer to what the review found, so only these openings say it was not done.
_NO_OPENINGS = ("not ", "unable", "could not", "did not", "no,", "no -", "no:", "no;")
REVIEW_CODING = {
    "system": "http://snomed.info/sct",
    "code": "461621000124108",
    "display": "Review of prescription drug monitoring program record (procedure)",
}


def evaluate(facts: Facts, settings: CheckSettings) -> Card | None:
    """Fires on any new opioid order (optionally a benzodiazepine too) when no PDMP review is documented in the
    last 90 days: a review Procedure or Observation (either code on either resource) or a "PDMP reviewed" override."""
    triggers = _triggers(facts, bool(settings["include_benzodiazepines"]))
    if not triggers:
        return None
    lookback = int(settings["lookback_days"])
    last = last_review(facts)
    if last is not None and facts.within_days(last, lookback):
        return None

    pdmp = facts.config["pdmp"]
    names = [facts.name(o) for o in triggers]
    unread = facts.not_read(*REVIEWS_READ)
    summary = _summary(last, lookback, pdmp["label"], unread.any)
    finding = (
        f"The last documented PDMP review{unread.where} was on {last}, more than {lookback} days ago."
        if last
        else f"No PDMP review is documented in this record (none{unread.where} in the last {lookback} days)."
    )
    ahead = dated_after_today("A PDMP review", (day for _, day in future_reviews(facts)))
    if ahead:
        finding += f" {ahead}"
    detail = "\n\n".join(
        part
        for part in (
            finding,
            unread.paragraph(f"a PDMP review of the last {lookback} days"),
            "**New order" + ("s" if len(names) > 1 else "") + ":**\n" + bullet_list(names),
            "The state prescription monitoring data show controlled-substance prescriptions from other "
            "prescribers and pharmacies, a high combined opioid dose, and dangerous combinations such as "
            "opioids with benzodiazepines, which this record may not contain.",
            f"**Options:** review {pdmp['label']} before signing, discuss anything unexpected with the patient, "
            "and document the review.",
            pdmp.get("rule") or "",
            _basis(facts, lookback),
        )
        if part
    )
    return Card(
        check_id=CHECK_ID,
        indicator=settings["indicator"],
        summary=summary,
        detail=detail,
        suggestions=_documentation(facts) if settings["suggest_documentation"] else (),
        links=_links(facts),
        override_reasons=override_reasons(
            facts.config, "pdmp-reviewed", "pdmp-unavailable", "excluded-condition", "wrong-clinician"
        ),
        view="plan",
        orders=tuple(o.id for o in triggers if o.id),
        facts={
            "last_review": last.isoformat() if last else None,
            "lookback_days": lookback,
            "not_read": list(unread.kinds),
        },
    )


def _basis(facts: Facts, lookback: int) -> str:
    """The card's "Based on" line: the reviews in this record as far as they were read (`Unread.basis`), and those
    recorded in PainPlan, which it always reads."""
    record = facts.record
    sources = (
        Source(
            "PDMP review procedures and findings in this record",
            (PROCEDURES, PDMP_REVIEWS),
            bool(record.procedures or record.observations),
            "the PDMP review procedures and findings read in this record",
        ),
        Source("PDMP reviews recorded in PainPlan"),
    )
    named, gaps = unread_of(facts, sources).basis(sources)
    return based_on(f"{and_list(named)} in the last {lookback} days{gaps}.")


def _summary(last: date | None, lookback: int, label: str, unread: bool = False) -> str:
    gap = f"No PDMP review in the last {lookback} days (last: {last})" if last else "No PDMP review on record"
    return first_fitting(
        f"{gap}; check {label} before prescribing", f"{gap}; check the PDMP before prescribing", unread=unread
    )


def review_asked(facts: Facts) -> bool:
    """Whether an order on this call asks for a PDMP review: an opioid, or a benzodiazepine where the site asks."""
    return bool(_triggers(facts, bool(facts.config.check(CHECK_ID)["include_benzodiazepines"])))


def _triggers(facts: Facts, include_benzodiazepines: bool) -> tuple[MedOrder, ...]:
    """Every new opioid order, of any duration and including buprenorphine treatment; benzodiazepines if asked."""
    if not include_benzodiazepines:
        return facts.trigger_orders
    benzos = tuple(o for o in facts.new_drafts if facts.is_in(BENZO, o) and o not in facts.trigger_orders)
    return (*facts.trigger_orders, *benzos)


def _observation_date(observation: Observation) -> date | None:
    """The day of the review: the date a row answers with ("PDMP last reviewed: 2026-01-10"), else when it was
    charted, effective[x] or else `issued` (a row sent with only the time it was filed was otherwise no review, and
    the card asked for one already done). Dated by its charting, a review months old charted today hid the card."""
    return local_date(observation.value_datetime or observation.result_time)


def answered_no(observation: Observation) -> bool:
    """A review row or finding whose answer says the review was not done ("No", "Not reviewed", "Unable to access
    the PDMP", SNOMED's No, valueBoolean false), or that gives no answer but a reason it is absent saying none was
    done (`ABSENT_NOT_PERFORMED`: not performed, not asked, asked but declined): sites chart a yes/no flowsheet row,
    and its "No" is no review. One absent for another reason is no answer at all (`_answer_absent`)."""
    if observation.value_boolean is False:
        return True
    if _answer_absent(observation):
        return observation.data_absent_reason in ABSENT_NOT_PERFORMED
    answers = [observation.value_string]
    value = observation.value_concept
    if value is not None:
        if any((coding.system, coding.code) in _NO_CODES for coding in value.codings):
            return True
        answers.extend([value.text, *(coding.display for coding in value.codings)])
    for answer in answers:
        words = (answer or "").strip().lower().rstrip(".")
        if words in _NO_WORDS or words.startswith(_NO_OPENINGS):
            return True
    return False


def _answer_absent(observation: Observation) -> bool:
    """Whether a review row gives no answer but a reason it is absent (FHIR's dataAbsentReason)."""
    return observation.data_absent and _no_value(observation)


def _no_value(observation: Observation) -> bool:
    return (
        observation.value_string is None
        and observation.value_concept is None
        and observation.value_quantity is None
        and observation.value_boolean is None
        and observation.value_datetime is None
    )


def last_review(facts: Facts) -> date | None:
    """The latest documented review: either code on a Procedure or an Observation (real data mixes them), or a
    clinician's "PDMP reviewed" override recorded by PainPlan. Worked out once a call: the card and the unread
    reviews the data-incomplete card names both ask."""
    return facts.once(_last_review_of)


def _last_review_of(facts: Facts) -> date | None:
    dates: list[date] = []
    for procedure in facts.procedures_in(PDMP_REVIEW, completed_only=True):
        # A Period still open today was started on its earlier date: that date is the review.
        performed = last_performed(procedure, facts.today)
        if performed is not None:
            dates.append(performed)
    dates.extend(day for _, day in _review_rows(facts) if day <= facts.today)
    for snooze in facts.snoozes:
        # Feedback stores its timestamps in UTC: the review happened on the local calendar day.
        set_on = facts.local_day(snooze.set_at)
        if (
            snooze.check_id == CHECK_ID
            and snooze.reason == "pdmp-reviewed"
            and snooze.patient_id == facts.context.patient_id
            and set_on is not None
            and set_on <= facts.today
        ):
            dates.append(set_on)
    return max(dates) if dates else None


def future_reviews(facts: Facts) -> tuple[tuple[Procedure | Observation, date], ...]:
    """The reviews `last_review` would count but for a date after today (a mistyped year, a row answered with a
    date ahead), each with that date: no review done yet, so named rather than counted."""
    found: list[tuple[Procedure | Observation, date]] = []
    for procedure in facts.procedures_in(PDMP_REVIEW, completed_only=True):
        ahead = dated_after(procedure, facts.today)
        if ahead is not None:
            found.append((procedure, ahead))
    found.extend((row, day) for row, day in _review_rows(facts) if day > facts.today)
    return tuple(found)


def unread_reviews(facts: Facts) -> tuple[str, ...]:
    """The PDMP reviews on record that `last_review` could not count, each named with why, when no counted review
    lies in the check's window (beside one, they could change nothing): a review row or finding saying a review was
    done whose date cannot be read ("2026-02-30") or whose status is unknown or unreadable (a list), and a review
    Procedure of such a status. Dropped unseen, the card and the tile said "no PDMP review" of a chart holding one."""
    lookback = int(facts.config.check(CHECK_ID)["lookback_days"])
    last = last_review(facts)
    if last is not None and facts.within_days(last, lookback):
        return ()
    named = []
    procedures = (p for p in facts.record.procedures if facts.terms.contains(PDMP_REVIEW, p.code))
    for procedure, why in unstated_in_window(procedures, lookback, facts.today):
        named.append(named_not_counted(procedure, "procedure", why, "PDMP review"))
    for row in facts.observations_in(PDMP_REVIEW):
        unread = _unread_row(row, lookback, facts)
        if unread is not None:
            named.append(named_not_counted(row, "observation", unread, "PDMP review"))
    return tuple(dict.fromkeys(named))


def _unread_row(row: Observation, lookback: int, facts: Facts) -> str | None:
    """Why a review row that does not answer "No" was not counted, where that could matter, else None: each fact that
    kept it from counting ("status unknown", its answer absent and why), then its date where that matters too ("no
    date", "dated 2026-07-01, after today")."""
    unstated = row.status in UNSTATED_STATUSES
    if not unstated and row.status not in REVIEWED_OBSERVATION_STATUSES:
        return None  # preliminary, cancelled, entered in error: a status PainPlan reads, and not a review done
    if answered_no(row):
        return None
    why = _not_counted_for(row, unstated)
    day = _observation_date(row)
    if day is None:
        return f"{why}, no date" if why else "no date"
    if not why:
        return None  # counted, or dated after today and named by `future_reviews`
    if day > facts.today:
        # No review done yet whatever it says: outside the window, it was dropped unseen.
        return f"{why}, {dated_ahead(day)}"
    return why if facts.within_days(day, lookback) else None


def _not_counted_for(row: Observation, unstated: bool) -> str:
    """ "status unknown", why its answer is absent ("value temporarily unknown"), or both; "" for a row that answers
    and whose status PainPlan reads."""
    # Its answer still to come ("temp-unknown"), lost ("error") or not read ("masked"): no review to count, and no
    # "No" either. Read as "No", it was dropped unseen beside the card saying no review is documented. Both facts are
    # said: the line named only the absent answer of a row whose status was unknown too.
    absent = absent_words(row.data_absent_reason) if _answer_absent(row) else None
    return ", ".join(fact for fact in ("status unknown" if unstated else None, absent) if fact)


def _review_rows(facts: Facts) -> tuple[tuple[Observation, date], ...]:
    """The review rows and findings that say a review was done (final or corrected, answered and not "No"), each with
    its day: `last_review` counts those up to today, `future_reviews` names those after it (once a call)."""
    return facts.once(_review_rows_of)


def _review_rows_of(facts: Facts) -> tuple[tuple[Observation, date], ...]:
    rows = []
    for observation in facts.observations_in(PDMP_REVIEW):
        answered = not _answer_absent(observation) and not answered_no(observation)
        if observation.status in REVIEWED_OBSERVATION_STATUSES and answered:
            day = _observation_date(observation)
            if day is not None:
                rows.append((observation, day))
    return tuple(rows)


def _links(facts: Facts) -> tuple[Link, ...]:
    pdmp = facts.config["pdmp"]
    links = [Link(label=pdmp["label"], url=pdmp["url"])]
    if pdmp.get("smart_url"):
        links.append(Link(label=f"Open {pdmp['label']} in the EHR", url=pdmp["smart_url"], type="smart"))
    links.append(guideline_link(facts.config, "rec9", "CDC 2022 Recommendation 9"))
    return tuple(links)


def _documentation(facts: Facts) -> tuple[Suggestion, ...]:
    """An optional "Document PDMP review" that records a completed review Procedure (off by default)."""
    resource: dict[str, Any] = {
        "resourceType": "Procedure",
        "status": "completed",
        "code": {"coding": [dict(REVIEW_CODING)], "text": "PDMP review"},
        "performedDateTime": facts.now.isoformat(),
        **addressed_to_context(facts, "Procedure"),
    }
    return (
        Suggestion(
            label="Document PDMP review",
            action="create",
            description="Record that the PDMP was reviewed for this prescription.",
            is_recommended=False,
            resource=resource,
        ),
    )
