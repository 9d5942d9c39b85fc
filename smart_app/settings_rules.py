"""Range and consistency rules for the service settings; each error names the PAINPLAN_* key (or the command-line
option the value was typed as) and the reason."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit

from cds_hooks.ehr_release import AUTO, R4, SETTING_VALUES, STU3, setting_value
from guideline.config import ConfigError
from guideline.fhirdata import evaluation_day_problem
from smart_app.settings_fields import ENV_PREFIX, SettingsFields

log = logging.getLogger(__name__)

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
FRAME_KEYWORDS = ("'self'", "'none'")
# A CSP host-source (scheme, wildcard subdomain and wildcard port allowed); no spaces, quotes or semicolons, which
# would let a setting add directives to the header.
NONE_TYPED: Mapping[str, str] = MappingProxyType({})
FRAME_SOURCE = re.compile(r"^(?:https?:|(?:https?://)?(?:\*\.)?[A-Za-z0-9.-]+(?::(?:\d{1,5}|\*))?(?:/[^\s;,']*)?)$")


def check_today(day: date, key: str) -> None:
    """An evaluation date every window can count back from, or a ConfigError naming `key` (--today, PAINPLAN_TODAY)."""
    problem = evaluation_day_problem(day)
    if problem:
        raise ConfigError(f"{key} {problem}")


def _key(name: str) -> str:
    return ENV_PREFIX + name.upper()


def _url_problem(value: str, schemes: tuple[str, ...] = ("http", "https")) -> str | None:
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - a port that is not a number raises here
    except ValueError as error:
        return f"is not a URL ({error})"
    if parts.scheme not in schemes or not parts.hostname:
        return f"must be an {' or '.join(schemes)} URL with a host, not {value!r:.60}"
    return None


def _range(name: str, value: float, low: float, high: float, typed_as: Mapping[str, str] = NONE_TYPED) -> None:
    if not low <= value <= high:
        bounds = f"must be between {_shown(low)} and {_shown(high)}"
        if name in typed_as:
            raise ConfigError(f"{typed_as[name]} {_shown(value)}: {bounds}")
        raise ConfigError(f"{_key(name)} {bounds}, not {_shown(value)}")


def _shown(number: float) -> str:
    """A whole number as written (1073741824, not 1.07374e+09, which is rounded); a fraction as short as it reads."""
    return str(number) if isinstance(number, int) else f"{number:g}"


def _existing_file(name: str, value: str) -> None:
    if value and not Path(value).is_file():
        raise ConfigError(f"{_key(name)}: no such file {value}")


def validate(settings: SettingsFields, typed_as: Mapping[str, str] = NONE_TYPED) -> None:
    """Raise ConfigError for the first setting that is out of range, unreadable or contradicts another; `typed_as`
    names the command-line option a setting's value was typed as ({"port": "--port"}), which its error then names:
    the user typed no PAINPLAN_* variable and would look for one in vain."""
    if settings.auth not in ("required", "off"):
        raise ConfigError(f"{_key('auth')} must be required or off, not {settings.auth!r}")
    # Before public_url: the demo makes its URL from the port, and an impossible port is named as the port.
    _range("port", settings.port, 1, 65535, typed_as)
    problem = _url_problem(settings.public_url)
    if problem:
        raise ConfigError(f"{_key('public_url')} {problem}")
    if settings.public_url.startswith("http://") and not settings.allow_http and not _is_local(settings.public_url):
        # EHRs send their signed JWTs and fhirAuthorization bearer tokens to this URL: in clear text on a network
        # they could be read and replayed. A proxy terminating TLS in front has an https public_url.
        raise ConfigError(
            f"{_key('public_url')} is plain http on a non-local host: EHRs would send their tokens in clear text; "
            f"use the https URL clients reach PainPlan at, or set {_key('allow_http')} for a test network"
        )
    if settings.smart_default_iss:
        problem = _url_problem(settings.smart_default_iss)
        if problem:
            raise ConfigError(f"{_key('smart_default_iss')} {problem}")
    for origin in settings.cors_origins:
        if origin != "*" and _url_problem(origin):
            raise ConfigError(f"{_key('cors_origins')}: {origin!r:.60} is not * or an http(s) origin")
    for source in settings.frame_ancestors:
        if source not in FRAME_KEYWORDS and not FRAME_SOURCE.match(source):
            raise ConfigError(f"{_key('frame_ancestors')}: {source!r:.60} is not 'self', 'none' or a CSP source")
    _range("workers", settings.workers, 1, 64, typed_as)
    _range("threads", settings.threads, 1, 64)
    _range("fhir_timeout", settings.fhir_timeout, 0.1, 60)
    _range("read_timeout", settings.read_timeout, 0.5, 300)
    _range("queue_patience", settings.queue_patience, 0.05, 60)
    _range("max_body_bytes", settings.max_body_bytes, 1024, 1024**3)
    _range("fhir_budget_bytes", settings.fhir_budget_bytes, 64 * 1024, 4 * 1024**3)
    # 0 reads every Location on every call; past a week a department retyped as hospice would go unseen too long.
    _range("location_cache_seconds", settings.location_cache_seconds, 0, 7 * 24 * 3600)
    # Whole years (an integer setting); beyond these a typed date is a mistyped year, not a plan.
    _range("goal_due_years", settings.goal_due_years, 1, 10)
    _range("follow_up_years", settings.follow_up_years, 1, 5)
    if settings.today is not None:
        check_today(settings.today, _key("today"))
    if setting_value(settings.ehr_fhir_version) is None:
        allowed = ", ".join(SETTING_VALUES[:-1]) + f" or {SETTING_VALUES[-1]}"
        raise ConfigError(f"{_key('ehr_fhir_version')} must be {allowed}, not {settings.ehr_fhir_version!r:.40}")
    if not settings.host.strip():
        named = f"{typed_as['host']} {settings.host!r}:" if "host" in typed_as else _key("host")
        raise ConfigError(f"{named} must not be empty")
    if settings.log_level.upper() not in LOG_LEVELS:
        raise ConfigError(f"{_key('log_level')} must be one of {', '.join(LOG_LEVELS)}, not {settings.log_level!r}")
    for name in ("metrics_token", "population_token"):
        if 0 < len(getattr(settings, name)) < 16:
            raise ConfigError(f"{_key(name)} must be at least 16 characters")
    if settings.population_root and not Path(settings.population_root).is_dir():
        raise ConfigError(f"{_key('population_root')}: {settings.population_root} is not a folder")
    if settings.instance_path and Path(settings.instance_path).exists() and not Path(settings.instance_path).is_dir():
        raise ConfigError(f"{_key('instance_path')}: {settings.instance_path} is not a folder")
    _database_url(settings.database_url)
    _existing_file("trusted_clients", settings.trusted_clients)
    _existing_file("smart_clients", settings.smart_clients)
    _existing_file("population_export_clients", settings.population_export_clients)
    _client_files(settings)
    _site_templates(
        settings.guideline["checks"]["oud-treatment"]["suggestions"], setting_value(settings.ehr_fhir_version) or AUTO
    )


def _site_templates(templates: list[Mapping[str, Any]], setting: str) -> None:
    """A site's suggestion template R4's model refuses is never offered, nor one the model of the release the site
    names refuses to its EHR: stop naming it, not on every card. With the release read per call (auto), one STU3
    refuses is still offered to an R4 EHR: warn naming it, before the first STU3 call leaves it out."""
    if not templates:
        return
    from cds_hooks.cards import template_refusal  # the models come with it: not loaded for a site with no templates

    # Auto checks STU3 as well, the one release besides R4 PainPlan writes (template_refusal passes one it does not).
    release = STU3 if setting == AUTO else setting
    for number, template in enumerate(templates, start=1):
        where = f"checks.oud-treatment.suggestions entry {number} is no {template.get('resourceType')}"
        refused = template_refusal(template)
        if refused is not None:
            raise ConfigError(
                f"{where} FHIR R4 takes, as PainPlan addresses it to the patient, visit and time: R4 refuses {refused}"
            )
        refused = template_refusal(template, release) if release != R4 else None
        if refused is None:
            continue
        said = f"{where} FHIR {release} takes, as PainPlan writes it for an {release} EHR: {release} refuses {refused}"
        if setting != AUTO:
            raise ConfigError(f"{said}; {_key('ehr_fhir_version')} is {release}")
        # Logged, not raised: an R4 EHR is offered it, and each STU3 call's card names it as not offered.
        log.warning(
            "%s; %s is auto, so the calls read as %s are not offered it", said, _key("ehr_fhir_version"), release
        )


def _database_url(value: str) -> None:
    if not value:
        return
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        make_url(value)
    except (ArgumentError, ValueError) as error:
        raise ConfigError(f"{_key('database_url')} is not a database URL ({type(error).__name__})") from error


def _client_files(settings: SettingsFields) -> None:
    """Both client files are read now, so a broken one stops every command, not the first call or launch."""
    from cds_hooks.auth import load_trusted_clients
    from launch.clients import load_clients

    try:
        load_trusted_clients(settings.trusted_clients)
    except ValueError as error:
        raise ConfigError(f"{_key('trusted_clients')}: {error}") from error
    try:
        load_clients(settings.smart_clients)
    except ConfigError as error:
        raise ConfigError(f"{_key('smart_clients')}: {error}") from error


def _is_local(url: str) -> bool:
    return urlsplit(url).hostname in ("127.0.0.1", "localhost", "::1")
