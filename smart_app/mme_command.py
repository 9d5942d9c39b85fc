"""`painplan mme`: MME of every order and fill in a resource, Bundle or CDS Hooks request, and the current total."""

from __future__ import annotations

import argparse
import copy
import json
import sys
from collections.abc import Mapping
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from cds_hooks.errors import RequestError
from cds_hooks.gather import PrefetchGap, pooled_gap, read_prefetch
from cds_hooks.json_input import JsonInputError, read_json_input
from cds_hooks.request import context_id, hook_draft_orders
from cds_hooks.services import templates
from guideline.config import HOOKS, ConfigError, GuidelineConfig
from guideline.context import HookContext
from guideline.dosage import to_one_place
from guideline.facts import Facts
from guideline.fills import FillMme, fill_date, fill_mme
from guideline.later_starts import SHOWN_WITH_DOSE, signed_later_words
from guideline.mme import OrderMme, compute_mme
from guideline.plan.medications import also_sent_as, relayed_as
from guideline.recognition import KIND_TEXT, Recognition, recognise
from guideline.record import MEDICATION_TYPES, MedOrder, PatientRecord, build_record
from guideline.record.pool import UNREADABLE_REASON
from guideline.renewals import RENEWAL_REASONS
from guideline.supply import unbelieved_sent
from guideline.terminology import OPIOID, Terminology, load_terminology

STATUS = {"ok": "converted", "excluded": "excluded", "unknown": "not-convertible"}
# The exit status when the report was printed but an item of the input could not be read (listed under "unread"), as
# the population review exits 3 for a file it could not read; 2 is input that cannot be read at all.
UNREAD_EXIT = 3


class InputError(ValueError):
    """The input cannot be read as a MedicationRequest, a Bundle or a CDS Hooks request."""


def _record(data: Any, tz: ZoneInfo, config: GuidelineConfig) -> tuple[PatientRecord, HookContext]:
    """The record and the hook call it stands for. Drafts first, so a draft beats its prefetch copy with the same id
    (guideline 3.3); a resource or Bundle is judged as the chart stands (patient-view: no new order)."""
    if not isinstance(data, Mapping):
        raise InputError(
            "the input must be a JSON object: a MedicationRequest, a MedicationStatement, a MedicationDispense, a "
            "Bundle or a CDS Hooks request"
        )
    kind = data.get("resourceType")
    if kind is None and ("hook" in data or "context" in data):
        context = data.get("context")
        if not isinstance(context, Mapping):
            raise InputError("the CDS Hooks request has no context object")
        hook = data.get("hook") if data.get("hook") in HOOKS else "order-sign"
        prefetch = data.get("prefetch")
        prefetched = _prefetched(prefetch, templates(hook, config)) if isinstance(prefetch, Mapping) else []
        if prefetch is not None and not isinstance(prefetch, Mapping):  # read as none, the total was the drafts'
            shown = _JSON_KINDS.get(type(prefetch), "value")
            prefetched = [_unread(f"the request's prefetch is not an object (a {shown}), so none of it was read")]
        patient = context.get("patientId")
        try:
            own = context_id(patient, "Patient")  # as the hook reads it
        except RequestError as error:  # the hook's 400: input that cannot be read
            raise InputError(error.message) from None
        if own is None:  # as the hook refuses it: without the patient, the prefetch may be anyone's
            raise InputError(f"context.patientId is required for {hook}")
        server = data.get("fhirServer")  # whose absolute Medication references may be matched by their id
        record = build_record(
            prefetched,
            tz,
            draft_orders=hook_draft_orders(hook, context),  # as the hook reads them: none on patient-view
            patient_id=own,
            fhir_server=server if isinstance(server, str) and server.strip() else None,
        )
        selections = context.get("selections")
        chosen = tuple(s for s in selections if isinstance(s, str)) if isinstance(selections, list) else ()
        return record, HookContext(hook, patient if isinstance(patient, str) else None, selections=chosen)
    if kind in MEDICATION_TYPES or kind == "Bundle":
        return build_record([data], tz), HookContext("patient-view", None)
    shown = f"a {kind} resource" if isinstance(kind, str) else "an object without resourceType"
    raise InputError(
        f"the input is {shown}; expected a MedicationRequest, a MedicationStatement (or MedicationUsage), "
        "a MedicationDispense, a Bundle or a CDS Hooks request"
    )


_JSON_KINDS = {list: "list", str: "text", int: "number", float: "number", bool: "true/false value"}


