"""Memory one order-sign call costs when the EHR's FHIR server answers every query with huge pages.

Each FHIR search answers pages of PAGE_MB of real-looking MedicationRequests, each page linking to a next one (the
page cap stops the paging), so every query of the call reads as much as the server will send. The call runs in a
fresh process; the figure is the growth of its peak resident memory (ru_maxrss) across the one call, next to the
total bytes the FHIR server sent. Run: .venv/bin/python bench/fhir_memory.py [--page-mb 4] [--budget-mb 16]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FHIR = "https://ehr.bench/fhir"


def huge_page(megabytes: float, next_url: str) -> bytes:
    order = {
        "resourceType": "MedicationRequest",
        "status": "active",
        "intent": "order",
        "subject": {"reference": "Patient/bench"},
        "authoredOn": "2026-05-01",
        "medicationCodeableConcept": {
            "coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "1049621"}],
            "text": "oxycodone hydrochloride 5 MG Oral Tablet",
        },
        "dosageInstruction": [{"text": "1 tablet every 6 hours as needed", "timing": {"repeat": {"frequency": 1}}}],
    }
    one = len(json.dumps({"resource": order})) + 20
    count = int(megabytes * 1024 * 1024 / one)
    entries = [{"resource": {**order, "id": f"m{n}"}} for n in range(count)]
    bundle = {
        "resourceType": "Bundle",
        "type": "searchset",
        "link": [{"relation": "next", "url": next_url}],
        "entry": entries,
    }
    return json.dumps(bundle).encode()


def one_call(page_mb: float, budget_mb: float) -> dict:
    import re

    import responses

    sys.path.insert(0, str(ROOT / "tests"))
    from cds_support import hook_request, oxycodone_draft

    from cds_hooks.service import run_hook
    from smart_app.config import load_settings

    page = huge_page(page_mb, FHIR + "/MedicationRequest?page=next")
    sent = {"bytes": 0}

    def answer(_request):
        sent["bytes"] += len(page)
        return 200, {"Content-Type": "application/fhir+json"}, page

    settings = load_settings(env={}, today="2026-06-15", fhir_budget_bytes=int(budget_mb * 1024 * 1024))
    body = hook_request(drafts=[oxycodone_draft()], prefetch={}, fhir=True)
    body["fhirServer"] = FHIR
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add_callback(responses.GET, re.compile(re.escape(FHIR) + ".*"), callback=answer)
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        result = run_hook("order-sign", body, settings.cds.__class__(**{**settings.cds.__dict__, "fhir_timeout": 60}))
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "status": result.status,
        "peak_growth_mb": round((after - before) / 1024, 1),
        "fhir_sent_mb": round(sent["bytes"] / 1024 / 1024, 1),
        "gaps": list(result.gaps)[:3],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--page-mb", type=float, default=4.0)
    parser.add_argument("--budget-mb", type=float, default=16.0)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(one_call(args.page_mb, args.budget_mb)))
        return
    command = [sys.executable, __file__, "--child", "--page-mb", str(args.page_mb), "--budget-mb", str(args.budget_mb)]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [os.environ.get("PYTHONPATH"), str(ROOT)]))}
    figures = json.loads(subprocess.run(command, env=env, capture_output=True, text=True, check=True).stdout)
    print(
        f"one order-sign call, every FHIR query answered with {args.page_mb:g} MB pages (budget {args.budget_mb:g} MB)"
    )
    print(f"  FHIR server offered     {figures['fhir_sent_mb']:>8} MB")
    print(f"  peak memory growth      {figures['peak_growth_mb']:>8} MB")
    print(f"  status {figures['status']}, data-incomplete names: {', '.join(figures['gaps']) or '-'}")


if __name__ == "__main__":
    main()
