"""Bulk Data `$export` with SMART Backend Services: kick-off, polling with Retry-After, manifest, download, resume.

No maintained Python client for the Bulk Data protocol fits here (the ones on PyPI come inside whole ETL
applications), so this is a small one: authlib obtains the token (client_credentials with a private_key_jwt
assertion signed RS384/ES384, the SMART launch's own signer), requests does the rest. Progress is kept in
`<folder>/.export-state.json`, so a rerun after an interruption polls the same job and skips finished files.
"""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests

from guideline.config import ConfigError
from guideline.outcome_issues import says_not_all_sent
from guideline.population import PopulationError, Quality
from guideline.population.quality import in_name_order
from guideline.record.release_names import NOT_R4
from guideline.text_files import NotUtf8TextError, read_text_file
from launch.clients import load_clients, normalize_iss
from smart_app.population.inputs import GZIP_DAMAGE, as_read, damage, export_file_name, outcomes_in
from smart_app.population.progress import Progress
from smart_app.population.worker import EXPECTED_TYPES

DEFAULT_SCOPE = "system/*.read"
# Read by one finding only and not asked for: an EHR's administrations hold every dose given on a ward, far more
# lines than the review needs (docs/population.md says to add it to one's own `_type`).
_NOT_ASKED = frozenset({"MedicationAdministration"})
# What the kick-off asks for: every other R4 type the review reads (worker.EXPECTED_TYPES, the one list, so a type the
# engine reads is never left out of the export it makes itself: Coverage was, and a run under population.enrolment =
# continuous checked no enrolment). Patient first, the rest by name. An EHR's server has no ExplanationOfBenefit or
# Coverage to send, a payer's no CarePlan: `handling=lenient` (Bulk Data 2.0) lets it go on without them. Not the
# names other releases give the types read (release_names.NOT_R4: DSTU2's and STU3's for types R4 renamed, R5's ballot
# name for MedicationStatement): the review reads them in an export another client made, but Bulk Data is an R4
# protocol, and an R4 server may refuse a kick-off naming a type R4 does not have.
EXPORT_TYPES = ",".join(["Patient", *sorted(EXPECTED_TYPES - NOT_R4 - _NOT_ASKED - {"Patient"})])
KICK_OFF_PREFER = "respond-async, handling=lenient"
STATE_FILE = ".export-state.json"
# Why a state file whose manifest is no JSON object is neither resumed nor checked against the folder (both readers).
MANIFEST_NOT_AN_OBJECT = "its manifest is not a JSON object"
# The manifest's error files are kept here: hidden, so never read as input (inputs.ndjson_files skips dot-names).
ERRORS_FOLDER = ".export-errors"
NOT_DOWNLOADED = "the server listed resources it could not export (OperationOutcome), not downloaded"
_WARNINGS_SHOWN = 10
_WHOLE_FILE_BYTES = 16 << 20
# How another client names the error files it saves among the data, plain or compressed as the data files may be.
_ERROR_FILE_ENDINGS = ("OperationOutcome.ndjson", "OperationOutcome.ndjson.gz")
EMPTY_ERROR_FILE = "empty: the server reported errors in it, and what they were is unknown"
MAX_WAIT_SECONDS = 120
TIMEOUT = 60
_BASE = re.compile(r"^(?P<base>.+?)/(?:(?:Group/[^/]+|Patient)/)?\$export(?:\?.*)?$")


def fhir_base(url: str) -> str:
    match = _BASE.match(url.strip())
    if not match:
        raise PopulationError(
            f"--export {url!r} is not a $export URL ([base]/Group/ID/$export, [base]/Patient/$export)"
        )
    return normalize_iss(match.group("base"))


