"""`painplan check` and `painplan feedback-report`: load the settings, then hand the face its part."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from guideline.config import ConfigError
from smart_app.config import Settings, load_settings
from smart_app.settings_rules import check_today


def parse_today(value: str | None) -> date | None:
    """A --today value as a date, or a ConfigError that says what is wrong with it, naming --today (every command)."""
    if value is None:
        return None
    if not value.strip():  # `--today "$DAY"` with DAY unset: read as no date, the run was dated the day it ran
        raise ConfigError("--today is empty: give a date YYYY-MM-DD, or leave --today out")
    try:
        day = date.fromisoformat(value)
    except ValueError as error:
        raise ConfigError(f"--today: {value!r} is not a date YYYY-MM-DD ({error})") from error
    check_today(day, "--today")
    return day


def typed_options(args: argparse.Namespace, names: tuple[str, ...]) -> tuple[dict[str, object], dict[str, str]]:
    """The settings typed as options of their own name (--port for port), and the option each was typed as, which
    its error names. An option typed empty or 0 is typed, and checked: only one left out is not."""
    given = {name: getattr(args, name) for name in names if getattr(args, name, None) is not None}
    return given, {name: "--" + name.replace("_", "-") for name in given}


def command_settings(
    args: argparse.Namespace,
    options: tuple[str, ...] = (),
    *,
    env: Mapping[str, str] | None = None,
    derived: Callable[[Settings], Mapping[str, Any]] | None = None,
    **overrides: object,
) -> Settings:
    """The validated settings a command runs with: its --config (or PAINPLAN_CONFIG), the `options` typed over them,
    its --today (`parse_today`) and `overrides`, checked once (`load_settings`), or a ConfigError naming the bad key
    or option. Every command reads them so."""
    today = parse_today(getattr(args, "today", None))
    if today is not None:
        overrides["today"] = today
    typed, typed_as = typed_options(args, options)
    config_file = getattr(args, "config", None)
    return load_settings(env, config_file, typed_as=typed_as, derived=derived, **typed, **overrides)


def settings_for(
    command: str, args: argparse.Namespace, options: tuple[str, ...] = (), **overrides: object
) -> Settings | None:
    """The validated settings (`command_settings`), or None after printing one line naming the bad key or option
    (the caller exits 2)."""
    try:
        return command_settings(args, options, **overrides)
    except ConfigError as error:
        print(f"painplan {command}: {error}", file=sys.stderr)
        return None


def run_check_command(args: argparse.Namespace) -> int:
    from cds_hooks.offline import run_check

    settings = settings_for("check", args)
    return 2 if settings is None else run_check(args, settings.cds)


def run_feedback_report(args: argparse.Namespace) -> int:
    """Print override rates from the service's database; exit 2 with one line when it cannot be opened."""
    from cds_hooks.report import format_table, report_rows
    from smart_app.db import database_url, instance_folder, make_engine
    from smart_app.migrate import upgrade

    settings = settings_for("feedback-report", args)
    if settings is None:
        return 2
    instance = instance_folder(settings)
    url = database_url(settings, instance)
    if url.startswith("sqlite") and not instance.is_dir():
        print(
            f"painplan feedback-report: the instance folder {instance} does not exist "
            "(set PAINPLAN_INSTANCE_PATH to the folder `painplan serve` uses)",
            file=sys.stderr,
        )
        return 2
    try:
        engine = make_engine(url)  # a URL it cannot use is a ConfigError, never a database error
        # Which database, its password hidden: the error's own text may carry rows, so only its type is said.
        named = engine.url.render_as_string(hide_password=True)
        upgrade(engine)
        rows = report_rows(engine)
    except ConfigError as error:
        print(f"painplan feedback-report: {error}", file=sys.stderr)
        return 2
    except SQLAlchemyError as error:
        print(f"painplan feedback-report: cannot read the database {named} ({type(error).__name__})", file=sys.stderr)
        return 2
    print(json.dumps({"checks": rows}, indent=2) if getattr(args, "json", False) else format_table(rows))
    return 0
