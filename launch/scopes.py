"""The scopes we request and read back: v2 (`.rs`, `.c`, `.u`) when the server advertises permission-v2, else v1."""

from __future__ import annotations

from urllib.parse import urlsplit

from guideline.config import GuidelineConfig
from guideline.exclusions import hospice_place_days
from guideline.record import READ_RESOURCE_TYPES
from launch.discovery import SmartConfiguration

# Everything the plan view reads (read + search); Goal is read for the goals the clinician sets on the page.
PLAN_RESOURCES: tuple[str, ...] = tuple(dict.fromkeys((*READ_RESOURCE_TYPES, "Goal")))
# Organisation data the page reads by id only, outside the Patient compartment (so a patient/ scope does not cover it
# in SMART's terms): the Locations of recent visits' places, whose type may say a stay was at a hospice. Asked for as
# the user, read only (v2 `.r`: no search; v1 has no finer grain than `.read`), and only where the page reads them.
USER_READS: tuple[str, ...] = ("Location",)
# What the page writes when the EHR allows it, and how: Goal and CarePlan are updated in place, the rest created.
WRITE_RESOURCES: dict[str, str] = {
    "Observation": "c",  # a PEG score
    "Goal": "cu",  # pain and function goals
    "Consent": "c",  # treatment agreement, informed consent
    "CarePlan": "cu",  # the decision and the plan
    "DocumentReference": "c",  # the note
}
# Path segments (lower case) of a FHIR base naming a release other than R4/R4B, whose records PainPlan does not write:
# Epic's …/api/FHIR/STU3 and …/DSTU2, Oracle Health's /dstu2/<tenant>, HAPI's /baseDstu3, the SMART sandbox's /v/r3/.
OTHER_RELEASE_BASES = {
    "dstu1": "DSTU1",
    "dstu2": "DSTU2",
    "basedstu2": "DSTU2",
    "r2": "DSTU2",
    "stu3": "STU3",
    "dstu3": "STU3",
    "basedstu3": "STU3",
    "r3": "STU3",
    "r5": "R5",
    "baser5": "R5",
}
# online_access: a refresh token for the length of the user's session; we never ask for offline_access.
IDENTITY_SCOPES: tuple[str, ...] = ("openid", "fhirUser", "online_access")


def user_reads(config: GuidelineConfig) -> tuple[str, ...]:
    """The organisation data the plan page reads by id as the user with this configuration: the Locations of recent
    visits' places only where the hospice exclusion reads them (`hospice_place_days`), else none, so none is asked."""
    return USER_READS if hospice_place_days(config) is not None else ()


def resource_scopes(
    v2: bool, extra_reads: tuple[str, ...] = (), user_types: tuple[str, ...] = USER_READS
) -> tuple[str, ...]:
    """Read scopes for what the plan view reads, and the types the site turned on (`extra_reads`); then the
    organisation data it reads by id (`user_types`, from `user_reads`)."""
    suffix = "rs" if v2 else "read"
    patient = tuple(f"patient/{resource}.{suffix}" for resource in dict.fromkeys((*PLAN_RESOURCES, *extra_reads)))
    return patient + tuple(f"user/{resource}.{'r' if v2 else 'read'}" for resource in user_types)


def release_named_in_base(base_url: str) -> str | None:
    """The FHIR release a base address's path names when it is not R4 ("STU3"); None when it names R4 or none."""
    for segment in _base_segments(base_url):
        if segment in OTHER_RELEASE_BASES:
            return OTHER_RELEASE_BASES[segment]
    return None


# Base path segments that name R4 (Epic's …/api/FHIR/R4, Oracle Health's /r4/…, HAPI's /baseR4): the version is known.
R4_BASES = frozenset({"r4", "baser4", "r4b", "baser4b"})


def r4_named_in_base(base_url: str) -> bool:
    """The base address's path names R4 (…/api/FHIR/R4), which says the version with no request."""
    return any(segment in R4_BASES for segment in _base_segments(base_url))


def _base_segments(base_url: str) -> list[str]:
    """A FHIR base address's path segments, in lower case: where a release is named, if anywhere."""
    return urlsplit(base_url).path.lower().split("/")


def write_scopes(v2: bool) -> tuple[str, ...]:
    """Only the types and interactions the write-back forms use (v1 has no finer grain than `.write`)."""
    return tuple(f"patient/{kind}.{rights if v2 else 'write'}" for kind, rights in WRITE_RESOURCES.items())


def requested_scope(
    config: SmartConfiguration,
    *,
    ehr_launch: bool,
    override: str | None = None,
    write: bool = False,
    extra_reads: tuple[str, ...] = (),
    user_types: tuple[str, ...] = USER_READS,
) -> str:
    """One dialect per request (never v1 and v2 mixed); `override` replaces the resource scopes only."""
    context = "launch" if ehr_launch else "launch/patient"
    if override:
        resources = override.split()
    else:
        resources = list(resource_scopes(config.permission_v2, extra_reads, user_types))
        if write:
            resources += write_scopes(config.permission_v2)
    parts = [context, *IDENTITY_SCOPES, *resources]
    return " ".join(dict.fromkeys(p for p in parts if p))


def _rights(permissions: str) -> set[str]:
    """'create'/'update' granted by one scope's permission part: v1 write/*, or v2 letters from c-r-u-d-s."""
    lowered = permissions.lower()  # some EHRs capitalise ("Write")
    if lowered in ("write", "*"):
        return {"create", "update"}
    if lowered.startswith("read") or not set(lowered) <= set("cruds"):
        return set()
    return {name for letter, name in (("c", "create"), ("u", "update")) if letter in lowered}


def granted_writes(scope: str) -> dict[str, frozenset[str]]:
    """Per resource type we write, the interactions the granted scope allows (patient/ or user/, `*` types).

    v2 query-narrowed scopes (`patient/Observation.c?category=…`) are not counted: we cannot be sure our
    resource fits the narrowing, and a refused write is worse than an offered copy-as-note."""
    granted: dict[str, set[str]] = {kind: set() for kind in WRITE_RESOURCES}
    for token in scope.split():
        if "?" in token or "/" not in token:
            continue
        context, _, rest = token.partition("/")
        if context not in ("patient", "user") or "." not in rest:
            continue
        kind, _, permissions = rest.partition(".")
        rights = _rights(permissions)
        for name in granted:
            if kind in (name, "*"):
                granted[name] |= rights
    return {kind: frozenset(rights) for kind, rights in granted.items() if rights}
