"""The CDS Hooks HTTP face: discovery, service calls, feedback, JWT auth, CORS, OperationOutcome errors."""

from __future__ import annotations

import json
import logging
import threading
import time
from contextlib import AbstractContextManager, nullcontext
from datetime import UTC, datetime
from typing import Any

import orjson
from flask import Blueprint, Response, current_app, g, request
from sqlalchemy import Engine
from werkzeug.exceptions import HTTPException

from cds_hooks import metrics, store
from cds_hooks.auth import AuthError, JwksCache, Verifier, load_trusted_clients
from cds_hooks.errors import FHIR_JSON, RequestError, operation_outcome
from cds_hooks.feedback import apply_feedback, parse_feedback
from cds_hooks.fhir_client import shared_session
from cds_hooks.json_body import parse_json
from cds_hooks.location_cache import app_cache
from cds_hooks.service import error_result, failed_call_body, log_failure, run_hook
from cds_hooks.services import SERVICES, discovery
from cds_hooks.settings import CdsSettings
from guideline.config import ConfigError
from guideline.terminology import load_terminology
from guideline.text_errors import where_not_utf8

log = logging.getLogger("painplan.cds")

PREFIX = "/cds-services"
JSON_TYPES = ("application/json", "application/fhir+json")
ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]


def _is_cds_path(path: str) -> bool:
    return path == PREFIX or path.startswith(PREFIX + "/")


# Bodies are our own trees, never cyclic: skip the encoder's cycle bookkeeping on every card response.
_ENCODER = json.JSONEncoder(separators=(",", ":"), check_circular=False)


def _json(body: Any, status: int = 200, mimetype: str = "application/json") -> Response:
    return Response(_encoded(body), status=status, mimetype=mimetype)


def _encoded(body: Any) -> bytes | str:
    """Compact JSON in UTF-8: orjson, several times faster than the standard library on a call's cards, which
    still writes what orjson refuses (a lone surrogate or an integer beyond 64 bits echoed from a request)."""
    try:
        return orjson.dumps(body)
    except TypeError:  # orjson.JSONEncodeError is a TypeError
        return _ENCODER.encode(body)


def _outcome(status: int, message: str, code: str = "invalid") -> Response:
    return _json(operation_outcome(message, code), status, FHIR_JSON)


