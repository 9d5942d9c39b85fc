"""`painplan feedback-report`: how often each check's cards are overridden or accepted, and why."""

from __future__ import annotations

from sqlalchemy import Engine

from cds_hooks import store


def report_rows(engine: Engine) -> list[dict]:
    return [
        {
            "check": stats.check_id,
            "issued": stats.issued,
            "overridden": stats.overridden,
            "accepted": stats.accepted,
            "override_rate": round(stats.override_rate, 3),
            "top_reasons": [{"code": code, "count": count} for code, count in stats.top_reasons],
        }
        for stats in store.feedback_stats(engine)
    ]


def format_table(rows: list[dict]) -> str:
    header = f"{'check':<24} {'issued':>7} {'overridden':>10} {'accepted':>8} {'rate':>6}  top override reasons"
    lines = [header, "-" * len(header)]
    for row in rows:
        reasons = ", ".join(f"{r['code']} ({r['count']})" for r in row["top_reasons"]) or "-"
        lines.append(
            f"{row['check']:<24} {row['issued']:>7} {row['overridden']:>10} {row['accepted']:>8} "
            f"{row['override_rate']:>6.0%}  {reasons}"
        )
    if not rows:
        lines.append("no cards issued yet")
    return "\n".join(lines)