def retry_after(value: str | None, default: float = 10.0) -> float:
    """Seconds to wait: Retry-After as seconds or an HTTP date, capped so a long hint still re-polls."""
    if not value:
        return default
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = (parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds()
        except (TypeError, ValueError):
            return default
    if not math.isfinite(seconds):  # "nan" parses as a float, and time.sleep refuses it
        return default
    return min(max(seconds, 0.0), MAX_WAIT_SECONDS)


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    return parts.scheme.lower(), (parts.hostname or "").lower(), parts.port


class BulkExport:
    """One export job against one FHIR server."""

    def __init__(self, url: str, folder: Path, clients_file: str, progress: Progress,
                 sleep: Callable[[float], None] | None = None) -> None:  # fmt: skip
        self.url = url
        self.base = fhir_base(url)
        self.folder = folder
        self.progress = progress
        self.sleep = sleep or (lambda seconds: time.sleep(seconds))
        try:
            clients = load_clients(clients_file)
        except ConfigError as error:  # named by the setting that names it, not as the plan page's SMART clients
            raise ConfigError(f"PAINPLAN_POPULATION_EXPORT_CLIENTS: {error}") from None
        self.client = clients.get(self.base)
        if self.client is None:
            raise PopulationError(
                f"no backend-services client for {self.base} in PAINPLAN_POPULATION_EXPORT_CLIENTS "
                "(a JSON list of {iss, client_id, private_jwk, scope})"
            )
        if self.client.signing_key is None:
            raise PopulationError(f"the export client for {self.base} needs a private_jwk (SMART Backend Services)")
        self.http = requests.Session()
        self.token: str | None = None

    # -- authorisation ------------------------------------------------------------------------------------------

    def _token_endpoint(self) -> str:
        where = f"{self.base}/.well-known/smart-configuration"
        response = self._send(self.http.get, where, headers={"Accept": "application/json"})
        endpoint = _json_object(response, where).get("token_endpoint") if response.ok else None
        if not isinstance(endpoint, str) or not endpoint:
            raise PopulationError(f"{where} names no token_endpoint")
        return endpoint

    def authorise(self) -> None:
        from launch.oauth import oauth_session

        endpoint = self._token_endpoint()
        with oauth_session(self.client, token_endpoint=endpoint) as session:  # type: ignore[arg-type]
            try:
                token = session.fetch_token(endpoint, grant_type="client_credentials",
                                            scope=self.client.scope or DEFAULT_SCOPE)  # type: ignore[union-attr]  # fmt: skip
            except Exception as error:  # noqa: BLE001 - authlib raises several kinds; all mean "no token"
                raise PopulationError(
                    f"the token endpoint refused the export client ({type(error).__name__})"
                ) from error
        access_token = token.get("access_token") if isinstance(token, dict) else None
        if not isinstance(access_token, str) or not access_token:
            raise PopulationError("the token endpoint answered without an access_token")
        self.token = access_token

    def _send(self, method: Callable[..., requests.Response], url: str, **kwargs: Any) -> requests.Response:
        """One request; a network failure becomes a one-line error naming the host (never the token)."""
        try:
            return method(url, timeout=TIMEOUT, **kwargs)
        except requests.RequestException as error:
            raise PopulationError(
                f"the export could not reach {urlsplit(url).hostname} ({type(error).__name__})"
            ) from error

    def _get(self, url: str, **kwargs: Any) -> requests.Response:
        # The token goes only to the FHIR server's own origin: a status or file URL elsewhere is refused, as a
        # hook call's next link to another server is, whatever the server that named it intended.
        if _origin(url) != _origin(self.base):
            raise PopulationError(
                f"the export server named {urlsplit(url).scheme}://{urlsplit(url).netloc} for its status or files; "
                f"PainPlan sends its token only to {self.base}"
            )
        if self.token is None:
            self.authorise()
        headers = {"Authorization": f"Bearer {self.token}", **kwargs.pop("headers", {})}
        response = self._send(self.http.get, url, headers=headers, **kwargs)
        if response.status_code == 401:  # the token expired during a long export: one fresh token, one retry
            self.authorise()
            headers["Authorization"] = f"Bearer {self.token}"
            response = self._send(self.http.get, url, headers=headers, **kwargs)
        return response

    def _get_without_token(self, url: str, **kwargs: Any) -> requests.Response:
        """A file the manifest says needs no token (a signed URL, often on storage elsewhere): never plain http
        unless the FHIR server itself is, since the file holds patient data."""
        if urlsplit(url).scheme.lower() != "https" and _origin(self.base)[0] == "https":
            raise PopulationError(f"the export server named a plain-http file URL ({urlsplit(url).netloc})")
        return self._send(self.http.get, url, **kwargs)

    # -- the job ------------------------------------------------------------------------------------------------

    def _state(self) -> dict[str, Any]:
        state, why = _saved_state(self.folder)  # read as the review reads it: a mark Notepad adds resumes the job
        why = why or (self._not_resumed(state) if state is not None else None)
        # A state file from another export, or one edited or torn, starts the job afresh rather than misleading it;
        # said, as the new job's state replaces it.
        if why:
            self.progress.note(f"export: {STATE_FILE}: {why}: a new export is started")
            return {}
        return state or {}

    def _not_resumed(self, state: dict[str, Any]) -> str | None:
        """Why a state file read whole holds no job of this export to resume, or None."""
        if state.get("url") != self.url:
            return "the job kept there is another export URL's"
        if not isinstance(state.get("status_url"), str) or not isinstance(state.get("downloaded"), list):
            return "holds no job to resume (no status URL or list of files downloaded)"
        return None if isinstance(state.get("manifest", {}), dict) else MANIFEST_NOT_AN_OBJECT

    def _save(self, state: dict[str, Any]) -> None:
        (self.folder / STATE_FILE).write_text(json.dumps(state, indent=2), encoding="utf-8")

    def kick_off(self) -> str:
        separator = "&" if "?" in self.url else "?"
        url = self.url if "_type=" in self.url else f"{self.url}{separator}_type={EXPORT_TYPES}"
        response = self._get(url, headers={"Accept": "application/fhir+json", "Prefer": KICK_OFF_PREFER})
        location = response.headers.get("Content-Location")
        if response.status_code != 202 or not location:
            raise PopulationError(f"the export kick-off was answered {response.status_code}, not 202 with a "
                                  "Content-Location")  # fmt: skip
        return urljoin(url, location)  # an absolute URL by the spec; a relative one is read against the kick-off

    def wait_for_manifest(self, status_url: str) -> dict[str, Any]:
        while True:
            response = self._get(status_url, headers={"Accept": "application/json"})
            if response.status_code == 200:
                return _json_object(response, "the export manifest")
            if response.status_code not in (202, 429):
                raise PopulationError(f"the export status was answered {response.status_code}")
            self.progress.note(f"export: {response.headers.get('X-Progress') or 'in progress'}")
            self.sleep(retry_after(response.headers.get("Retry-After")))

    def download(self, manifest: dict[str, Any], state: dict[str, Any]) -> list[Path]:
        done: list[str] = state.setdefault("downloaded", [])
        listed = manifest.get("output")
        outputs = (
            [o for o in listed if isinstance(o, dict) and isinstance(o.get("url"), str)]
            if isinstance(listed, list)
            else []
        )
        files = []
        for index, output in enumerate(outputs):
            target = self.folder / export_file_name(index, output.get("type", "Resource"))
            files.append(target)
            if output["url"] in done and target.exists():
                continue  # finished before an interruption
            status = self._fetch(manifest, output["url"], target)
            if status != 200:
                raise PopulationError(f"downloading export file {index + 1} was answered {status}")
            done.append(output["url"])
            self._save(state)
            self.progress.note(f"export: downloaded {index + 1}/{len(outputs)} ({output.get('type')})")
        self.download_errors(manifest, state)
        return files

    def download_errors(self, manifest: dict[str, Any], state: dict[str, Any]) -> None:
        """The manifest's error files, into ERRORS_FOLDER, to be graded by `reported_errors`: one that cannot be
        downloaded is noted in the state (never by its URL) and the run goes on, since the data files are whole."""
        listed = manifest.get("error")
        if not isinstance(listed, list):
            return
        done: list[str] = state.setdefault("errors_downloaded", [])
        failed: dict[str, str] = state.setdefault("errors_failed", {})
        for index, entry in enumerate(listed):
            url = entry.get("url") if isinstance(entry, dict) else None
            target = _error_file(self.folder, index)
            if not isinstance(url, str) or (url in done and target.exists()):
                continue
            target.parent.mkdir(exist_ok=True)
            try:
                status = self._fetch(manifest, url, target)
            except PopulationError as error:  # unreachable, or on a host the token may not go to: named, not fatal
                failed[str(index)] = f"could not be downloaded ({error})"
            else:
                if status == 200:
                    done.append(url)
                    failed.pop(str(index), None)
                else:
                    failed[str(index)] = f"could not be downloaded (HTTP {status})"
            self._save(state)
            self.progress.note(f"export: error file {index + 1}/{len(listed)}: " + failed.get(str(index), "downloaded"))

    def _fetch(self, manifest: dict[str, Any], url: str, target: Path) -> int:
        """Streams one manifest file to `target` (through a .part file); the HTTP status. Bulk Data's
        requiresAccessToken covers data and error files alike: only an explicit false drops the token."""
        fetch = self._get if manifest.get("requiresAccessToken", True) is not False else self._get_without_token
        response = fetch(url, stream=True, headers={"Accept": "application/fhir+ndjson"})
        if response.status_code != 200:
            return response.status_code
        partial = target.with_suffix(".part")
        with open(partial, "wb") as handle:
            for chunk in response.iter_content(1 << 20):
                handle.write(chunk)
        partial.replace(target)
        return 200

    def run(self) -> list[Path]:
        self.folder.mkdir(parents=True, exist_ok=True)
        state = self._state()
        if not state.get("status_url"):
            state = {"url": self.url, "status_url": self.kick_off(), "downloaded": []}
            self._save(state)
            self.progress.note("export: kicked off")
        else:
            self.progress.note("export: resuming the earlier job")
        manifest = state.get("manifest") or self.wait_for_manifest(state["status_url"])
        state["manifest"] = manifest
        self._save(state)
        return self.download(manifest, state)


def _json_object(response: requests.Response, what: str) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise PopulationError(f"{what} is not a JSON object (HTTP {response.status_code})")
    return data


@dataclass(frozen=True)
class ReportedErrors:
    """What the export's server said in its error files: input not read (path-like name, why) and warnings, each
    with how many issues it stands for."""

    not_read: tuple[tuple[str, str], ...] = ()
    warnings: tuple[tuple[str, int], ...] = ()


def saved_export(folder: Path) -> tuple[SavedManifest, ReportedErrors]:
    """What `--export` saved in the folder's state file, read once: its manifest as one among the files
    (`saved_manifest`) and the error files that manifest lists (`reported_errors`)."""
    state, why = _saved_state(folder)
    return saved_manifest(folder, state, why), reported_errors(folder, state)


def reported_errors(folder: Path, state: dict[str, Any] | None) -> ReportedErrors:
    """The error files the export's server listed in its manifest, graded from what PainPlan saved (the state and
    ERRORS_FOLDER), so a rerun over the folder grades them the same: an error or fatal issue is resources missing from
    the review, a file not downloaded or not readable may be, and both are input not read; a warning or information
    is an export warning. Each file is named by its number and its path in the folder, never by its URL, which may be
    signed; each issue by its severity, code and line, never by its words (see `grade_error_file`)."""
    # `state` is the state file as `_saved_state` read it; one that cannot be read is named once, by saved_manifest.
    manifest = state.get("manifest") if state is not None else None
    errors = manifest.get("error") if isinstance(manifest, dict) else None
    if not isinstance(errors, list) or not errors:
        return ReportedErrors()
    done = state.get("errors_downloaded") if isinstance(state.get("errors_downloaded"), list) else []
    failed = state.get("errors_failed") if isinstance(state.get("errors_failed"), dict) else {}
    not_read: list[tuple[str, str]] = []
    warnings: list[tuple[str, int]] = []
    for index, entry in enumerate(errors):
        path = _error_file(folder, index)
        label = f"export error file {index + 1} of {len(errors)} ({path.relative_to(folder).as_posix()})"
        url = entry.get("url") if isinstance(entry, dict) else None
        if url in done and path.exists():
            graded = grade_error_file(path)
            not_read += [(label, why) for why in graded.not_read]
            warnings += [(f"{label}: {kind}", count) for kind, count in graded.warnings.items()]
        else:
            why = failed.get(str(index))
            not_read.append((label, why if isinstance(why, str) else NOT_DOWNLOADED))
    return ReportedErrors(tuple(not_read), tuple(warnings))


@dataclass(frozen=True)
class SavedManifest:
    """The state file as a manifest among the files, when it holds the manifest of the export `--export` downloaded
    into the folder; else, when there is a state file, it as input not read (path, why)."""

    manifests: tuple[Path, ...] = ()
    not_read: tuple[tuple[str, str], ...] = ()


# Both checks read the state file: its manifest (`inputs.not_held`) and its error files (`reported_errors`).
STATE_NOT_CHECKED = "the export's manifest and error files it keeps were not checked"


def saved_manifest(folder: Path, state: dict[str, Any] | None, why: str | None) -> SavedManifest:
    """The state file, when it holds the manifest of the export `--export` downloaded into the folder: a manifest
    among the files (`InputFolder.manifests`), so that a file it lists and did not download (an interrupted export
    reviewed without --export, or a copy left part behind) is named (`inputs.not_held`). A state file that cannot
    be read for it (torn, edited, of another shape, not a file) is named instead, as input not read: skipped in
    silence, a file the export lists and the folder lacks went unnoticed, and the run said it read everything.
    `state` and `why` are the state file as `_saved_state` read it."""
    if why is None and state is not None:
        manifest = state.get("manifest")
        if isinstance(manifest, dict):
            return SavedManifest(manifests=(folder / STATE_FILE,))
        why = (
            "holds no manifest (the export begun into this folder did not finish)"
            if manifest is None
            else MANIFEST_NOT_AN_OBJECT
        )
    return SavedManifest(not_read=((STATE_FILE, f"{why}: {STATE_NOT_CHECKED}"),)) if why else SavedManifest()


def _saved_state(folder: Path) -> tuple[dict[str, Any] | None, str | None]:
    """The folder's state file as `--export` saved it, or why it cannot be read; (None, None) when there is none. The
    one reader of it, for resuming the export and for reviewing the folder: UTF-8 with or without a byte-order mark,
    a byte that is not named with its line and column."""
    path = folder / STATE_FILE
    try:
        state = json.loads(read_text_file(path, "export state file"))
    except FileNotFoundError:
        return None, None
    except OSError as error:
        return None, f"could not be read ({error.strerror or type(error).__name__})"
    except NotUtf8TextError as error:
        return None, error.why
    except json.JSONDecodeError as error:
        return None, f"not JSON ({error.msg}: line {error.lineno} column {error.colno})"
    except RecursionError:
        return None, "not JSON (nested too deeply)"
    except ValueError as error:  # a number of thousands of digits: json.loads refuses it, but not as bad JSON
        return None, f"not JSON ({str(error).split(';')[0]})"
    return (state, None) if isinstance(state, dict) else (None, "not a JSON object")


def error_files_among(folder: Path, files: Sequence[Path]) -> ReportedErrors:
    """The error files another Bulk Data client saved among the data (SMART's bulk-data-client's
    `error/OperationOutcome.ndjson`), graded as the error files `--export` downloads are (`grade_error_file`): read
    as data, a server's "could not export" was an ignored resource type, and the run said it read every line."""
    not_read: list[tuple[str, str]] = []
    warnings: list[tuple[str, int]] = []
    for path in files:
        if path.name.endswith(_ERROR_FILE_ENDINGS):
            label = f"export error file {path.relative_to(folder).as_posix() if path.is_relative_to(folder) else path}"
            graded = grade_error_file(path)
            not_read += [(label, why) for why in graded.not_read]
            warnings += [(f"{label}: {kind}", count) for kind, count in graded.warnings.items()]
    return ReportedErrors(tuple(not_read), tuple(warnings))


@dataclass
class GradedErrorFile:
    """One error file's issues: why it stands for input not read (errors, unreadable lines) and its warnings, each
    "warning not-supported at lines 1 and 4" with how many issues it stands for."""

    not_read: list[str] = field(default_factory=list)
    warnings: dict[str, int] = field(default_factory=dict)


# FHIR R4's IssueType codes (a required binding): an issue's code is repeated only when it is one of these, since a
# server may put anything in the field, a patient's name included.
ISSUE_CODES = frozenset(
    {
        "invalid", "structure", "required", "value", "invariant", "security", "login", "unknown", "expired",
        "forbidden", "suppressed", "processing", "not-supported", "duplicate", "multiple-matches", "not-found",
        "deleted", "too-long", "code-invalid", "extension", "too-costly", "business-rule", "conflict", "transient",
        "lock-error", "no-store", "exception", "timeout", "incomplete", "throttled", "informational", "success",
    }
)  # fmt: skip
_SEVERITIES = ("fatal", "error", "warning", "information")


def grade_error_file(path: Path) -> GradedErrorFile:
    """Reads an error file's OperationOutcomes leniently (NDJSON, or one pretty-printed JSON resource; any
    severity's case; gzip when its bytes are) and grades their issues (`grade_outcomes`). An error file that says
    nothing, or cannot be read whole, is named too: what the server reported in it is unknown."""
    try:
        outcomes, unreadable, damaged = _outcomes(path)
    except OSError as error:
        return GradedErrorFile(not_read=[f"could not be read ({error.strerror or type(error).__name__})"])
    graded = grade_outcomes(outcomes)
    if not outcomes and not unreadable and not damaged:  # listed as errors, yet says nothing: a lost download?
        graded.not_read.append(EMPTY_ERROR_FILE)
    if unreadable:
        more = f", and {len(unreadable) - 1:,} more lines" if len(unreadable) > 1 else ""
        graded.not_read.append(f"could not be read (line {unreadable[0]:,} is no OperationOutcome{more})")
    if damaged:
        graded.not_read.append(f"could not be read: {damaged}")
    return graded


def grade_outcomes(outcomes: Iterable[tuple[str | None, Any]]) -> GradedErrorFile:
    """Grades the issues of a server's OperationOutcomes, each with where it is ("line 3", "line 2 entry 4"; None:
    named by its issue's number). An issue with no severity, or one not in the spec, counts as an error: it cannot be
    assumed harmless; so does a warning or a note saying the answer is not all there (`says_not_all_sent`). An issue is
    named by its severity, its code and where it is, never by its words: a server's diagnostics, details and
    expression name the resources, and often the patient (an id, a name, an MRN), that it could not export, and the
    summary is printed and logged. The words stay in the file, which the analyst reads at the place named."""
    graded = GradedErrorFile()
    errors: dict[str, list[str]] = {}  # kind ("error processing") → where
    incomplete: dict[str, list[str]] = {}
    warned: dict[str, list[str]] = {}
    for where, outcome in outcomes:
        issues = outcome.get("issue") if isinstance(outcome, dict) else None
        for number, issue in enumerate(issues if isinstance(issues, list) else [], 1):
            issue = issue if isinstance(issue, dict) else {}
            severity, kind = _issue_kind(issue)
            noted = severity in ("warning", "information")
            short = noted and says_not_all_sent(issue)
            found = incomplete if short else warned if noted else errors
            found.setdefault(kind, []).append(where or f"issue {number:,}")
    for found, noun in ((errors, "error{}"), (incomplete, "issue{} saying not everything was sent")):
        if found:
            count = sum(len(places) for places in found.values())
            kinds = ", ".join(f"{kind} {len(at):,}" for kind, at in _most_first(found)) if len(found) > 1 else ""
            kinds = kinds or next(iter(found))
            places = [place for _, at in _most_first(found) for place in at]
            words = noun.format("" if count == 1 else "s")
            graded.not_read.append(f"{count:,} {words} ({kinds}) at {_places(places)}")
    # A server may warn once per resource: one entry per severity and code, its first places named, so data-quality
    # stays short.
    for kind, places in _most_first(warned):
        graded.warnings[f"{kind} at {_places(places)}"] = len(places)
    return graded


def server_outcomes(sources: Mapping[str, Path], quality: Quality) -> None:
    """The OperationOutcomes the engines found among the data (`server_outcomes_by_file`: a searchset's outcome
    entries, an OperationOutcome line), each file read once more to grade them where they are, as an error file's
    are: into input_files_not_read or export_warnings. A file graded as an error file already is not read again."""
    for name in in_name_order(quality.server_outcomes_by_file):
        if name not in sources or name.endswith(_ERROR_FILE_ENDINGS):
            continue
        graded = grade_outcomes(outcomes_in(sources[name]))
        label = f"server outcome in {name}"
        for why in graded.not_read:
            quality.input_files_not_read[f"{label}: {why}"] += 1
        for kind, count in graded.warnings.items():
            quality.export_warnings[f"{label}: {kind}"] += count


def _issue_kind(issue: dict[str, Any]) -> tuple[str, str]:
    """An issue's severity (lower-cased; "no severity" or "a severity not in FHIR's list" when it has none the spec
    knows) and its words as named: "error processing", "warning (a code not in FHIR's list)"."""
    raw = issue.get("severity")
    severity = raw.strip().lower() if isinstance(raw, str) and raw.strip() else ""
    shown = (
        severity if severity in _SEVERITIES else "no severity" if not severity else "(a severity not in FHIR's list)"
    )
    code = issue.get("code")
    code = code.strip().lower() if isinstance(code, str) else ""
    said = code if code in ISSUE_CODES else "(no code)" if not code else "(a code not in FHIR's list)"
    return severity, f"{shown} {said}"


def _most_first(kinds: dict[str, list[str]]) -> list[tuple[str, list[str]]]:
    return sorted(kinds.items(), key=lambda item: (-len(item[1]), item[0]))


def _places(places: list[str]) -> str:
    """ "lines 2, 3 and 5", "line 8", "issue 2", "lines 1, …, 11 and 2,489 more", "line 1 entry 3 and line 2": each
    place once, in file order, the first few named."""
    unique = sorted(dict.fromkeys(places), key=_place_order)
    noun = unique[0].split()[0]
    numbers = [place.split(maxsplit=1)[1] for place in unique]
    if any(" " in number for number in numbers):  # a Bundle line's entries: each place in full
        head, numbers = "", unique
    else:
        head = f"{noun} " if len(numbers) == 1 else f"{noun}s "
    if len(numbers) == 1:
        return f"{head}{numbers[0]}"
    shown, more = numbers[:_WARNINGS_SHOWN], len(numbers) - _WARNINGS_SHOWN
    if more > 0:
        return f"{head}{', '.join(shown)} and {more:,} more"
    return f"{head}{', '.join(shown[:-1])} and {shown[-1]}"


def _place_order(place: str) -> tuple[str, tuple[int, ...]]:
    noun, _, numbers = place.partition(" ")
    return noun, tuple(int(number) for number in re.findall(r"\d+", numbers.replace(",", "")))


def _outcomes(path: Path) -> tuple[list[tuple[str | None, dict[str, Any]]], list[int], str | None]:
    """The file's OperationOutcomes, each with its line ("line 3"; None for a file that is one OperationOutcome
    written over several lines), the numbers of its non-blank lines that are none, and the damage a gzip file's
    stream ended in (what came before it is read), as the data files are read (`inputs.as_read`)."""
    outcomes: list[tuple[str | None, dict[str, Any]]] = []
    unreadable: list[int] = []
    number = 0
    with open(path, "rb") as handle:
        try:
            for number, raw in enumerate(as_read(handle), 1):  # noqa: B007 - the last number names the damage
                if not raw.strip():
                    continue
                resource = _json_value(raw)
                if isinstance(resource, dict) and resource.get("resourceType") == "OperationOutcome":
                    outcomes.append((f"line {number:,}", resource))
                else:
                    unreadable.append(number)
        except GZIP_DAMAGE as error:
            return outcomes, unreadable, f"cut off or corrupt after line {number:,} ({damage(error)})"
        if unreadable and not outcomes:
            handle.seek(0)
            text = as_read(handle).read(_WHOLE_FILE_BYTES + 1)
            whole = _json_value(text) if len(text) <= _WHOLE_FILE_BYTES else None  # one written over several lines
            if isinstance(whole, dict) and whole.get("resourceType") == "OperationOutcome":
                return [(None, whole)], [], None
    return outcomes, unreadable, None


def _json_value(raw: bytes) -> Any:
    try:
        return json.loads(raw.decode("utf-8", errors="replace"))
    except ValueError:
        return None


def _error_file(folder: Path, index: int) -> Path:
    return folder / ERRORS_FOLDER / f"{index + 1:04d}.OperationOutcome.ndjson"


def download_export(url: str, folder: Path, settings: Any, progress: Progress,
                    sleep: Callable[[float], None] | None = None) -> list[Path]:  # fmt: skip
    """Run (or resume) the export into `folder`."""
    return BulkExport(url, folder, settings.population_export_clients, progress, sleep).run()