def _unauthorized() -> Response:
    # No detail on purpose (CDS Hooks best practice): the reason is in our log only.
    response = _json(
        {"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "login"}]}, 401, FHIR_JSON
    )
    response.headers["WWW-Authenticate"] = "Bearer"
    return response


def _log(event: dict[str, Any]) -> None:
    if log.isEnabledFor(logging.INFO):  # the JSON line is built only when someone reads it
        log.info(json.dumps(event, separators=(",", ":"), default=str))


def build_verifier(settings: CdsSettings, engine: Engine) -> Verifier:
    try:
        clients = load_trusted_clients(settings.trusted_clients)
    except ValueError as error:
        raise ConfigError(str(error)) from error
    if not clients:
        log.warning("auth is required but no trusted CDS clients are configured: every call will get 401")

    def remember(iss: str, jti: str, expires_at: datetime) -> bool:
        return store.remember_jti(engine, iss, jti, expires_at, datetime.now(UTC))

    return Verifier(clients, remember, JwksCache(shared_session()))


def create_cds_blueprint(settings: CdsSettings, engine: Engine, verifier: Verifier | None = None) -> Blueprint:
    bp = Blueprint("cds_hooks", __name__)
    # Load the value sets now (before the server forks its workers) rather than inside the first clinician's hook call.
    load_terminology(settings.guideline)
    if settings.auth_required and verifier is None:
        verifier = build_verifier(settings, engine)
    origins = set(settings.cors_origins)
    _prune(engine, settings.evaluation_now())
    # One hook call computes at a time in a process; the others wait for their turn rather than share the
    # interpreter in 5 ms slices. Interleaved calls each took as long as all of them together, and the switching and
    # the cold caches cost ~12 % more CPU per call (bench/hooks.py, 2 workers of 4 threads vs 1 thread). Waits on the
    # FHIR server and the database are outside the turn, so a slow EHR still holds up no other call.
    cpu_turn = threading.Lock()
    public = settings.public_url.rstrip("/")

    def authenticate() -> Response | None:
        if not settings.auth_required or verifier is None:
            return None
        try:
            token = verifier.verify(request.headers.get("Authorization"), public + request.path)
        except AuthError as error:
            claims = _peek_claims(request.headers.get("Authorization"))
            _log({"event": "auth-refused", "path": request.path, "reason": str(error), **claims})
            return _unauthorized()
        except Exception as error:  # noqa: BLE001 - e.g. the replay cache is unreachable: fail closed, never open
            _log({"event": "auth-refused", "path": request.path, "reason": f"verifier error {type(error).__name__}"})
            return _unauthorized()
        g.cds_client = {"iss": token.iss, "tenant": token.tenant}
        return None

    def read_json(turn: AbstractContextManager[Any] | None = None) -> Any:
        """The request body as JSON; only the parsing runs in `turn`, never the reading from a client."""
        incoming = request._get_current_object()  # once: each read through the context proxy looks it up again
        length = incoming.content_length
        if length is not None and length > settings.max_body_bytes:
            raise RequestError(413, "the request body is too large", "too-costly")
        mimetype = (incoming.mimetype or "").lower()
        if mimetype and mimetype not in JSON_TYPES and not mimetype.endswith("+json"):
            raise RequestError(415, "send the request as application/json", "not-supported")
        raw = _read_exactly(incoming.stream, length) if length is not None else incoming.get_data(cache=False)
        # A chunked body has no Content-Length: Werkzeug stops reading at the limit without saying so, so a
        # body that reaches the limit is treated as too large rather than parsed (cut short) as bad JSON.
        limit_reached = len(raw) >= settings.max_body_bytes and length != len(raw)
        if limit_reached or len(raw) > settings.max_body_bytes:
            raise RequestError(413, "the request body is too large", "too-costly")
        try:
            with turn or nullcontext():
                return parse_json(raw)
        except UnicodeDecodeError as error:  # a ValueError too: said apart, as its fix is the encoding, not the JSON
            said = f"the request body is not UTF-8 text ({where_not_utf8(error)})"
            raise RequestError(400, said, "structure") from error
        except (ValueError, RecursionError) as error:
            raise RequestError(400, "the request body is not valid JSON", "structure") from error

    @bp.before_app_request
    def _preflight() -> Response | None:
        g.cds_started = time.perf_counter()
        if request.method != "OPTIONS" or not _is_cds_path(request.path):
            return None
        response = Response(status=204)
        response.headers["Allow"] = "GET, POST, OPTIONS"
        return response  # CORS headers are added below; a preflight never needs a JWT

    @bp.after_app_request
    def _cors(response: Response) -> Response:
        if not _is_cds_path(request.path):
            return response
        origin = request.headers.get("Origin")
        if origin and ("*" in origins or origin in origins):
            # Never "*" with credentials: we echo the origin only when it is listed, and never allow credentials.
            response.headers["Access-Control-Allow-Origin"] = "*" if "*" in origins else origin
            response.headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
            response.headers["Access-Control-Allow-Headers"] = "Authorization, Content-Type"
            response.headers["Access-Control-Max-Age"] = "600"
            response.vary.add("Origin")
        return response

    @bp.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> Response:
        code = error.code or 400
        words = {404: "not found", 405: "method not allowed", 413: "the request body is too large"}
        return _outcome(code, words.get(code, error.name.lower()), "not-found" if code == 404 else "invalid")

    @bp.errorhandler(Exception)
    def _unexpected(error: Exception) -> Response:
        log_failure("cds-unexpected-error", None, error, endpoint=str(request.endpoint))
        if request.method == "POST" and request.endpoint == "cds_hooks.call":
            # Cards saying which checks did not run beat an error in the clinician's workflow (and an empty list,
            # which would read as "all clear").
            return _json(failed_call_body(request.view_args.get("service_id", ""), settings))
        return _outcome(400, "the request could not be processed", "exception")

    def not_allowed(allowed: str) -> Response:
        response = _outcome(405, "method not allowed")
        response.headers["Allow"] = allowed
        return response

    @bp.route(PREFIX, methods=ALL_METHODS)
    def services() -> Response:
        if request.method not in ("GET", "HEAD"):  # HEAD: a monitor's GET without the body (Flask drops it)
            return not_allowed("GET, HEAD, OPTIONS")
        refused = authenticate()
        if refused is not None:
            return refused
        return _json(discovery(settings.guideline, settings.auth_required))

    @bp.route(PREFIX + "/<service_id>", methods=ALL_METHODS)
    def call(service_id: str) -> Response:
        if request.method != "POST":
            return not_allowed("POST, OPTIONS")
        refused = authenticate()
        if refused is not None:
            return refused
        started = g.get("cds_started", time.perf_counter())
        if service_id not in SERVICES:
            return _outcome(404, "no CDS service with this id", "not-found")
        try:
            body = read_json(cpu_turn)
            locations = app_cache(current_app.extensions, settings.location_cache_seconds)
            result = run_hook(
                service_id,
                body,
                settings,
                engine=engine,
                session=shared_session(),
                cpu_turn=cpu_turn,
                locations=locations,
            )
        except RequestError as error:
            result = error_result(error)
        except Exception as error:  # noqa: BLE001 - the guard of last resort: log it, name what did not run
            log_failure("hook-call-failed", None, error, service=service_id[:60])
            result = None
        elapsed = round((time.perf_counter() - started) * 1000, 2)
        if result is None:
            _log({"event": "hook", "service": service_id, "status": 200, "ms": elapsed, "error": "unexpected"})
            failed = failed_call_body(service_id, settings)
            metrics.observe_call(service_id, 200, elapsed / 1000, failed)
            return _json(failed)
        metrics.observe_call(service_id, result.status, elapsed / 1000, result.body, result.incomplete)
        _log(
            {
                "event": "hook",
                "service": service_id,
                "hookInstance": result.hook_instance,
                "status": result.status,
                "ms": elapsed,
                "cards": list(result.topics),
                "gaps": list(result.gaps),
                "failures": list(result.failures),
                **g.get("cds_client", {}),
            }
        )
        mimetype = "application/json" if result.status == 200 else FHIR_JSON
        return _json(result.body, result.status, mimetype)

    @bp.route(PREFIX + "/<path:rest>", methods=ALL_METHODS)
    def unknown(rest: str) -> Response:
        return _outcome(404, "not found", "not-found")

    @bp.route(PREFIX + "/<service_id>/feedback", methods=ALL_METHODS)
    def feedback(service_id: str) -> Response:
        if request.method != "POST":
            return not_allowed("POST, OPTIONS")
        refused = authenticate()
        if refused is not None:
            return refused
        if service_id not in SERVICES:
            return _outcome(404, "no CDS service with this id", "not-found")
        try:
            # "In the future" is judged against the later of the real and the pinned clock: EHRs (the demo's
            # too) stamp outcomes with the real time even when PAINPLAN_TODAY pins the evaluation date.
            items = parse_feedback(read_json(), max(settings.evaluation_now(), datetime.now(UTC)))
            # Refuses a reason the card did not offer before storing any item.
            counts = apply_feedback(engine, service_id, items, settings.guideline, settings.evaluation_now())
        except RequestError as error:
            return _outcome(error.status, error.message, error.code)
        _prune(engine, settings.evaluation_now())
        _log({"event": "feedback", "service": service_id, **counts})
        return _json({})

    return bp


def _read_exactly(stream: Any, length: int) -> bytearray:
    """A body of known length, read into one buffer of that length (werkzeug's read() grows one in 64 kB steps
    and copies the body four times over); shorter if the stream ends early, as read() would be."""
    body = bytearray(length)
    filled = 0
    with memoryview(body) as view:
        while filled < length:
            count = stream.readinto(view[filled:])
            if not count:
                break
            filled += count
    del body[filled:]
    return body


def _prune(engine: Engine, now: datetime) -> None:
    """Drop cards past their retention; done at start-up and on feedback, both rare next to hook calls."""
    try:
        store.prune(engine, now)  # the service's clock: PAINPLAN_TODAY pins issue dates too
    except Exception:  # noqa: BLE001 - housekeeping must never fail a request or the start-up
        log.warning("pruning old CDS records failed", exc_info=True)


def _peek_claims(authorization: str | None) -> dict[str, Any]:
    """iss, tenant and jti of a refused token for the log (unverified; the token itself is never logged)."""
    try:
        from joserfc import jws

        token = (authorization or "").split(" ", 1)[1].strip()
        claims = json.loads(jws.extract_compact(token.encode("ascii")).payload)
        return {k: str(claims[k])[:200] for k in ("iss", "tenant", "jti") if isinstance(claims, dict) and k in claims}
    except Exception:  # noqa: BLE001 - a garbage token simply has nothing to log
        return {}