def _prefetched(prefetch: Mapping[str, Any], asked: Mapping[str, str]) -> list[Any]:
    """The prefetch's resources, as the hook reads them (a list's resources too; null: nothing was asked), and a
    stand-in naming each value the hook, reading nothing more, names as not all there (`asked`: the hook's queries by
    key): no answer to its key, a search with pages not sent, a total above its matches, a warning with no results
    or one that data was withheld. Judged by the hook's own reading (`gather.read_prefetch`) and in the card's words,
    so the command and the card never disagree about what was read."""
    resources: list[Any] = []
    for key, value in prefetch.items():
        if value is None:
            continue
        held, gap = _held(value, asked.get(key), str(key))
        resources += held
        why = gap.named(network=False) if gap is not None else None  # offline: no next page is read either
        if why is not None:
            resources.append(_unread(f"the prefetch's {str(key)[:60]!r}: {why}"))
    return resources


def _held(value: Any, template: str | None, key: str) -> tuple[list[Any], PrefetchGap | None]:
    """The items of one prefetch value the record reads, as sent (their fullUrls with them), and the hook's gap for it,
    from one reading (`gather.read_prefetch`). None is held when the hook takes no resource from it (an
    OperationOutcome, an empty search with a warning, Epic's "no results" answer, a search with an error in it), so its
    key's stand-in names it alone; the record read them as items of their own and named an OperationOutcome a second
    time, as an error. Under a key the hook did not ask for each item of a list is a value of its own, its gaps pooled
    as the hook pools them (`gather.pooled_gap`)."""
    if template is None and type(value) is list:
        readings = [_held(one, None, key) for one in value]
        return [item for held, _ in readings for item in held], pooled_gap(gap for _, gap in readings)
    found, gap = read_prefetch(value, template, None, key)
    if not found:
        return [], gap
    return [item for item in (value if isinstance(value, list) else [value]) if isinstance(item, Mapping)], gap


def _unread(why: str) -> dict[str, Any]:
    """A stand-in the record names as an item not read, with why (as the pool names what it cannot read)."""
    return {"resourceType": None, UNREADABLE_REASON: why}


def _number(value: Decimal | None) -> float | None:
    """Rounded to 0.1 (half up, as the cards round) only here, when printed; a 1-dp decimal survives the trip
    through float."""
    if value is None:
        return None
    return float(to_one_place(value))


def _order_json(
    order_id: str, result: OrderMme, current: bool, recognition: Recognition, words: str | None = None
) -> dict[str, Any]:
    """An opioid order's line; `words` are what the card's line adds after the dose (`_line_words`)."""
    explanation = "; ".join((result.explanation, *((words,) if words else ())))
    return {
        "id": order_id,
        "medication": result.display_name,
        "rxcui": result.rxnorm_code,
        "status": STATUS[result.state],
        "class": recognition.kind,
        "identified_by": recognition.how,
        "mme_per_day": _number(result.mme) if result.state == "ok" else None,
        "current": current,
        "explanation": explanation,
    }


def _relayed_copy_json(order_id: str, result: OrderMme, recognition: Recognition, kept: str) -> dict[str, Any]:
    """The line of an order another server relayed under its own id: the EHR's order `kept`, counted once as it."""
    line = _order_json(order_id, result, False, recognition)
    line["explanation"] += (
        f"; the same order as {kept}, relayed by another server under its own id: counted once, as {kept}"
    )
    line["copy_of"] = kept
    return line


def _not_counted(order_id: str, result: OrderMme, current: bool, recognition: Recognition) -> dict[str, Any]:
    """An order outside the total: not an opioid (its class named), or unidentified (so the total may be short)."""
    if recognition.unidentified:
        status = "unidentified"
        explanation = (
            f"{recognition.display}: could not be identified from its codes or its name; if it is an opioid, "
            "the total leaves it out"
        )
    else:
        status = "not-opioid"
        explanation = (
            f"{result.display_name}: {KIND_TEXT[recognition.kind]}, not an opioid, so not part of the MME total"
        )
    return {
        "id": order_id,
        "medication": recognition.display if recognition.unidentified else result.display_name,
        "rxcui": result.rxnorm_code,
        "status": status,
        "class": recognition.kind,
        "identified_by": recognition.how,
        "mme_per_day": None,
        "current": current,
        "explanation": explanation,
    }


def _fill_json(
    fill_id: str,
    result: FillMme,
    current: bool,
    unidentified: bool = False,
    copy_of: str | None = None,
    sent_as: tuple[str, ...] = (),
) -> dict[str, Any]:
    filled = fill_date(result.dispense)
    line = {
        "id": fill_id,
        "medication": result.display_name,
        "rxcui": result.rxnorm_code,
        "filled": filled.isoformat() if filled else None,
        "status": "unidentified" if unidentified else STATUS[result.state],
        "mme_per_day": _number(result.mme) if result.state == "ok" else None,
        "current": current,
        "explanation": result.explanation,
    }
    if copy_of is not None:  # a fill sent twice is read once (guideline.sent_twice): the copy names the fill read
        line["copy_of"] = copy_of
    if sent_as:  # the fill read once names its copies, as the card and the plan page do (`Facts.fills_read_once`)
        line["explanation"] += f"; {also_sent_as(sent_as)}"
        line["sent_as"] = list(sent_as)
    return line


