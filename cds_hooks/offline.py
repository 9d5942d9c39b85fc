"""`painplan check`: answer one CDS Hooks request from a file, exactly as the service would, with no network."""

from __future__ import annotations

import argparse
import json
import sys

from cds_hooks.cards import CHECKS_NOT_RUN, DATA_INCOMPLETE
from cds_hooks.json_input import JsonInputError, read_json_input
from cds_hooks.service import HookResult, run_hook
from cds_hooks.services import SERVICES
from cds_hooks.settings import CdsSettings


def run_check(args: argparse.Namespace, settings: CdsSettings) -> int:
    """Print the response JSON; exit 0 on a complete answer, 3 on one worked out from incomplete data or with checks
    that did not run (named on stderr), 1 on 412 (nothing readable), 2 on bad input."""
    try:
        body = read_json_input(getattr(args, "input", "-"))
    except JsonInputError as error:
        print(f"painplan check: {error}", file=sys.stderr)
        return 2
    if not isinstance(body, dict):
        print("painplan check: the input must be a CDS Hooks request, a JSON object with its hook", file=sys.stderr)
        return 2
    hook = body.get("hook")
    if hook not in SERVICES:
        print(f"painplan check: hook must be one of {', '.join(SERVICES)}", file=sys.stderr)
        return 2
    result = run_hook(hook, body, settings, engine=None, network=False)
    if result.status == 400:
        print(f"painplan check: {result.body['issue'][0]['diagnostics']}", file=sys.stderr)
        return 2
    print(json.dumps(result.body, indent=2, ensure_ascii=False))
    if result.status != 200:
        return 1
    incomplete = _incomplete(result)
    if incomplete:
        print(f"painplan check: the answer was worked out from incomplete data: {incomplete}", file=sys.stderr)
        return 3
    return 0


def _incomplete(result: HookResult) -> str | None:
    """What the answer's own cards say was not read or not run, in one line; None for a complete answer. The cards
    name each item; the exit status is for a script, which reads no card (as `painplan mme` exits 3)."""
    said = []
    if DATA_INCOMPLETE in result.topics:
        count = len(result.gaps)
        said.append(f"{count} item{'s' if count != 1 else ''} named on the data-incomplete card")
    if CHECKS_NOT_RUN in result.topics:
        said.append("checks not run: " + ", ".join(result.not_run))
    return "; ".join(said) or None
