"""`painplan feedback-report`: how often each check's cards are overridden or accepted, and why."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from flask import Flask
from sqlalchemy import Engine, create_engine

from cds_hooks import store
from guideline.config import ConfigError
from smart_app.config import load_settings
from smart_app.db import database_url


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


def run_feedback_report(args: argparse.Namespace) -> int:
    try:
        settings = load_settings(config_file=getattr(args, "config", None))
    except ConfigError as error:
        print(f"painplan feedback-report: {error}", file=sys.stderr)
        return 2
    # The same database the app uses: Flask's instance folder for the app package unless configured.
    instance = Path(Flask("smart_app", instance_path=settings.instance_path or None).instance_path)
    engine = create_engine(database_url(settings, instance))
    store.create_tables(engine)
    rows = report_rows(engine)
    print(json.dumps({"checks": rows}, indent=2) if getattr(args, "json", False) else format_table(rows))
    return 0