def _counted(order: MedOrder, result: OrderMme, recognition: Recognition, terms: Terminology) -> bool:
    """An opioid by code or name, or an opioid product read from Medication.ingredient: part of the total."""
    if recognition.is_opioid or terms.medication_in(OPIOID, order.medication):
        return True
    return not recognition.unidentified and result.reason not in ("not-in-drug-table", "medication-unresolved")


def mme_report(data: Any, config: GuidelineConfig, terms: Terminology, today: date | None = None) -> dict[str, Any]:
    """The JSON document of the `painplan mme` contract: every order (and fill) given, with `current` marking what the
    card counts at `today` (noon local time, as `check` and `serve` evaluate), and that total."""
    tz = ZoneInfo(str(config["timezone"]))  # a known zone: the settings are refused otherwise (guideline.config)
    record, context = _record(data, tz, config)
    now = datetime.combine(today, time(12, 0), tzinfo=tz) if today else datetime.now(tz)
    facts = Facts(record, context, config, now, terms=terms)
    # Orders that begin after today, and drafts of a series being signed another of the series stands for, as the
    # card names them beside its total (guideline.later_starts).
    # So are the order and its renewal the card counts once at the larger dose (guideline.renewals): the one left out
    # is not `current` and says why, so the current lines add up to the total here too.
    later = {
        id(r.order): r.reason_text
        for r in facts.mme.orders
        if r.reason in SHOWN_WITH_DOSE or r.reason in RENEWAL_REASONS
    }
    # A later prescription of a series being signed is a draft, current as every draft is, but the card's total holds
    # another of its series: not `current`, so the current lines add up to the total.
    current_orders = {id(o) for o in facts.current_opioids} - later.keys()
    current_fills = {id(s.dispense) for s in facts.current_fills}
    ids = [order.id or f"(order {index})" for index, order in enumerate(record.orders, start=1)]
    recognitions = [recognise(order.medication, terms) for order in record.orders]
    # Unidentified drafts and current orders may be opioids the card's total cannot count.
    current_unidentified = {
        id(o) for o in (*facts.drafts, *facts.active_orders) if recognise(o.medication, terms).unidentified
    }
    probe = compute_mme(record.orders, terms, config)
    counted = [_counted(o, r, k, terms) for o, r, k in zip(record.orders, probe.orders, recognitions, strict=True)]
    # An HIE's copy of the EHR's order under its own id (`Facts.orders_relayed`) is that order read once, as on the
    # card and the plan page: its line names the order it copies, and no total counts it (it made 60 MME a day 120).
    relayed = {id(r.copy): r.kept.id or "(an order without an id)" for r in facts.orders_relayed}
    # Recomputed over the opioid orders alone: the cdc2016 methadone tier is based on their total.
    summary = compute_mme(
        [o for o, keep in zip(record.orders, counted, strict=True) if keep and id(o) not in relayed], terms, config
    )
    results = iter(summary.orders)
    # Current fills whose dose could not be read beside their order's (`fills.fill_unread`): each may imply more than
    # the order the card counts, so the order's line names them and the current total is not complete.
    unread_fills = {id(r.order): r.unread_fills for r in facts.mme.orders if r.unread_fills}
    for r in facts.mme.orders:  # a counted draft that begins after today says when, as on the card
        if id(r.order) not in later and (words := signed_later_words(r, facts.today)) is not None:
            later[id(r.order)] = words
    # What the card's line adds to an order's dose (`OrderMme.words`: a fill that raises it or was not weighed against
    # it, why a renewal is counted once with an order or beside one): these lines are worked out apart from the card's
    # total, so its words are carried over, read from the one field the card and the plan page read.
    card_words = {id(r.order): r.words for r in facts.mme.orders}
    lines = []
    for order, order_id, keep, first, known in zip(
        record.orders, ids, counted, probe.orders, recognitions, strict=True
    ):
        if keep and id(order) in relayed:
            lines.append(_relayed_copy_json(order_id, first, known, relayed[id(order)]))
        elif keep:
            result = next(results)
            line = _order_json(
                order_id,
                result,
                id(order) in current_orders,
                known,
                _line_words(card_words.get(id(order), ()), later.get(id(order))),
            )
            if copies := facts.relayed_copies((order.located,)):
                line["explanation"] += f"; {relayed_as(facts, order)}"
                line["relayed_as"] = copies
            if (supply := facts.supply(order)).unheld:  # why `current` reads it as of unknown supply
                unbelieved = unbelieved_sent(supply, result.reason)  # less what its MME's reason said already
                line["explanation"] += f"; {unbelieved}, so its supply was not counted"
            lines.append(line)
        else:
            lines.append(_not_counted(order_id, first, id(order) in current_unidentified, known))
    # Every item of the input the record could not read (an unreadable resource, a batch answer that failed, one
    # left out as another patient's), as the card names it: any of them may be an order the totals leave out.
    unread = [{"item": problem.describe(), "why": problem.reason} for problem in record.problems]
    report: dict[str, Any] = {
        "profile": config.profile,
        "total_mme": _number(summary.total),
        "complete": not summary.unknown_orders and not any(k.unidentified for k in recognitions) and not unread,
        "current_total_mme": _number(facts.mme.total),
        # Unknown orders or fills with nothing converted leave the state "none", not "partial": still incomplete.
        "current_complete": not facts.mme.unknown_orders
        and not facts.mme.unknown_fills
        and not unread_fills
        and not current_unidentified
        and not facts.unidentified_fills
        and not _opioid_fills_ahead(facts, terms)
        and not unread,
        "orders": lines,
    }
    if unread:  # present only when something was not read, as "dispenses" only when there are fills to list
        report["unread"] = unread
    # Opioid fills, and fills nobody could identify (they may be opioids the total leaves out).
    unidentified = {id(d) for d in record.dispenses if recognise(d.medication, terms).unidentified}
    current_fills |= {id(s.dispense) for s in facts.unidentified_fills}
    listed = [d for d in record.dispenses if id(d) in unidentified or facts.is_in(OPIOID, d)]
    copies = {id(sent.copy): sent.kept.id or "(a fill without an id)" for sent in facts.fills_sent_twice}
    # Every copy of a fill read once, those relayed unchanged under its id too (dropped when the record was pooled,
    # so no line of their own): named on the fill's line. Found by the fill's id() (the record's own fill), else by
    # where it is located (a fill `Facts` renamed, its order an HIE's copy read once as the EHR's).
    read_once = facts.fills_read_once.values()
    sent_as = {id(kept): names for kept, names in read_once}
    located = {kept.located: names for kept, names in read_once if kept.located}
    if listed:
        report["dispenses"] = [
            _fill_json(
                d.id or f"(dispense {index})",
                fill_mme(d, terms, config),
                id(d) in current_fills,
                id(d) in unidentified,
                copies.get(id(d)),
                sent_as.get(id(d)) or (located.get(d.located, ()) if d.located else ()),
            )
            for index, d in enumerate(listed, start=1)
        ]
    return report


