"""The FHIR search text both faces build alike: a prefetch template's tokens filled in (the hooks' FHIR fallback and
the plan page), and the site's own urine drug test search (`prefetch.uds_query`), which the card and the plan page
both run, so one never finds a test the other does not."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Protocol
from urllib.parse import quote

from guideline.timeutil import months_before


class SettingsTable(Protocol):
    """The clinical settings as the searches read them (a GuidelineConfig): by table name. Typed by shape, not by
    importing guideline.config, whose rules import this module."""

    def __getitem__(self, key: str) -> Any: ...


@dataclass(frozen=True)
class SecondDate:
    """A dated search asked again on another date parameter, because the engine dates its resources by an element
    the first search's parameter does not match; a resource both answers return counts once (by type and id)."""

    parameter: str  # the first search's date parameter, as written in its query ("whenhandedover=")
    instead: str  # the parameter the second search bounds by ("whenprepared=")
    what: str  # what only the second search finds ("fills dated only by when they were prepared")

    def of(self, query: str) -> str | None:
        """The second search of a dated query, or None when the query is not bounded by this parameter."""
        return query.replace(self.parameter, self.instead) if self.parameter in query else None

    def unbounded(self, query: str) -> str | None:
        """The second search without its date bound (the patient and the rest of the query kept), asked when a
        server refuses the second search's parameter; None when the query is not bounded by it."""
        path, mark, search = query.partition("?")
        name = self.instead.strip("&=")
        items = search.split("&")
        kept = [item for item in items if item.partition("=")[0] != name]
        if not mark or len(kept) == len(items):
            return None
        return f"{path}?{'&'.join(kept)}"


@dataclass(frozen=True)
class AskedAgain:
    """A second search the server refused as asked, to be asked once more without its date bound; both faces (the
    hooks' gather and the plan page) ask it and name it failing again through this, so they say the same."""

    query: str  # the refused search without its date bound (SecondDate.unbounded)
    refused: str  # why the server refused the search as first asked

    def failed(self, why: str | None) -> str:
        """The sentence naming the search asked again when it failed too: why it was refused, then why again."""
        return f"{self.refused}; asked again without its date bound, {why or 'could not be read'}"


def ask_again(second: SecondDate, query: str, why: str | None) -> AskedAgain | None:
    """What to ask once more when the server refused `second`'s search `query` as asked (`why`); None when the
    query has no such date bound to take off. The faces decide what counts as refused (their HTTP)."""
    unbounded = second.unbounded(query)
    return None if unbounded is None else AskedAgain(unbounded, why or "refused")


# A FHIR server matches `whenhandedover` on MedicationDispense.whenHandedOver alone, but the engine dates a fill by
# when it was handed over, else when it was prepared (guideline/fills.py); `whenprepared` is the R4 parameter on
# whenPrepared. Observation `date` matches effective[x] alone, but the engine dates a result by effective[x], else
# `issued`, which R4 defines no search parameter for: `_lastUpdated` (meta.lastUpdated, a parameter of every
# resource) bounds it instead, since a result issued in the window was last changed in it or after. A server that
# ignores a parameter it does not support answers the second search unbounded: more to read, never less. A server
# that refuses it instead (HTTP 400, or a warning that it did not understand a parameter, with nothing found) is
# asked once more without the date bound (`ask_again`), for the same reason: named missing, those fills and results
# were noise on every call at that site, and a blind spot. The hooks' dated prefetch (cds_hooks.services) and the
# plan page (smart_app.plan_view) both make these second searches.
FILLS_PREPARED = SecondDate("whenhandedover=", "whenprepared=", "fills dated only by when they were prepared")
RESULTS_ISSUED = SecondDate("&date=", "&_lastUpdated=", "results dated only by when they were issued")


_TOKEN = re.compile(r"\{\{\s*([^{}]+?)\s*\}\}")
_TODAY = re.compile(r"^today\(\)\s*(?:-\s*(\d+)\s*(day|days|year|years|month|months))?$")
USER_TOKENS = {
    "userPractitionerId": "Practitioner/",
    "userPractitionerRoleId": "PractitionerRole/",
    "userPatientId": "Patient/",
    "userRelatedPersonId": "RelatedPerson/",
}


def _segment(value: str) -> str | None:
    """A value as one URL path segment; "." and ".." would be path steps ("Patient/." is a search of all)."""
    text = quote(value.strip(), safe="-._~")
    return text if text and text not in (".", "..") else None


def render(template: str, context: Mapping[str, Any], today: date) -> str | None:
    """Fill a template's tokens with concrete values; None when a token cannot be filled (skip the key)."""
    missing = False

    def fill(match: re.Match[str]) -> str:
        nonlocal missing
        token = match.group(1)
        if token.startswith("context."):
            value = context.get(token[len("context.") :])
            if isinstance(value, (str, int)) and not isinstance(value, bool):
                segment = _segment(str(value))
                if segment is not None:
                    return segment
        elif token in USER_TOKENS:
            user = context.get("userId")
            if isinstance(user, str) and user.startswith(USER_TOKENS[token]):
                segment = _segment(user[len(USER_TOKENS[token]) :])
                if segment is not None:
                    return segment
        else:
            dated = _TODAY.match(token)
            if dated:
                amount, unit = int(dated.group(1) or 0), dated.group(2) or "days"
                if unit.startswith("day"):
                    return (today - timedelta(days=amount)).isoformat()
                months = amount * 12 if unit.startswith("year") else amount
                return months_before(today, months).isoformat()
        missing = True
        return ""

    rendered = _TOKEN.sub(fill, template)
    return None if missing else rendered


# The codes of a documented PDMP review asked for by Observation search (the hooks' `pdmpObs`, the plan page's coded
# scores), each face adding the site's own (`pdmp.review_codes`).
PDMP_CODES = "http://snomed.info/sct|461651000124104,http://snomed.info/sct|461621000124108"

# What the plan page knows when it builds its searches: the patient and today, no encounter or user.
PAGE_CONTEXT_CHECK = {"patientId": "p"}


def site_uds_query(config: SettingsTable) -> str | None:
    """The site's own template for the urine drug test search (`prefetch.uds_query`), or None to search the
    laboratory category. The hooks publish it in place of `udsLabs` and the plan page runs it in place of its
    laboratory search."""
    template = config["prefetch"].get("uds_query")
    return template if isinstance(template, str) and template.strip() else None


def uds_query_error(template: object) -> str | None:
    """Why a `prefetch.uds_query` cannot be run by both faces, or None: the plan page fills in only the patient and
    dates, so a token such as {{context.encounterId}} would leave it asking something the card does not."""
    if not isinstance(template, str) or not template.strip():
        return None
    if render(template, PAGE_CONTEXT_CHECK, date(2000, 1, 1)) is None:
        return (
            "prefetch.uds_query may use only {{context.patientId}} and {{today() - N days|months|years}}: the plan "
            f"page runs the same search and has no other context, not {template!r}"
        )
    return None
