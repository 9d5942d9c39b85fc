"""`painplan feedback-report`: how often each check's cards are overridden or accepted, and why; apart for the cards
issued on incomplete records, whose overrides may say the EHR's data is broken rather than the card, and for those
whose records are not known (stored before PainPlan recorded it)."""

from __future__ import annotations

from sqlalchemy import Engine

from cds_hooks import store
from cds_hooks.notices import NOTICES


def _rate(rate: float | None) -> float | None:
    return None if rate is None else round(rate, 3)


def _tally(tally: store.Tally) -> dict:
    return {
        "issued": tally.issued,
        "overridden": tally.overridden,
        "accepted": tally.accepted,
        "override_rate": _rate(tally.override_rate),
    }


def report_rows(engine: Engine) -> list[dict]:
    """One row per check; `records_incomplete`, `records_complete` and `records_unknown` are None for the notices
    (`NOTICES`), which rest on no data."""
    rows = []
    for stats in store.feedback_stats(engine):
        notice = stats.check_id in NOTICES
        rows.append(
            {
                "check": stats.check_id,
                **_tally(stats.every),
                "records_incomplete": None if notice else _tally(stats.incomplete),
                "records_complete": None if notice else _tally(stats.complete),
                "records_unknown": None if notice else _tally(stats.not_known),
                "top_reasons": [{"code": code, "count": count} for code, count in stats.top_reasons],
            }
        )
    return rows


def _percent(rate: float | None, width: int) -> str:
    """A rate as a percentage; "-" when there were no cards to have one."""
    return f"{'-':>{width}}" if rate is None else f"{rate:>{width}.0%}"


def format_table(rows: list[dict]) -> str:
    header = (
        f"{'check':<24} {'issued':>7} {'overridden':>10} {'accepted':>8} {'rate':>6} "
        f"{'incomplete':>10} {'rate':>6} {'complete rate':>13} {'unknown':>7}  top override reasons"
    )
    lines = [header, "-" * len(header)]
    for row in rows:
        reasons = ", ".join(f"{r['code']} ({r['count']})" for r in row["top_reasons"]) or "-"
        incomplete, complete, unknown = row["records_incomplete"], row["records_complete"], row["records_unknown"]
        if incomplete is None or complete is None or unknown is None:  # a notice: the split does not apply
            split = f"{'n/a':>10} {'n/a':>6} {'n/a':>13} {'n/a':>7}"
        else:
            split = (
                f"{incomplete['issued']:>10} {_percent(incomplete['override_rate'], 6)} "
                f"{_percent(complete['override_rate'], 13)} {unknown['issued']:>7}"
            )
        lines.append(
            f"{row['check']:<24} {row['issued']:>7} {row['overridden']:>10} {row['accepted']:>8} "
            f"{_percent(row['override_rate'], 6)} {split}  {reasons}"
        )
    if not rows:
        lines.append("no cards issued yet")
    else:
        lines.append(
            "incomplete: cards issued when data their finding rests on could not be read (and their override rate); "
            "complete rate: the override rate of the cards issued when all of it was read; unknown: cards whose "
            "records were not recorded (issued before PainPlan recorded them), counted in neither; n/a: PainPlan's "
            "own notices, which rest on no data"
        )
    return "\n".join(lines)
