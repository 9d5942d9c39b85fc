"""A fake EHR FHIR server holding one demo chart that accepts writes and records what it received.

Registers on a `responses` mock next to launch_support.FakeEhr (same iss): GET reads and patient searches answer
from the chart plus what was written; POST creates and PUT updates store the body with a new meta.versionId, or
answer `fail_status`; a PUT whose If-Match is not the stored version is refused with 412, as a FHIR server does.

    chart = ChartServer(rsps, ehr, "walter-brooks")
    ... chart.received  # [(method, path, body)] every write that reached the server
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from urllib.parse import parse_qs, urlsplit

import responses
from launch_support import FakeEhr

from smart_app.demo_data import load_demo_patients
from smart_app.write import fhir_version
from smart_app.write.page_panel import VERSIONS

FHIR_JSON = {"Content-Type": "application/fhir+json"}


def forget_versions(client: Any) -> None:
    """The app forgets every FHIR server's version it learnt (as another worker, or after an hour): a fresh cache."""
    client.application.extensions[VERSIONS] = fhir_version.VersionCache()


@dataclass
class ChartServer:
    rsps: responses.RequestsMock
    ehr: FakeEhr
    patient_id: str
    today: date = date(2026, 6, 15)
    fail_status: int | None = None  # answer every write with this status (and an OperationOutcome)
    received: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    failing_reads: set[str] = field(default_factory=set)  # resource types whose searches answer 500
    resources: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    if_match: list[str | None] = field(default_factory=list)  # each write's If-Match header (None when absent)
    redirect_writes: str | None = None  # answer every write with 302 to this address (a gateway's sign-in page)
    answer_status: int | None = None  # store each write but answer this status with no body (204, or 202 Accepted)
    unreachable: Exception | None = None  # raised for each write before it reaches the server (connection refused)
    answer_lost: Exception | None = None  # raised after each write is stored: the answer never came back
    page_size: dict[str, int] = field(default_factory=dict)  # resource type -> entries per search page (next links)
    before_write: Callable[[], None] | None = None  # run as each write arrives (someone else edits meanwhile)
    warning: str | None = None  # store each write, answer with Location and an OperationOutcome carrying this warning
    # Store each write but answer 200 with this (content type, body) and no Location: a gateway's page, or junk.
    answer_body: tuple[str, str] | None = None

    def __post_init__(self) -> None:
        chart = load_demo_patients(self.today)[self.patient_id]
        for resource in chart.resources():
            self.resources[(resource["resourceType"], resource["id"])] = resource
        self.ehr.patient = self.patient_id
        base = re.escape(self.ehr.iss)
        pattern = re.compile(base + r"/(?!\.well-known|metadata)[A-Z].*")
        self.rsps.add_callback(responses.GET, pattern, self._get)
        self.rsps.add_callback(responses.POST, pattern, self._write)
        self.rsps.add_callback(responses.PUT, pattern, self._write)

    def _authorised(self, request: Any) -> bool:
        header = request.headers.get("Authorization", "")
        return header.startswith("Bearer ") and header[7:] in self.ehr.access_tokens

    def _path(self, request: Any) -> list[str]:
        path = urlsplit(request.url).path[len(urlsplit(self.ehr.iss).path) :].strip("/")
        return path.split("/")

    def _get(self, request: Any) -> tuple[int, dict[str, str], str]:
        if not self._authorised(request):
            return 401, {}, ""
        parts = self._path(request)
        if parts[0] in self.failing_reads:
            return 500, {}, ""
        if len(parts) == 2:
            found = self.resources.get((parts[0], parts[1]))
            return (200, FHIR_JSON, json.dumps(found)) if found else (404, {}, "")
        params = {k: v[0] for k, v in parse_qs(urlsplit(request.url).query).items()}
        if params.get("patient") != self.patient_id:
            return 403, {}, ""
        entries = [
            {"resource": r, "fullUrl": f"{self.ehr.iss}/{r['resourceType']}/{r['id']}"}
            for (kind, _), r in self.resources.items()
            if kind == parts[0]
        ]
        bundle = {"resourceType": "Bundle", "type": "searchset", "total": len(entries), "entry": entries}
        if parts[0] in self.page_size:
            bundle = self._page(request.url, bundle, self.page_size[parts[0]], int(params.get("_getpagesoffset", 0)))
        return 200, FHIR_JSON, json.dumps(bundle)

    def _page(self, url: str, bundle: dict[str, Any], size: int, offset: int) -> dict[str, Any]:
        """One page of a search as HAPI pages it: `size` entries from `offset`, the total, and a next link while more
        are left."""
        entries = bundle["entry"]
        base = url.split("&_getpagesoffset=")[0]
        links = [{"relation": "self", "url": url}]
        if offset + size < len(entries):
            links.append({"relation": "next", "url": f"{base}&_getpagesoffset={offset + size}"})
        return {**bundle, "link": links, "entry": entries[offset : offset + size]}

    def _write(self, request: Any) -> tuple[int, dict[str, str], str]:
        if self.unreachable is not None:
            raise self.unreachable
        if not self._authorised(request):
            return 401, {}, ""
        if self.before_write is not None:
            self.before_write()
        parts = self._path(request)
        body = json.loads(request.body)
        self.received.append((request.method, "/".join(parts), body))
        self.if_match.append(request.headers.get("If-Match"))
        if self.redirect_writes:
            return 302, {"Location": self.redirect_writes}, ""
        current = self.resources.get((parts[0], parts[-1])) if request.method == "PUT" else None
        version = int(((current or {}).get("meta") or {}).get("versionId", "0"))
        if current is not None and self.if_match[-1] not in (None, f'W/"{version}"'):
            outcome = {
                "resourceType": "OperationOutcome",
                "issue": [{"severity": "error", "code": "conflict", "diagnostics": "Version mismatch"}],
            }
            return 412, FHIR_JSON, json.dumps(outcome)
        if self.fail_status:
            outcome = {
                "resourceType": "OperationOutcome",
                "issue": [{"severity": "error", "code": "exception", "diagnostics": "Server is busy"}],
            }
            return self.fail_status, FHIR_JSON, json.dumps(outcome)
        ident = parts[1] if request.method == "PUT" else f"ehr-{len(self.received)}"
        meta = {**(body.get("meta") or {}), "versionId": str(version + 1), "lastUpdated": f"{self.today}T16:00:00Z"}
        stored = {**body, "id": ident, "meta": meta}
        self.resources[(parts[0], ident)] = stored
        if self.answer_lost is not None:
            raise self.answer_lost
        if self.answer_body is not None:
            return 200, {"Content-Type": self.answer_body[0]}, self.answer_body[1]
        if self.answer_status is not None:
            # Prefer: return=minimal honoured with nothing but a version tag: no body, no Location.
            return self.answer_status, {"ETag": f'W/"{version + 1}"'}, ""
        headers = {**FHIR_JSON, "Location": f"{self.ehr.iss}/{parts[0]}/{ident}/_history/{version + 1}"}
        if self.warning is not None:
            # As Epic answers a write it stored while ignoring part of it: the outcome, not the resource.
            issue = {"severity": "warning", "code": "informational", "details": {"text": self.warning}}
            outcome = {"resourceType": "OperationOutcome", "issue": [issue]}
            return (201 if request.method == "POST" else 200), headers, json.dumps(outcome)
        return (201 if request.method == "POST" else 200), headers, json.dumps(stored)

    def written(self, kind: str) -> list[dict[str, Any]]:
        return [body for _, path, body in self.received if path.split("/")[0] == kind]