def _line_words(card_words: tuple[str, ...], when: str | None) -> str | None:
    """What an order's line says after its dose: the card's words, then when it begins unless they say it already."""
    said = "; ".join(card_words)
    if said and when and when in said:
        return said
    return "; ".join(part for part in (said, when) if part) or None


def _opioid_fills_ahead(facts: Facts, terms: Terminology) -> bool:
    """A fill dated after today of an opioid, or of a medication nobody identified: the card's total leaves it out
    (`Facts.future_fills`), so the total may be short."""
    return any(facts.is_in(OPIOID, d) or recognise(d.medication, terms).unidentified for d in facts.future_fills)


def _guideline_config(args: argparse.Namespace) -> tuple[GuidelineConfig, date | None]:
    """The configured guideline settings (with --profile applied) and the evaluation date: --today, else the pinned
    one, if any. --today is read and checked as every command reads it (what is current depends on the day)."""
    from smart_app.commands import command_settings

    settings = command_settings(args)
    profile = getattr(args, "profile", None)
    base = settings.guideline
    if profile is None:
        return base, settings.today
    raw = copy.deepcopy(dict(base.raw))
    raw["mme"]["profile"] = profile
    return GuidelineConfig.from_mapping(raw), settings.today


def run_mme(args: argparse.Namespace, stdin: TextIO | None = None, stdout: TextIO | None = None) -> int:
    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    try:
        config, day = _guideline_config(args)
        data = read_json_input(getattr(args, "input", "-"), stdin)
        report = mme_report(data, config, load_terminology(config), day)
    except (InputError, JsonInputError, ConfigError) as error:
        print(f"painplan mme: {error}", file=sys.stderr)
        return 2
    json.dump(report, stdout, indent=2, ensure_ascii=False)
    stdout.write("\n")
    if report.get("unread"):  # the report stands, but not for the whole input: said on stderr and in the exit status
        count = len(report["unread"])
        print(
            f'painplan mme: {_items(count)} in the input {"was" if count == 1 else "were"} not read (see "unread")',
            file=sys.stderr,
        )
        return UNREAD_EXIT
    return 0


def _items(count: int) -> str:
    return f"{count} item" if count == 1 else f"{count} items"
