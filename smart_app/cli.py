"""The `painplan` command: demo, serve, check, mme, population, feedback-report."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="painplan", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    demo = commands.add_parser("demo", help="run the whole app with an EHR simulator on embedded demo data")
    demo.add_argument("--host", default=None)
    demo.add_argument("--port", type=int, default=None)
    demo.add_argument("--today", default=None, help="evaluation date YYYY-MM-DD (default: today)")
    demo.add_argument("--reset", action="store_true", help="forget dismissed cards and feedback from earlier demos")

    serve = commands.add_parser("serve", help="run the service (waitress worker processes)")
    serve.add_argument("--host", default=None)
    serve.add_argument("--port", type=int, default=None)
    serve.add_argument("--workers", type=int, default=None)
    serve.add_argument("--config", default=None, help="TOML configuration file")
    serve.add_argument("--today", default=None, help="pin the evaluation date YYYY-MM-DD (tests, training)")

    check = commands.add_parser("check", help="evaluate a CDS Hooks request offline and print the response")
    check.add_argument("input", nargs="?", default="-", help="path or - for stdin")
    check.add_argument("--today", default=None)
    check.add_argument("--config", default=None)

    mme = commands.add_parser("mme", help="compute MME for MedicationRequests, a Bundle or a CDS Hooks request")
    mme.add_argument("input", nargs="?", default="-", help="path or - for stdin")
    mme.add_argument(
        "--profile", choices=["cdc2022", "cdc2016"], default=None, help="default: the configured mme.profile"
    )
    mme.add_argument("--today", default=None)
    mme.add_argument("--config", default=None, help="TOML configuration file (default: PAINPLAN_CONFIG)")

    population = commands.add_parser("population", help="population review of a Bulk FHIR export (PQA measures)")
    from smart_app.population.command import add_arguments

    add_arguments(population)

    report = commands.add_parser("feedback-report", help="print card override rates per check")
    report.add_argument("--config", default=None)
    report.add_argument("--json", action="store_true", help="print JSON instead of a table")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; a bad setting anywhere ends it with one line naming the key, and exit status 2."""
    from guideline.config import ConfigError

    args = build_parser().parse_args(argv)
    try:
        return _run(args)
    except ConfigError as error:
        print(f"painplan {args.command}: {error}", file=sys.stderr)
        return 2


def _run(args: argparse.Namespace) -> int:
    if args.command == "mme":
        from smart_app.mme_command import run_mme

        return run_mme(args)
    if args.command == "check":
        from smart_app.commands import run_check_command

        return run_check_command(args)
    if args.command == "serve":
        from smart_app.server import run_serve

        return run_serve(args)
    if args.command == "demo":
        from smart_app.demo_command import run_demo

        return run_demo(args)
    if args.command == "population":
        from smart_app.population.command import run_population

        return run_population(args)
    if args.command == "feedback-report":
        from smart_app.commands import run_feedback_report

        return run_feedback_report(args)
    return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
