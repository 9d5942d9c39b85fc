"""`painplan check`: answer one CDS Hooks request from a file, exactly as the service would, with no network."""

from __future__ import annotations

import argparse
import json
import sys

from cds_hooks.json_input import JsonInputError, read_json_input
from cds_hooks.service import run_hook
from cds_hooks.services import SERVICES
from cds_hooks.settings import CdsSettings


def run_check(args: argparse.Namespace, settings: CdsSettings) -> int:
    """Print the response JSON; exit 0 on 200, 1 on 412 (nothing readable), 2 on bad input."""
    try:
        body = read_json_input(getattr(args, "input", "-") or "-")
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
    return 0 if result.status == 200 else 1
